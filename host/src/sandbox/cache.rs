//! On-disk cache of compiled plugins, so a warm run does not recompile.
//!
//! Keyed by the component's sha256, the wasmtime version and the engine's
//! compatibility hash (target, tunables, features). Each artifact
//! (`<sha256>-<engine>.cwasm`, exactly what `Component::serialize` wrote)
//! has a sum file beside it (`.sum`) written by this module: the BLAKE3 hash
//! of the component digest, the engine key and the artifact's bytes
//! together, so an artifact is bound to the component it was compiled from
//! (one plugin's artifact copied over another's name does not verify). An
//! artifact whose sum does not verify is never loaded, and is recompiled and
//! rewritten. A verified artifact is mapped, not copied ([`map_verified`]):
//! a warm run reads each artifact once, to check it, and the code pages it
//! runs come straight from the page cache. The directory is the private one
//! from [`crate::cache::dir`].

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::Engine;

use crate::digest::sha256_hex;
use wasmtime::component::Component;

const MAGIC: &[u8] = b"PORTCULLIS-CWASM-5\n";
const WASMTIME_VERSION: &str = "48.0.8";

/// The compiled artifact at `path`, checked and mapped: its BLAKE3 under
/// `hasher` (keyed and fed its prefix by the caller) must be `expected`,
/// else the checksum its sum file (`sum_path`) records.
///
/// The file is opened once: checked, then mapped by its descriptor
/// (`/proc/self/fd`, on Linux), so what is mapped is the file that was
/// checked — the cache replaces files by renaming new ones in, never by
/// writing into them. Mapping instead of reading into memory and copying
/// into executable memory saves, per plugin and run, a copy of several MiB
/// and the page faults of fresh memory: the code pages come from the page
/// cache as they run.
///
/// The sum file also records the file's stamp (device, inode, size,
/// modification and change times) when its checksum last verified: while
/// the file's stamp is that one, it was not written to, replaced or copied
/// over since (a change time cannot be set back), and it is not read and
/// hashed again. Any other stamp means a full check, which, when it
/// passes, records the new stamp.
pub(super) fn map_verified(
    engine: &Engine,
    path: &Path,
    sum_path: &Path,
    mut hasher: blake3::Hasher,
    expected: Option<&str>,
) -> Option<Component> {
    let recorded = read_sum(sum_path);
    let expected = match (expected, &recorded) {
        (Some(e), _) => e.to_string(),
        (None, Some(sum)) => sum.checksum.clone(),
        (None, None) => return None,
    };
    let file = crate::files::open_regular(path).ok()?;
    let meta = file.metadata().ok()?;
    if meta.len() > MAX_ARTIFACT_BYTES {
        return None;
    }
    let now = crate::files::stamp(&meta);
    let unchanged = recorded
        .as_ref()
        .is_some_and(|sum| sum.checksum == expected && now.as_ref() == Some(&sum.stamp));
    if !unchanged {
        hasher.update_reader(&file).ok()?;
        if hasher.finalize().to_hex().as_str() != expected {
            return None;
        }
        if let Some(now) = &now {
            write_sum(sum_path, &expected, now);
        }
    }
    let load = |at: &Path| {
        // SAFETY: the file is one this module or `precompiled` wrote from
        // `Component::serialize` or `Engine::precompile_component` (its
        // checksum, verified above or under the same stamp, binds it to the
        // component's digest); wasmtime additionally checks version and
        // settings and errors out on a mismatch. Cache files are replaced
        // by rename, never modified in place, so the mapping does not
        // change under the component.
        #[allow(unsafe_code)]
        unsafe {
            Component::deserialize_file(engine, at)
        }
    };
    #[cfg(target_os = "linux")]
    if Path::new("/proc/self/fd").is_dir() {
        use std::os::fd::AsRawFd;
        let by_descriptor = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        return load(&by_descriptor).ok();
    }
    // Elsewhere (or without /proc): by path. The cache directory is
    // private; a file renamed in meanwhile is another verified artifact.
    load(path).ok()
}

/// A sum file's content: the artifact's checksum, and the stamp of the
/// file it last verified on.
struct Sum {
    checksum: String,
    stamp: String,
}

fn read_sum(path: &Path) -> Option<Sum> {
    let bytes = crate::files::read(path, 1024).ok()?;
    let text = std::str::from_utf8(bytes.strip_prefix(MAGIC)?).ok()?;
    let mut lines = text.lines();
    Some(Sum {
        checksum: lines.next()?.to_string(),
        stamp: lines.next().unwrap_or_default().to_string(),
    })
}

