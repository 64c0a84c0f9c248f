//! The memory cap: all of an instance's memories together, not each one.

use wasmtime::ResourceLimiter;

/// Caps the total size of all memories of the instance, not each one.
pub(super) struct Limiter {
    pub(super) cap: usize,
    pub(super) total: usize,
    pub(super) hit: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grow = desired.saturating_sub(current);
        if self.total.saturating_add(grow) > self.cap {
            self.hit = true;
            return Ok(false);
        }
        self.total += grow;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        16
    }
}
