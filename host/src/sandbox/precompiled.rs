//! Built-in plugins compiled ahead of time and appended to the binary, so
//! a first run on an empty machine (a fresh CI runner, a container) loads
//! them instead of compiling them (seconds of Cranelift per plugin).
//!
//! `portcullis precompile --output FILE` writes a copy of the running binary
//! with, after its last byte: each built-in plugin's compiled artifact, one
//! after another; an index (JSON: the component's sha256, the artifact's
//! offset and length, a BLAKE3 checksum binding the artifact to that
//! digest); the index's length (u64, little-endian) and [`MAGIC`]. Loaders
//! of executables ignore bytes past the image, so the binary runs as before.
//! The release workflow does this after building each binary. Anything that
//! rewrites the executable afterwards (`strip`, code signing) drops or
//! invalidates the trailer: precompile last.
//!
//! The artifacts are compiled for the architecture's baseline, not for the
//! CPU that built them (on x86_64: SSE3 to SSE4.2 and POPCNT, what every
//! x86-64 CPU since about 2009 has; on aarch64 the base ISA), so the binary
//! can be copied to any machine of its kind. wasmtime checks an artifact
//! against the engine before loading it (version, settings, CPU features):
//! an artifact that does not load there, or whose checksum does not verify,
//! is passed over and the plugin is compiled as without it — never a
//! failure.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::OnceLock;

use wasmtime::Engine;
use wasmtime::component::Component;

/// The trailer's last bytes.
pub const MAGIC: &[u8; 16] = b"PORTCULLIS-AOT-1";
/// The largest index read.
const MAX_INDEX_BYTES: u64 = 1 << 20;

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    /// The component's sha256 (what a built-in's digest is).
    sha256: String,
    offset: u64,
    len: u64,
    /// [`checksum`] of the artifact.
    blake3: String,
}

/// The hasher of [`checksum`], fed the component's digest: the artifact's
/// bytes follow.
fn hasher(sha256: &str) -> blake3::Hasher {
    let mut h = blake3::Hasher::new_derive_key("portcullis precompiled plugin v1");
    h.update(sha256.as_bytes());
    h.update(&[0]);
    h
}

fn checksum(sha256: &str, artifact: &[u8]) -> String {
    hasher(sha256)
        .update(artifact)
        .finalize()
        .to_hex()
        .to_string()
}

/// The index of the running binary's trailer, read once; empty when it has
/// none.
fn index() -> &'static [Entry] {
    static INDEX: OnceLock<Vec<Entry>> = OnceLock::new();
    INDEX.get_or_init(|| {
        std::env::current_exe()
            .ok()
            .and_then(|exe| read_index(&exe).ok())
            .unwrap_or_default()
    })
}

/// The trailer's index and where the trailer starts, if `file` has one.
fn trailer(file: &mut std::fs::File) -> std::io::Result<Option<(Vec<Entry>, u64)>> {
    let size = file.metadata()?.len();
    if size < 24 {
        return Ok(None);
    }
    file.seek(SeekFrom::Start(size - 24))?;
    let mut tail = [0u8; 24];
    file.read_exact(&mut tail)?;
    if &tail[8..] != MAGIC {
        return Ok(None);
    }
    let index_len = u64::from_le_bytes(tail[..8].try_into().unwrap_or_default());
    if index_len > MAX_INDEX_BYTES || index_len > size - 24 {
        return Ok(None);
    }
    let index_at = size - 24 - index_len;
    file.seek(SeekFrom::Start(index_at))?;
    let mut text = vec![0; index_len as usize];
    file.read_exact(&mut text)?;
    let Ok(entries) = serde_json::from_slice::<Vec<Entry>>(&text) else {
        return Ok(None);
    };
    let start = entries.iter().map(|e| e.offset).min().unwrap_or(index_at);
    let fits = entries.iter().all(|e| {
        e.offset
            .checked_add(e.len)
            .is_some_and(|end| end <= index_at)
    });
    Ok(fits.then_some((entries, start)))
}

fn read_index(exe: &Path) -> std::io::Result<Vec<Entry>> {
    let mut file = std::fs::File::open(exe)?;
    Ok(trailer(&mut file)?.map(|(e, _)| e).unwrap_or_default())
}