/// Write a sum file; a failed write only costs a full check next time.
fn write_sum(path: &Path, checksum: &str, stamp: &str) {
    let text = format!("{checksum}\n{stamp}\n");
    let _ = crate::cache::replace(path, &[MAGIC, text.as_bytes()], false);
}

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

    fn sum_path(&self, wasm_sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{wasm_sha256}-{}.sum", self.engine_key))
    }

    /// The hasher of an artifact's sum, fed the digest of the component it
    /// was compiled from and the engine key: the artifact's bytes follow.
    /// BLAKE3 (with the SIMD the CPU has): checking a few MiB of artifact
    /// takes well under a millisecond, where SHA-256 without SHA extensions
    /// took most of a warm run.
    fn hasher(&self, wasm_sha256: &str) -> blake3::Hasher {
        let mut h = blake3::Hasher::new_derive_key("portcullis compiled-plugin artifact v4");
        h.update(wasm_sha256.as_bytes());
        h.update(&[0]);
        h.update(self.engine_key.as_bytes());
        h.update(&[0]);
        h
    }

    /// A compiled component, if a verified artifact is cached.
    pub fn load(&self, engine: &Engine, wasm_sha256: &str) -> Option<Component> {
        map_verified(
            engine,
            &self.path(wasm_sha256),
            &self.sum_path(wasm_sha256),
            self.hasher(wasm_sha256),
            None,
        )
    }

    /// Store a compiled component; failures only cost a recompile next time.
    pub fn store(&self, wasm_sha256: &str, component: &Component) {
        let Ok(artifact) = component.serialize() else {
            return;
        };
        let sum = self
            .hasher(wasm_sha256)
            .update(&artifact)
            .finalize()
            .to_hex();
        // A failed write only costs a compile next time; so does a sum left
        // from another artifact (it does not verify).
        if crate::cache::write_atomic(&self.path(wasm_sha256), &[&artifact]).is_ok() {
            // Just written: no stamp yet (see `files::stamp`); the first
            // load hashes it.
            write_sum(&self.sum_path(wasm_sha256), &sum, "");
        }
    }
}

/// The persistent store behind the plugin contract's `cache-get` and
/// `cache-put`: one directory per plugin digest, one file per key (named by
/// the key's sha256), each with a checksum header (BLAKE3 of the value); an
/// entry that does not verify is treated as missing.
#[derive(Debug, Clone)]
pub struct PluginData {
    dir: PathBuf,
    writes: usize,
    written: usize,
}

const DATA_MAGIC: &[u8] = b"PORTCULLIS-DATA-2\n";
/// Bytes a plugin may store per call, in total.
pub const MAX_DATA_BYTES: usize = 64 << 20;
/// The largest compiled artifact loaded from the cache.
const MAX_ARTIFACT_BYTES: u64 = 1 << 30;
/// Writes allowed per call.
pub const MAX_DATA_WRITES: usize = 16;
const MAX_KEY_BYTES: usize = 256;

impl PluginData {
    /// The store of the plugin with digest `sha256`, under the cache root.
    pub fn at(root: &Path, sha256: &str) -> PluginData {
        PluginData {
            dir: root.join("plugin-data").join(sha256),
            writes: 0,
            written: 0,
        }
    }

    fn path(&self, key: &str) -> Option<PathBuf> {
        (key.len() <= MAX_KEY_BYTES).then(|| self.dir.join(sha256_hex(key.as_bytes())))
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let bytes = crate::files::read(&self.path(key)?, MAX_DATA_BYTES as u64 + 4096).ok()?;
        let rest = bytes.strip_prefix(DATA_MAGIC)?;
        if rest.len() < 65 || rest[64] != b'\n' {
            return None;
        }
        let (sum, payload) = (&rest[..64], &rest[65..]);
        (sum == blake3::hash(payload).to_hex().as_bytes()).then(|| payload.to_vec())
    }

