//! Policy bundles: a directory holding `portcullis.toml` and what it names
//! (Rego directories, data, waiver files, plugins), as one gzip tar layer.
//!
//! Packing is reproducible: files in path order, mode 0644 (0755 when
//! executable), owner 0, time 0, so the same directory pushed twice has
//! the same digest. Only regular files and directories are packed or
//! unpacked: a symlink, a device, an absolute path, `..`, a name twice, or
//! more than [`MAX_FILES`] files or [`MAX_BYTES`] bytes is refused.
//!
//! A bundle is unpacked once into the cache (`oci/trees/<layer hex>`), and
//! compared with its (verified) layer each time it is used: a tree that no
//! longer matches is unpacked again.

use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// The file a bundle's policy is read from.
pub const ENTRY: &str = "portcullis.toml";
/// The most files a bundle may hold.
pub const MAX_FILES: usize = 10_000;
/// The most bytes a bundle's files may hold in all.
pub const MAX_BYTES: u64 = 64 << 20;
/// The most bytes a bundle's tar stream may take (its files, and the
/// headers and long names around them): a longer stream is refused, both
/// when packing and when unpacking, never cut short.
const MAX_TAR_BYTES: u64 = MAX_BYTES + MAX_FILES as u64 * 8192;

/// One file of a bundle: its path under the root (`/`-separated) and bytes.
struct File {
    path: String,
    bytes: Vec<u8>,
    executable: bool,
}

/// Pack `dir` (its `.git` left out) into a gzip tar.
pub fn pack(dir: &Path) -> Result<Vec<u8>, String> {
    if !dir.join(ENTRY).is_file() {
        return Err(format!(
            "{}: a policy bundle has its policy in {ENTRY}, and there is none",
            dir.display()
        ));
    }
    let mut files = Vec::new();
    let mut total = 0u64;
    collect(dir, "", &mut files, &mut total)?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let mut tar = tar::Builder::new(Vec::new());
    tar.mode(tar::HeaderMode::Deterministic);
    for f in &files {
        let mut header = tar::Header::new_ustar();
        header.set_size(f.bytes.len() as u64);
        header.set_mode(if f.executable { 0o755 } else { 0o644 });
        header.set_mtime(0);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut header, &f.path, f.bytes.as_slice())
            .map_err(|e| format!("{}: {e}", f.path))?;
    }
    let stream = tar
        .into_inner()
        .map_err(|e| format!("cannot pack {}: {e}", dir.display()))?;
    if stream.len() as u64 > MAX_TAR_BYTES {
        return Err(format!(
            "{}: packed, the bundle takes {} bytes, over the {MAX_TAR_BYTES} a bundle may",
            dir.display(),
            stream.len()
        ));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &stream)
        .and_then(|()| gz.finish())
        .map_err(|e| format!("cannot pack {}: {e}", dir.display()))
}

fn collect(dir: &Path, prefix: &str, files: &mut Vec<File>, total: &mut u64) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let name = entry.file_name();
        let name = name
            .to_str()
            .ok_or_else(|| format!("{}: a name that is not UTF-8", entry.path().display()))?;
        if prefix.is_empty() && name == ".git" {
            continue;
        }
        let path = format!("{prefix}{name}");
        let kind = entry
            .file_type()
            .map_err(|e| format!("{}: {e}", entry.path().display()))?;
        if kind.is_dir() {
            collect(&entry.path(), &format!("{path}/"), files, total)?;
        } else if kind.is_file() {
            let bytes = crate::files::read(&entry.path(), MAX_BYTES)
                .map_err(|e| format!("{}: {e}", entry.path().display()))?;
            *total += bytes.len() as u64;
            if *total > MAX_BYTES || files.len() >= MAX_FILES {
                return Err(format!(
                    "{}: a policy bundle holds at most {MAX_FILES} files and {MAX_BYTES} bytes",
                    dir.display()
                ));
            }
            #[cfg(unix)]
            let executable = {
                use std::os::unix::fs::PermissionsExt;
                entry
                    .metadata()
                    .is_ok_and(|m| m.permissions().mode() & 0o100 != 0)
            };
            #[cfg(not(unix))]
            let executable = false;
            files.push(File {
                path,
                bytes,
                executable,
            });
        } else {
            return Err(format!(
                "{}: a policy bundle holds only files and directories (this is a symlink or special file)",
                entry.path().display()
            ));
        }
    }
    Ok(())
}

