//! The on-disk cache directory, shared by compiled plugins and collected
//! evidence: `$PORTCULLIS_CACHE_DIR`, else `$XDG_CACHE_HOME/portcullis`, else
//! `~/.cache/portcullis`. `PORTCULLIS_CACHE_DIR=off` disables caching. The
//! directory is created private (0700) and not used if others can write to
//! it or it belongs to someone else.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The cache directory: `explicit` when given, else from the environment.
/// `None` when caching is off or the directory is not private.
pub fn dir(explicit: Option<&Path>) -> Option<PathBuf> {
    let dir = match explicit {
        Some(d) => d.to_path_buf(),
        None => match std::env::var_os("PORTCULLIS_CACHE_DIR") {
            Some(v) if v == "off" => return None,
            Some(v) => PathBuf::from(v),
            None => match std::env::var_os("XDG_CACHE_HOME") {
                Some(x) if !x.is_empty() => PathBuf::from(x).join("portcullis"),
                // Under an existing home only: a home that is not there is
                // not created.
                _ => {
                    let home = PathBuf::from(std::env::var_os("HOME")?);
                    if !home.is_dir() {
                        return None;
                    }
                    home.join(".cache").join("portcullis")
                }
            },
        },
    };
    (create_private_dir(&dir).is_ok() && is_private(&dir)).then_some(dir)
}

/// Write `bytes` to `path` atomically: a new temporary file (created
/// exclusively, under a random name) in the same directory, synced, then
/// renamed over `path`. A reader sees the old file or the whole new one;
/// a symlink at `path` is replaced, never written through; on failure
/// the temporary file is removed and `path` is untouched.
pub fn write_atomic(path: &Path, bytes: &[&[u8]]) -> std::io::Result<()> {
    replace(path, bytes, true)
}

/// As [`write_atomic`], without waiting for the disk when `sync` is false:
/// for entries checked by a checksum on every read, where a file the
/// system lost in a crash is only a miss.
pub fn replace(path: &Path, bytes: &[&[u8]], sync: bool) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".portcullis-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    for b in bytes {
        tmp.write_all(b)?;
    }
    if sync {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
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

/// Not writable by group or others, and owned by us (compared with a probe
/// file created now).
#[cfg(unix)]
fn is_private(dir: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(meta) = std::fs::metadata(dir) else {
        return false;
    };
    if meta.mode() & 0o022 != 0 {
        return false;
    }
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
