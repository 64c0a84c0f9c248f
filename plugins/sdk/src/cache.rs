//! The plugin's persistent store, kept by the host (`cache-get`,
//! `cache-put` in the contract). Entries may be missing at any time: use it
//! for work that can always be redone, keyed by the version of its inputs.
//!
//! Natively (tests, the harness) the store is an in-memory map per thread,
//! emptied by [`crate::testing::clear_cache`].

/// Whether the host keeps what [`put`] stores.
pub fn enabled() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::portcullis::plugin::host::cache_enabled()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        true
    }
}

pub fn get(key: &str) -> Option<Vec<u8>> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::bindings::portcullis::plugin::host::cache_get(key)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        crate::testing::cache_get(key)
    }
}

pub fn put(key: &str, value: &[u8]) {
    #[cfg(target_arch = "wasm32")]
    crate::bindings::portcullis::plugin::host::cache_put(key, value);
    #[cfg(not(target_arch = "wasm32"))]
    crate::testing::cache_put(key, value);
}