/// The files of the gzip tar `layer`, checked: regular files and
/// directories only, relative normal paths, each once, within the limits.
fn unpack_list(layer: &[u8]) -> Result<Vec<File>, String> {
    unpack_within(layer, MAX_TAR_BYTES)
}

/// As [`unpack_list`], with the tar stream bounded at `max_tar` bytes.
fn unpack_within(layer: &[u8], max_tar: u64) -> Result<Vec<File>, String> {
    let gz = flate2::read::GzDecoder::new(layer);
    // The decompressed stream is bounded too (a gzip bomb stops here), and
    // reaching the bound is an error, not an end that drops what follows.
    let mut archive = tar::Archive::new(Capped {
        inner: gz,
        left: max_tar,
        max: max_tar,
    });
    let mut files: Vec<File> = Vec::new();
    let mut total = 0u64;
    let entries = archive.entries().map_err(|e| format!("not a tar: {e}"))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| format!("not a tar: {e}"))?;
        let kind = entry.header().entry_type();
        let raw = entry.path_bytes().into_owned();
        let path = String::from_utf8(raw).map_err(|_| "a name that is not UTF-8".to_string())?;
        let clean = Path::new(&path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
        if path.is_empty() || !clean || path.contains('\\') {
            return Err(format!("`{path}` is not a relative path within the bundle"));
        }
        match kind {
            tar::EntryType::Directory => continue,
            tar::EntryType::Regular => {}
            other => {
                return Err(format!(
                    "`{path}` is a {other:?} entry: a bundle holds only files and directories"
                ));
            }
        }
        let size = entry
            .header()
            .size()
            .map_err(|e| format!("`{path}`: {e}"))?;
        total += size;
        if total > MAX_BYTES || files.len() >= MAX_FILES {
            return Err(format!(
                "over {MAX_FILES} files or {MAX_BYTES} bytes: a policy bundle holds no more"
            ));
        }
        let mut bytes = Vec::with_capacity(size as usize);
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| format!("`{path}`: {e}"))?;
        let executable = entry.header().mode().is_ok_and(|m| m & 0o100 != 0);
        files.push(File {
            path: path.trim_end_matches('/').to_string(),
            bytes,
            executable,
        });
    }
    let mut names: Vec<&str> = files.iter().map(|f| f.path.as_str()).collect();
    names.sort_unstable();
    if let Some(w) = names.windows(2).find(|w| {
        w[0] == w[1]
            || w[1]
                .strip_prefix(w[0])
                .is_some_and(|rest| rest.starts_with('/'))
    }) {
        return Err(format!(
            "`{}` is in the bundle twice (or as a file and a directory)",
            w[1]
        ));
    }
    if !names.contains(&ENTRY) {
        return Err(format!("the bundle has no {ENTRY}"));
    }
    Ok(files)
}

/// A reader that fails past `left` bytes.
struct Capped<R> {
    inner: R,
    left: u64,
    max: u64,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            // One more byte tells a stream that ends here from a longer one.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(std::io::Error::other(format!(
                    "the bundle unpacks to over {} bytes",
                    self.max
                ))),
            };
        }
        let max = buf.len().min(self.left.min(usize::MAX as u64) as usize);
        let n = self.inner.read(&mut buf[..max])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// The bundle `layer` (already checked against its digest, `layer_hex`)
