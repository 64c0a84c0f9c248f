//! Reading a file the host was pointed at (a policy, a waiver file, a
//! `.wasm` source, a baseline, a cache entry, a fixture's expectations):
//! only a regular file, and only up to a bound. A FIFO would block the
//! read forever and `/dev/zero` would fill memory; both are refused before
//! a byte is read (the open does not block: `O_NONBLOCK`).

use std::io::Read;
use std::path::Path;

/// Policy and waiver files, fixture expectations.
pub const MAX_POLICY_BYTES: u64 = 16 << 20;
/// Baselines and cached `cargo metadata` output.
pub const MAX_DATA_BYTES: u64 = 256 << 20;

/// The bytes of the regular file at `path`, at most `max` of them.
pub fn read(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::other(format!(
            "larger than the {} MiB limit",
            max >> 20
        )));
    }
    Ok(bytes)
}

/// As [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, max: u64) -> std::io::Result<String> {
    utf8(read(path, max)?).map_err(|bad| {
        let message = format!("line {}, column {}: {}", bad.line, bad.column, bad.what());
        std::io::Error::new(std::io::ErrorKind::InvalidData, message)
    })
}

/// Where text stops being UTF-8.
#[derive(Debug)]
pub struct NotUtf8 {
    /// 1-based line and column (in characters) of the first bad byte.
    pub line: usize,
    pub column: usize,
    pub byte: u8,
}

impl NotUtf8 {
    pub fn what(&self) -> String {
        format!("not UTF-8 text (byte 0x{:02x})", self.byte)
    }
}

/// `bytes` as text, or where it stops being UTF-8.
pub fn utf8(bytes: Vec<u8>) -> Result<String, NotUtf8> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let good = std::str::from_utf8(&bytes[..at]).unwrap_or_default();
        let line_start = good.rfind('\n').map_or(0, |i| i + 1);
        NotUtf8 {
            line: good.matches('\n').count() + 1,
            column: good[line_start..].chars().count() + 1,
            byte: bytes[at],
        }
    })
}

/// What identifies a file's content without reading it: device, inode,
/// size, modification and change times. While a file's stamp is unchanged,
/// it was not written to, replaced or copied over: every write sets the
/// change time, which its owner cannot set back (only a clock change can).
/// `None` where the system gives no inode and change time, and for a file
/// changed in the last two seconds (compared in whole seconds): file times
/// tick coarsely (a few milliseconds), so a second write that soon could
/// keep the same stamp (git calls such index entries racy). A file without
/// a stamp is read again rather than trusted.
pub fn stamp(meta: &std::fs::Metadata) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        if meta.ctime() >= 0 && (meta.ctime() as u64).saturating_add(2) >= now {
            return None;
        }
        Some(format!(
            "{} {} {} {}.{} {}.{}",
            meta.dev(),
            meta.ino(),
            meta.size(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ctime(),
            meta.ctime_nsec()
        ))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// Open `path` for reading if it is a regular file (never blocking on a
/// FIFO).
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    Ok(file)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn only_bounded_regular_files_are_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("f");
        std::fs::write(&f, "hello").expect("write");
        assert_eq!(read_to_string(&f, 5).expect("read"), "hello");
        assert!(read(&f, 4).is_err_and(|e| e.to_string().contains("limit")));
        let fifo = dir.path().join("fifo");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .expect("mkfifo");
        assert!(read(&fifo, 10).is_err_and(|e| e.to_string() == "not a regular file"));
        assert!(
            read(Path::new("/dev/zero"), 10).is_err_and(|e| e.to_string() == "not a regular file")
        );
    }
}

/// `path`'s repository-relative form (`/`-separated) when it lies under
/// the canonical `root` once resolved; `None` otherwise.
pub fn relative_to(root: &Path, path: &Path) -> Option<String> {
    let real = path.canonicalize().ok()?;
    let rel = real.strip_prefix(root).ok()?;
    rel.to_str().map(|s| s.replace('\\', "/"))
}

/// Create the file `path` with `bytes`, mode 0644 (0755 when
/// `executable`), failing if anything is already there: nothing is written
/// over or through an existing file or symlink.
pub fn write_new(path: &Path, bytes: &[u8], executable: bool) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if executable { 0o755 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = executable;
    options.open(path)?.write_all(bytes)
}
