//! On-disk cache of compiled plugins, so a warm run does not recompile.
//!
//! Keyed by the component's sha256, the wasmtime version and the engine's
//! compatibility hash (target, tunables, features). Each artifact carries the
//! sha256 of its own bytes in a header written by this module; an artifact
//! whose header or checksum does not verify is never deserialized, and is
//! recompiled and rewritten. The cache directory is created private (0700)
//! and not used if others can write to it.

use std::hash::{Hash, Hasher};
use std::io::Write;
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
    /// The cache at `$PORTCULLIS_CACHE_DIR`, else `$XDG_CACHE_HOME/portcullis`,
    /// else `~/.cache/portcullis`. `PORTCULLIS_CACHE_DIR=off` disables it.
    pub fn from_env(engine: &Engine) -> Option<Cache> {
        let dir = match std::env::var_os("PORTCULLIS_CACHE_DIR") {
            Some(v) if v == "off" => return None,
            Some(v) => PathBuf::from(v),
            None => match std::env::var_os("XDG_CACHE_HOME") {
                Some(x) if !x.is_empty() => PathBuf::from(x).join("portcullis"),
                _ => PathBuf::from(std::env::var_os("HOME")?)
                    .join(".cache")
                    .join("portcullis"),
            },
        };
        Cache::at(dir, engine)
    }

    pub fn at(dir: PathBuf, engine: &Engine) -> Option<Cache> {
        if create_private_dir(&dir).is_err() || !is_private(&dir) {
            return None;
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        WASMTIME_VERSION.hash(&mut h);
        engine.precompile_compatibility_hash().hash(&mut h);
        Some(Cache {
            dir,
            engine_key: format!("{:016x}", h.finish()),
        })
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
        let path = self.path(wasm_sha256);
        let tmp = self
            .dir
            .join(format!(".{}.{}.tmp", wasm_sha256, std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(MAGIC)?;
            f.write_all(sha256_hex(&payload).as_bytes())?;
            f.write_all(b"\n")?;
            f.write_all(&payload)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        if write().is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// Not writable by group or others (and, on Unix, owned by the user who
/// owns the home-relative files we create: checked by creating a probe).
#[cfg(unix)]
fn is_private(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(dir) else {
        return false;
    };
    if meta.mode() & 0o022 != 0 {
        return false;
    }
    // The directory must belong to us: compare with a file we create now.
    let probe = dir.join(format!(".owner-probe.{}", std::process::id()));
    let ours = std::fs::File::create(&probe)
        .and_then(|f| f.metadata())
        .map(|m| m.uid());
    let _ = std::fs::remove_file(&probe);
    ours.is_ok_and(|uid| uid == meta.uid())
}

#[cfg(not(unix))]
fn is_private(_dir: &Path) -> bool {
    true
}