/// as a directory in the cache `trees`, unpacked or checked against the
/// layer file by file.
pub fn tree(trees: &Path, layer_hex: &str, layer: &[u8]) -> Result<PathBuf, String> {
    let files = unpack_list(layer)?;
    let root = trees.join(layer_hex);
    if matches(&root, &files) {
        return Ok(root);
    }
    std::fs::create_dir_all(trees).map_err(|e| format!("{}: {e}", trees.display()))?;
    let tmp = tempfile::Builder::new()
        .prefix(".unpack-")
        .tempdir_in(trees)
        .map_err(|e| format!("{}: {e}", trees.display()))?;
    for f in &files {
        let path = tmp.path().join(&f.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        crate::files::write_new(&path, &f.bytes, f.executable)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    let tmp = tmp.keep();
    // Put in place; a tree that another run put there first, and that
    // matches, is never replaced (that run may be reading it). A damaged
    // one is moved aside first, then removed.
    for _ in 0..2 {
        match std::fs::rename(&tmp, &root) {
            Ok(()) => return Ok(root),
            Err(_) if matches(&root, &files) => {
                let _ = std::fs::remove_dir_all(&tmp);
                return Ok(root);
            }
            Err(_) => {
                let aside = trees.join(format!(".damaged-{}", random_suffix()));
                if std::fs::rename(&root, &aside).is_ok() {
                    // Another run may have put a good tree there between the
                    // check and the move: that one goes back.
                    if matches(&aside, &files) && std::fs::rename(&aside, &root).is_ok() {
                        let _ = std::fs::remove_dir_all(&tmp);
                        return Ok(root);
                    }
                    let _ = std::fs::remove_dir_all(&aside);
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Err(format!(
        "{}: cannot put the unpacked bundle in place",
        root.display()
    ))
}

fn random_suffix() -> String {
    let mut bytes = [0u8; 8];
    rand::fill(&mut bytes);
    crate::digest::hex(&bytes)
}

/// Whether the tree at `root` holds exactly `files`: the same names and
/// bytes, nothing more, no symlinks.
fn matches(root: &Path, files: &[File]) -> bool {
    let mut seen = 0usize;
    for f in files {
        let path = root.join(&f.path);
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_file() && m.len() == f.bytes.len() as u64 => {}
            _ => return false,
        }
        match crate::files::read(&path, f.bytes.len() as u64) {
            Ok(b) if b == f.bytes => seen += 1,
            _ => return false,
        }
    }
    count_files(root).is_some_and(|n| n == seen)
}

/// The regular files under `dir`; `None` for a symlink or anything else.
fn count_files(dir: &Path) -> Option<usize> {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).ok()? {
        let entry = entry.ok()?;
        let kind = entry.file_type().ok()?;
        if kind.is_dir() {
            n += count_files(&entry.path())?;
        } else if kind.is_file() {
            n += 1;
        } else {
            return None;
        }
    }
    Some(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundle_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(ENTRY),
            "[plugins.lint]\nsource = \"builtin:lint\"\n",
        )
        .expect("policy");
        std::fs::create_dir_all(dir.path().join("rego/lib")).expect("mkdir");
        std::fs::write(dir.path().join("rego/lib/deny.rego"), "package x\n").expect("rego");
        std::fs::create_dir_all(dir.path().join(".git")).expect("mkdir");
        std::fs::write(dir.path().join(".git/HEAD"), "ref\n").expect("git");
        dir
    }

    #[test]
    fn a_bundle_packs_reproducibly_and_unpacks_to_the_same_files() {
        let dir = bundle_dir();
        let a = pack(dir.path()).expect("pack");
        let b = pack(dir.path()).expect("pack");
        assert_eq!(a, b, "the same directory packs to the same bytes");
        let cache = tempfile::tempdir().expect("cache");
        let root = tree(cache.path(), "ab", &a).expect("tree");
        assert_eq!(
            std::fs::read_to_string(root.join("rego/lib/deny.rego")).expect("rego"),
            "package x\n"
        );
        assert!(!root.join(".git").exists(), ".git is left out");
        // Damaged, or with a file added: unpacked again.
        std::fs::write(root.join("rego/lib/deny.rego"), "package y\n").expect("tamper");
        std::fs::write(root.join("extra.toml"), "").expect("add");
        let again = tree(cache.path(), "ab", &a).expect("tree");
        assert_eq!(again, root);
        assert_eq!(
            std::fs::read_to_string(root.join("rego/lib/deny.rego")).expect("rego"),
            "package x\n"
        );
        assert!(!root.join("extra.toml").exists());
    }

    #[test]
    fn what_a_bundle_may_not_hold_is_refused() {
        let dir = bundle_dir();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("/etc/passwd", dir.path().join("link")).expect("symlink");
            let e = pack(dir.path()).expect_err("symlink");
            assert!(e.contains("symlink"), "{e}");
        }
        let empty = tempfile::tempdir().expect("tempdir");
        assert!(pack(empty.path()).expect_err("no policy").contains(ENTRY));

        // Archives made by hand, as a hostile registry could serve them.
        let archive = |entries: &[(&str, tar::EntryType, &[u8])]| {
            let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let mut t = tar::Builder::new(gz);
            for (path, kind, data) in entries {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(*kind);
                h.set_size(data.len() as u64);
                h.set_mode(0o644);
                // set_path refuses `..`; the raw name is what an attacker sends.
                let name = &mut h.as_old_mut().name;
                name[..path.len()].copy_from_slice(path.as_bytes());
                h.set_cksum();
                t.append(&h, *data).expect("append");
            }
            t.into_inner().expect("tar").finish().expect("gz")
        };
        let ok: &[u8] = b"[plugins.x]\n";
        for (entries, why) in [
            (
                vec![
                    ("../evil", tar::EntryType::Regular, ok),
                    (ENTRY, tar::EntryType::Regular, ok),
                ],
                "not a relative path",
            ),
            (
                vec![
                    ("/etc/x", tar::EntryType::Regular, ok),
                    (ENTRY, tar::EntryType::Regular, ok),
                ],
                "not a relative path",
            ),
            (
                vec![
                    ("l", tar::EntryType::Symlink, &b""[..]),
                    (ENTRY, tar::EntryType::Regular, ok),
                ],
                "only files and directories",
            ),
            (
                vec![
                    (ENTRY, tar::EntryType::Regular, ok),
                    (ENTRY, tar::EntryType::Regular, ok),
                ],
                "twice",
            ),
            (
                vec![
                    ("a", tar::EntryType::Regular, ok),
                    ("a/b", tar::EntryType::Regular, ok),
                    (ENTRY, tar::EntryType::Regular, ok),
                ],
                "twice",
            ),
            (
                vec![("other.toml", tar::EntryType::Regular, ok)],
                "has no portcullis.toml",
            ),
        ] {
            let cache = tempfile::tempdir().expect("cache");
            let e = tree(cache.path(), "cd", &archive(&entries)).expect_err(why);
            assert!(e.contains(why), "{why}: {e}");
            assert!(!cache.path().join("cd").exists());
        }
        let cache = tempfile::tempdir().expect("cache");
        assert!(tree(cache.path(), "ef", b"not gzip").is_err());
    }

    #[test]
    fn a_bundle_that_unpacks_past_the_bound_is_refused_not_cut_short() {
        // Two small files; the stream's bound falls at the end of the first
        // one's data, a tar boundary where a plain `take` would end the
        // archive there and drop the second file without a word.
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut t = tar::Builder::new(gz);
        for (path, data) in [
            (ENTRY, &b"[plugins.x]\n"[..]),
            ("rego/deny.rego", b"package x\n"),
        ] {
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            h.set_entry_type(tar::EntryType::Regular);
            t.append_data(&mut h, path, data).expect("append");
        }
        let layer = t.into_inner().expect("tar").finish().expect("gz");
        let e = unpack_within(&layer, 1024).err().expect("over the bound");
        assert!(e.contains("unpacks to over 1024 bytes"), "{e}");
        assert_eq!(
            unpack_within(&layer, MAX_TAR_BYTES).expect("within").len(),
            2
        );
    }
}