/// The precompiled artifact of the built-in component `sha256`, loaded
/// into `engine`; `None` when the binary has none, or it does not verify
/// or does not suit this engine and CPU.
///
/// With a cache directory, the artifact is also extracted there once
/// (`precompiled/<sha256>-<checksum>.cwasm`, the same bytes): later runs
/// map that file instead of reading the artifact out of the binary and
/// copying it into executable memory, and load exactly the binary's own
/// artifact still — the copy is checked against the checksum in the
/// binary's index before every use (hashed, or known unchanged since it
/// was: see `cache::map_verified`).
pub fn load(engine: &Engine, sha256: &str, cache_root: Option<&Path>) -> Option<Component> {
    let entry = index().iter().find(|e| e.sha256 == sha256)?;
    let extracted = cache_root.map(|root| {
        let dir = root.join("precompiled");
        let name = format!("{sha256}-{}", entry.blake3);
        (
            dir.join(format!("{name}.cwasm")),
            dir.join(format!("{name}.sum")),
        )
    });
    if let Some((path, sum)) = &extracted {
        let mapped =
            super::cache::map_verified(engine, path, sum, hasher(sha256), Some(&entry.blake3));
        if mapped.is_some() {
            return mapped;
        }
    }
    let mut file = std::fs::File::open(std::env::current_exe().ok()?).ok()?;
    file.seek(SeekFrom::Start(entry.offset)).ok()?;
    let mut artifact = vec![0; usize::try_from(entry.len).ok()?];
    file.read_exact(&mut artifact).ok()?;
    if checksum(sha256, &artifact) != entry.blake3 {
        return None;
    }
    // SAFETY: the bytes are an artifact `write` below produced with
    // `Engine::precompile_component` (the checksum binds them to the
    // component's digest); wasmtime checks its version, settings and the
    // CPU features it needs, and refuses it otherwise.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(engine, &artifact) }.ok()?;
    if let Some((path, _)) = &extracted {
        // A failed write only costs reading the binary again next time.
        // Synced: the sum a later run records (see `cache::map_verified`)
        // never vouches for bytes a crash could have lost.
        let _ = path
            .parent()
            .map(std::fs::create_dir_all)
            .transpose()
            .and_then(|_| crate::cache::write_atomic(path, &[&artifact]));
    }
    Some(component)
}

/// The engine artifacts are compiled with: the sandbox's settings for this
/// binary's target triple at the architecture's baseline.
fn portable_engine() -> Result<Engine, String> {
    let mut config = super::engine_config();
    config
        .target(env!("PORTCULLIS_TARGET"))
        .map_err(|e| format!("target {}: {e}", env!("PORTCULLIS_TARGET")))?;
    #[cfg(target_arch = "x86_64")]
    for flag in [
        "has_sse3",
        "has_ssse3",
        "has_sse41",
        "has_sse42",
        "has_popcnt",
    ] {
        // SAFETY: these are x86-64 CPU features Cranelift may assume; an
        // artifact using them is refused by wasmtime on a CPU without them
        // (and then compiled there instead).
        #[allow(unsafe_code)]
        unsafe {
            config.cranelift_flag_enable(flag);
        }
    }
    Engine::new(&config).map_err(|e| e.to_string())
}

/// Write to `out` a copy of the running binary with every built-in plugin
/// precompiled in its trailer (replacing one it already has). Returns the
/// plugins' names with their artifacts' sizes.
pub fn write(out: &Path) -> Result<Vec<(&'static str, usize)>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let mut file = std::fs::File::open(&exe).map_err(|e| format!("{}: {e}", exe.display()))?;
    let image_len = match trailer(&mut file).map_err(|e| format!("{}: {e}", exe.display()))? {
        Some((_, start)) => start,
        None => file.metadata().map_err(|e| e.to_string())?.len(),
    };
    let mut image = Vec::new();
    file.seek(SeekFrom::Start(0)).map_err(|e| e.to_string())?;
    (&mut file)
        .take(image_len)
        .read_to_end(&mut image)
        .map_err(|e| format!("{}: {e}", exe.display()))?;

    let engine = portable_engine()?;
    let mut artifacts = Vec::new();
    let mut entries = Vec::new();
    let mut sizes = Vec::new();
    let mut offset = image.len() as u64;
    for name in crate::builtins::names() {
        let (component, sha256) = crate::builtins::get(name).ok_or("a built-in vanished")?;
        let artifact = engine
            .precompile_component(component)
            .map_err(|e| format!("builtin:{name}: {}", super::call::first_line(&e)))?;
        entries.push(Entry {
            sha256: sha256.to_string(),
            offset,
            len: artifact.len() as u64,
            blake3: checksum(sha256, &artifact),
        });
        offset += artifact.len() as u64;
        sizes.push((name, artifact.len()));
        artifacts.push(artifact);
    }
    let index = serde_json::to_vec(&entries).map_err(|e| e.to_string())?;
    let index_len = (index.len() as u64).to_le_bytes();
    let mut parts: Vec<&[u8]> = vec![&image];
    parts.extend(artifacts.iter().map(Vec::as_slice));
    parts.extend([index.as_slice(), &index_len, MAGIC]);
    crate::cache::write_atomic(out, &parts).map_err(|e| format!("{}: {e}", out.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(out, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| format!("{}: {e}", out.display()))?;
    }
    Ok(sizes)
}
