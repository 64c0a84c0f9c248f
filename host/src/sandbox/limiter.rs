//! The memory cap: all of an instance's memories and tables together, not
//! each one. A table element counts as [`TABLE_ELEMENT_BYTES`], what the
//! host allocates for it.

use wasmtime::ResourceLimiter;

/// Host bytes per table element (a pointer-sized function reference).
const TABLE_ELEMENT_BYTES: usize = 8;

/// Caps the total size of all memories and tables of the instance.
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
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grow = desired
            .saturating_sub(current)
            .saturating_mul(TABLE_ELEMENT_BYTES);
        if desired > 1_000_000 || self.total.saturating_add(grow) > self.cap {
            self.hit = true;
            return Ok(false);
        }
        self.total += grow;
        Ok(true)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_count_toward_the_memory_cap() {
        let mut l = Limiter {
            cap: 16 << 20,
            total: 0,
            hit: false,
        };
        // 1 MiB of memory, then tables up to the cap: 8 bytes an element.
        assert!(l.memory_growing(0, 1 << 20, None).expect("limiter"));
        assert!(l.table_growing(0, 1_000_000, None).expect("limiter"));
        assert!(l.table_growing(0, 900_000, None).expect("limiter"));
        assert!(
            !l.table_growing(0, 100_000, None).expect("limiter"),
            "over 16 MiB"
        );
        assert!(l.hit);
        assert!(!l.memory_growing(0, 1 << 20, None).expect("limiter"));
    }
}