    /// Store a value; over the limits it is dropped (the plugin recomputes).
    pub fn put(&mut self, key: &str, value: &[u8]) {
        if self.written + value.len() > MAX_DATA_BYTES || self.writes >= MAX_DATA_WRITES {
            return;
        }
        let Some(path) = self.path(key) else { return };
        self.writes += 1;
        self.written += value.len();
        if std::fs::create_dir_all(&self.dir).is_err() {
            return;
        }
        let sum = blake3::hash(value).to_hex();
        // Checked on every read: a lost write is only a miss.
        let _ = crate::cache::replace(&path, &[DATA_MAGIC, sum.as_bytes(), b"\n", value], false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_artifact_is_bound_to_the_component_it_was_compiled_from() {
        let root = tempfile::tempdir().expect("root");
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config).expect("engine");
        let cache = Cache::at(root.path(), &engine);
        let bytes = std::fs::read(env!("PORTCULLIS_TEST_WASM_PROBE")).expect("probe wasm");
        let a = sha256_hex(&bytes);
        let b = "b".repeat(64);
        let component = Component::new(&engine, &bytes).expect("compile");
        cache.store(&a, &component);
        assert!(cache.load(&engine, &a).is_some(), "its own artifact loads");
        // Plugin A's artifact under plugin B's name is not B's code.
        std::fs::copy(cache.path(&a), cache.path(&b)).expect("copy");
        std::fs::copy(cache.sum_path(&a), cache.sum_path(&b)).expect("copy");
        assert!(
            cache.load(&engine, &b).is_none(),
            "a copied artifact does not verify"
        );
        // One flipped byte anywhere in the artifact: not loaded.
        let mut artifact = std::fs::read(cache.path(&a)).expect("artifact");
        let middle = artifact.len() / 2;
        artifact[middle] ^= 1;
        std::fs::write(cache.path(&a), &artifact).expect("write");
        assert!(cache.load(&engine, &a).is_none(), "a corrupted artifact");
        // Stored again, it loads again.
        cache.store(&a, &component);
        assert!(cache.load(&engine, &a).is_some());
    }

    #[test]
    fn an_unchanged_stamp_vouches_and_a_changed_file_is_hashed_again() {
        let root = tempfile::tempdir().expect("root");
        let mut config = wasmtime::Config::new();
        config.wasm_component_model(true);
        let engine = Engine::new(&config).expect("engine");
        let bytes = std::fs::read(env!("PORTCULLIS_TEST_WASM_PROBE")).expect("probe wasm");
        let artifact = Component::new(&engine, &bytes)
            .expect("compile")
            .serialize()
            .expect("serialize");
        let (path, sum) = (root.path().join("a.cwasm"), root.path().join("a.sum"));
        std::fs::write(&path, &artifact).expect("write");
        let expected = blake3::hash(&artifact).to_hex().to_string();
        let load = |expected: &str| {
            map_verified(&engine, &path, &sum, blake3::Hasher::new(), Some(expected)).is_some()
        };
        assert!(load(&expected), "hashed and loaded");
        assert!(read_sum(&sum).is_none(), "written just now: no stamp kept");
        std::thread::sleep(std::time::Duration::from_millis(3100));
        assert!(load(&expected));
        let kept = read_sum(&sum).expect("a stamp, two seconds on");
        assert_eq!(kept.checksum, expected);
        assert!(!kept.stamp.is_empty());
        // While the stamp holds, the content is not hashed again: the sum
        // alone vouches (which is why only this module writes sums).
        let other = "0".repeat(64);
        write_sum(&sum, &other, &kept.stamp);
        assert!(load(&other), "not hashed");
        // Written in place, same size: another stamp, so hashed, and it
        // does not verify.
        let mut changed = artifact.clone();
        let middle = changed.len() / 2;
        changed[middle] ^= 1;
        std::fs::write(&path, &changed).expect("write");
        assert!(
            !load(&other) && !load(&expected),
            "a changed file is hashed"
        );
    }

    #[test]
    fn plugin_data_round_trips_verifies_and_caps_writes() {
        let root = tempfile::tempdir().expect("root");
        let mut data = PluginData::at(root.path(), "ab12");
        assert_eq!(data.get("k"), None, "missing at first");
        data.put("k", b"value");
        assert_eq!(data.get("k").as_deref(), Some(&b"value"[..]));
        // A corrupted entry is missing, never returned.
        let file = data.path("k").expect("path");
        let mut bytes = std::fs::read(&file).expect("read");
        let n = bytes.len();
        bytes[n - 1] ^= 1;
        std::fs::write(&file, bytes).expect("write");
        assert_eq!(data.get("k"), None);
        // Over the key length: neither stored nor read.
        let long = "x".repeat(MAX_KEY_BYTES + 1);
        data.put(&long, b"v");
        assert_eq!(data.get(&long), None);
        // At most MAX_DATA_WRITES writes and MAX_DATA_BYTES per call.
        let mut data = PluginData::at(root.path(), "cd34");
        for i in 0..MAX_DATA_WRITES + 2 {
            data.put(&format!("n{i}"), b"x");
        }
        assert!(data.get(&format!("n{}", MAX_DATA_WRITES - 1)).is_some());
        assert_eq!(data.get(&format!("n{MAX_DATA_WRITES}")), None);
        let mut data = PluginData::at(root.path(), "ef56");
        data.put("big", &vec![0; MAX_DATA_BYTES - 10]);
        data.put("more", &[0; 11]);
        assert!(data.get("big").is_some());
        assert_eq!(data.get("more"), None, "past the per-call total");
    }
}
