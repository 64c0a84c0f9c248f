//! On-disk cache of compiled plugins, so a warm run does not recompile.
//!
//! Keyed by the component's sha256, the wasmtime version and the engine's
//! compatibility hash (target, tunables, features). Each artifact carries the
//! sha256 of its own bytes in a header written by this module; an artifact
//! whose header or checksum does not verify is never deserialized, and is
//! recompiled and rewritten. The directory is the private one from
//! [`crate::cache::dir`].

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;

use crate::plugins::sha256_hex;
use wasmtime::component::Component;

const MAGIC: &[u8] = b"PORTCULLIS-CWASM-1\n";
const WASMTIME_VERSION: &str = "48.0.8";

pub struct Cache {
    dir: PathBuf,
    engine_key: String,
}

impl Cache {
    /// The compiled-plugin cache under the cache directory (see
    /// [`crate::cache::dir`]).
    pub fn at(root: &Path, engine: &Engine) -> Cache {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        WASMTIME_VERSION.hash(&mut h);
        engine.precompile_compatibility_hash().hash(&mut h);
        Cache {
            dir: root.to_path_buf(),
            engine_key: format!("{:016x}", h.finish()),
        }
    }

    fn path(&self, wasm_sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{wasm_sha256}-{}.cwasm", self.engine_key))
    }

    /// A compiled component, if a verified artifact is cached.
    pub fn load(&self, engine: &Engine, wasm_sha256: &str) -> Option<Component> {
        let bytes = std::fs::read(self.path(wasm_sha256)).ok()?;
        let rest = bytes.strip_prefix(MAGIC)?;
        if rest.len() < 65 || rest[64] != b'\n' {
            return None;
        }
        let (sum, payload) = (&rest[..64], &rest[65..]);
        if sum != sha256_hex(payload).as_bytes() {
            return None;
        }
        // SAFETY: the payload was produced by `Component::serialize` in
        // `store` below (the checksum header is ours and verified above), for
        // an engine with the same compatibility hash; wasmtime additionally
        // checks version and settings and errors out on a mismatch.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, payload) };
        component.ok()
    }

    /// Store a compiled component; failures only cost a recompile next time.
    pub fn store(&self, wasm_sha256: &str, component: &Component) {
        let Ok(payload) = component.serialize() else {
            return;
        };
        let sum = sha256_hex(&payload);
        crate::cache::write_atomic(
            &self.path(wasm_sha256),
            &[MAGIC, sum.as_bytes(), b"\n", &payload],
        );
    }
}
