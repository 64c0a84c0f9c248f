//! git's index (`.git/index`): the tracked files, each with the object id
//! of its staged content and the file's stat data as git last saw it, read
//! directly (the format is documented in `gitformat-index(5)`), so the
//! work tree's changes can be told by comparing stat data, as git does,
//! without a git process statting every file a second time.
//!
//! Versions 2, 3 and 4 are read. A split index (`link`), a sparse index
//! (`sdir`) or any other extension git marks as required is not:
//! [`read`] answers `None` and the caller asks git instead.

use std::io::Read;
use std::path::Path;

/// The largest index read (git's index of 2 million files is ~200 MB).
const MAX_BYTES: u64 = 1 << 30;

/// The stat data git keeps per file, each field truncated to 32 bits as
/// the index stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stat {
    pub ctime: (u32, u32),
    pub mtime: (u32, u32),
    pub ino: u32,
    pub uid: u32,
    pub gid: u32,
    pub size: u32,
}

impl Stat {
    /// The file's stat data as git would record it (none off Unix, where
    /// every file is then hashed).
    pub fn of(meta: &std::fs::Metadata) -> Stat {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            Stat {
                ctime: (meta.ctime() as u32, meta.ctime_nsec() as u32),
                mtime: (meta.mtime() as u32, meta.mtime_nsec() as u32),
                ino: meta.ino() as u32,
                uid: meta.uid(),
                gid: meta.gid(),
                size: meta.len() as u32,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = meta;
            Stat::default()
        }
    }
}

/// One index entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Relative to the work tree's top, `/`-separated.
    pub path: String,
    /// git's mode: `0o100644`, `0o100755`, `0o120000` (symlink),
    /// `0o160000` (submodule).
    pub mode: u32,
    /// The staged content's object id: 20 bytes (SHA-1) or 32 (SHA-256),
    /// zeros after.
    pub oid: [u8; 32],
    pub stat: Stat,
    /// 0, or 1–3 for the sides of an unresolved merge.
    pub stage: u8,
    /// `git update-index --assume-unchanged`, `--skip-worktree`, `git add
    /// -N`: flags that make git trust the entry rather than the file.
    pub assume_valid: bool,
    pub skip_worktree: bool,
    pub intent_to_add: bool,
}

pub const MODE_SYMLINK: u32 = 0o120000;
pub const MODE_GITLINK: u32 = 0o160000;

/// The index, sorted by path and stage as git keeps it.
#[derive(Debug)]
pub struct Index {
    pub entries: Vec<Entry>,
    /// The index file's own modification time: an entry whose file was
    /// modified at or after it is "racily clean" (its stat data cannot
    /// vouch for the content).
    pub mtime: (u32, u32),
    /// The index file's identity when read (see [`identity`]).
    pub file: Identity,
}

/// A file's inode, size and modification and change times: git replaces
/// its index whole (a lock file renamed over it), so while the identity
/// of the index file is the same, so is its content.
pub type Identity = (u64, u64, i128, i128);

/// The identity of the file at `path`, if there is one.
pub fn identity(path: &Path) -> Option<Identity> {
    std::fs::metadata(path).ok().map(|m| identity_of(&m))
}

fn identity_of(meta: &std::fs::Metadata) -> Identity {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        (
            meta.ino(),
            meta.size(),
            ns(meta.mtime(), meta.mtime_nsec()),
            ns(meta.ctime(), meta.ctime_nsec()),
        )
    }
    #[cfg(not(unix))]
    {
        (0, meta.len(), 0, 0)
    }
}

/// Why an index was not read.
#[derive(Debug)]
pub enum Unread {
    /// A form this reader does not take (version, split or sparse index):
    /// ask git.
    Unsupported(String),
    /// Not an index at all, or cut short.
    Corrupt(String),
    Io(std::io::Error),
}

impl std::fmt::Display for Unread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unread::Unsupported(m) | Unread::Corrupt(m) => f.write_str(m),
            Unread::Io(e) => e.fmt(f),
        }
    }
}

/// Read the index at `path`, whose object ids are `oid_len` bytes (20 for
/// SHA-1, 32 for SHA-256).
pub fn read(path: &Path, oid_len: usize) -> Result<Index, Unread> {
    if oid_len > 32 {
        return Err(Unread::Unsupported(format!("{oid_len}-byte object ids")));
    }
    let file = std::fs::File::open(path).map_err(Unread::Io)?;
    let meta = file.metadata().map_err(Unread::Io)?;
    if !meta.is_file() {
        return Err(Unread::Corrupt("not a file".into()));
    }
    if meta.len() > MAX_BYTES {
        return Err(Unread::Unsupported(format!(
            "{} bytes, more than the {MAX_BYTES} read",
            meta.len()
        )));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(Unread::Io)?;
    let stat = Stat::of(&meta);
    let entries = parse(&bytes, oid_len)?;
    Ok(Index {
        entries,
        mtime: stat.mtime,
        file: identity_of(&meta),
    })
}

/// The entries of an index file's bytes.
pub fn parse(bytes: &[u8], oid_len: usize) -> Result<Vec<Entry>, Unread> {
    let corrupt = |m: &str| Unread::Corrupt(m.to_string());
    let mut r = Reader { bytes, at: 0 };
    if r.take(4)
        .ok_or_else(|| corrupt("shorter than its header"))?
        != b"DIRC"
    {
        return Err(corrupt("no index signature"));
    }
    let version = r.u32().ok_or_else(|| corrupt("shorter than its header"))?;
    if !(2..=4).contains(&version) {
        return Err(Unread::Unsupported(format!("index version {version}")));
    }
    let count = r.u32().ok_or_else(|| corrupt("shorter than its header"))? as usize;
    // Each entry takes at least its fixed part: a count the file cannot
    // hold is refused before anything is allocated for it.
    let fixed = 40 + oid_len + 2;
    if count > bytes.len() / fixed {
        return Err(corrupt("more entries than the file holds"));
    }
    let mut entries: Vec<Entry> = Vec::with_capacity(count);
    let mut previous: Vec<u8> = Vec::new();
    for _ in 0..count {
        let start = r.at;
        let cut = || corrupt("an entry is cut short");
        let mut word = || r.u32().ok_or_else(cut);
        let ctime = (word()?, word()?);
        let mtime = (word()?, word()?);
        let _dev = word()?;
        let ino = word()?;
        let mode = word()?;
        let uid = word()?;
        let gid = word()?;
        let size = word()?;
        let mut oid = [0u8; 32];
        oid[..oid_len.min(32)].copy_from_slice(r.take(oid_len).ok_or_else(cut)?);
        let flags = r.u16().ok_or_else(cut)?;
        let extended = flags & 0x4000 != 0;
        let extra = if extended {
            if version < 3 {
                return Err(corrupt("an extended entry in a version 2 index"));
            }
            r.u16().ok_or_else(cut)?
        } else {
            0
        };
        let name = if version == 4 {
            let strip = r.varint().ok_or_else(cut)?;
            if strip > previous.len() {
                return Err(corrupt("a path strips more than the previous one has"));
            }
            previous.truncate(previous.len() - strip);
            previous.extend_from_slice(r.until_nul().ok_or_else(cut)?);
            previous.clone()
        } else {
            let name = r.until_nul().ok_or_else(cut)?.to_vec();
            // 1–8 NULs in all, to a multiple of 8 bytes from the start.
            let len = r.at - start;
            let padded = (len + 7) & !7;
            r.take(padded - len).ok_or_else(cut)?;
            name
        };
        let path = String::from_utf8(name).map_err(|_| {
            Unread::Unsupported("a path that is not UTF-8 (git's list is asked instead)".into())
        })?;
        if mode & 0o170000 == 0o040000 {
            return Err(Unread::Unsupported("a sparse index".into()));
        }
        entries.push(Entry {
            path,
            mode,
            oid,
            stat: Stat {
                ctime,
                mtime,
                ino,
                uid,
                gid,
                size,
            },
            stage: ((flags >> 12) & 3) as u8,
            assume_valid: flags & 0x8000 != 0,
            skip_worktree: extra & 0x4000 != 0,
            intent_to_add: extra & 0x2000 != 0,
        });
    }
    // Extensions, then the checksum. Optional ones start with A–Z.
    while bytes.len() - r.at > oid_len {
        let sig = r
            .take(4)
            .ok_or_else(|| corrupt("an extension is cut short"))?;
        let len = r
            .u32()
            .ok_or_else(|| corrupt("an extension is cut short"))?;
        if !sig[0].is_ascii_uppercase() {
            return Err(Unread::Unsupported(format!(
                "the index extension `{}`",
                String::from_utf8_lossy(sig)
            )));
        }
        r.take(len as usize)
            .ok_or_else(|| corrupt("an extension is cut short"))?;
    }
    if bytes.len() - r.at != oid_len {
        return Err(corrupt("no checksum at the end"));
    }
    Ok(entries)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let out = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(out)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u16(&mut self) -> Option<u16> {
        self.take(2).map(|b| u16::from_be_bytes([b[0], b[1]]))
    }

    /// The bytes before the next NUL; the NUL is consumed.
    fn until_nul(&mut self) -> Option<&'a [u8]> {
        let rest = self.bytes.get(self.at..)?;
        let n = rest.iter().position(|b| *b == 0)?;
        self.at += n + 1;
        Some(&rest[..n])
    }

    /// git's offset varint (index version 4's prefix length).
    fn varint(&mut self) -> Option<usize> {
        let mut c = *self.take(1)?.first()?;
        let mut val = (c & 0x7f) as usize;
        while c & 0x80 != 0 {
            c = *self.take(1)?.first()?;
            val = val.checked_add(1)?.checked_mul(128)? | (c & 0x7f) as usize;
        }
        Some(val)
    }
}

/// Repositories for this module's and [`super::work_tree`]'s tests.
#[cfg(test)]
pub(super) mod test_repo {
    use std::path::Path;

    /// Run git in `dir` with no global or system configuration, or fail.
    pub fn git(dir: &Path, args: &[&str]) {
        let out = std::process::Command::new("git")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Write `content` at `path` under `root`, with its directories.
    pub fn write(root: &Path, path: &str, content: &str) {
        let p = root.join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, content).expect("write");
    }
}

#[cfg(test)]
mod tests {
    use super::test_repo::{git, write};
    use super::*;

    /// What `git ls-files -s` says: mode, oid, stage and path per entry.
    fn ls_files(dir: &Path) -> Vec<(u32, String, u8, String)> {
        let out = std::process::Command::new("git")
            .args(["ls-files", "-s", "-z"])
            .current_dir(dir)
            .output()
            .expect("git");
        out.stdout
            .split(|b| *b == 0)
            .filter(|l| !l.is_empty())
            .map(|l| {
                let l = String::from_utf8_lossy(l);
                let (meta, path) = l.split_once('\t').expect("tab");
                let mut f = meta.split(' ');
                let mode = u32::from_str_radix(f.next().expect("mode"), 8).expect("octal");
                let oid = f.next().expect("oid").to_string();
                let stage = f.next().expect("stage").parse().expect("stage");
                (mode, oid, stage, path.to_string())
            })
            .collect()
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn every_version_reads_as_git_lists_it() {
        for version in ["2", "3", "4"] {
            let dir = tempfile::tempdir().expect("tempdir");
            let root = dir.path();
            git(root, &["init", "-q"]);
            for (p, c) in [
                ("a.txt", "a\n"),
                ("dir/b.rs", "fn b() {}\n"),
                ("dir/sub/c.md", "c\n"),
                ("dir/sub/cc.md", "cc\n"),
                ("é/ü.txt", "utf-8\n"),
                ("z", ""),
            ] {
                write(root, p, c);
            }
            #[cfg(unix)]
            std::os::unix::fs::symlink("a.txt", root.join("link")).expect("symlink");
            git(root, &["add", "-A"]);
            write(root, "new.txt", "intent\n");
            git(root, &["add", "-N", "new.txt"]);
            git(root, &["update-index", "--skip-worktree", "z"]);
            git(root, &["update-index", "--index-version", version]);
            let index = read(&root.join(".git/index"), 20).expect("read");
            let ours: Vec<(u32, String, u8, String)> = index
                .entries
                .iter()
                .map(|e| (e.mode, hex(&e.oid[..20]), e.stage, e.path.clone()))
                .collect();
            assert_eq!(ours, ls_files(root), "version {version}");
            let flags = |p: &str| {
                let e = index.entries.iter().find(|e| e.path == p).expect(p);
                (e.skip_worktree, e.intent_to_add)
            };
            if version != "2" {
                assert_eq!(flags("z"), (true, false), "version {version}");
                assert_eq!(flags("new.txt"), (false, true), "version {version}");
            }
            let b = index
                .entries
                .iter()
                .find(|e| e.path == "dir/b.rs")
                .expect("b");
            let meta = std::fs::symlink_metadata(root.join("dir/b.rs")).expect("stat");
            assert_eq!(b.stat, Stat::of(&meta), "version {version}");
            assert_eq!(b.mode, 0o100644);
        }
    }

    #[test]
    fn a_split_index_or_anything_malformed_is_not_read() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        git(root, &["init", "-q"]);
        write(root, "a", "a");
        git(root, &["add", "a"]);
        let good = std::fs::read(root.join(".git/index")).expect("index");
        assert_eq!(parse(&good, 20).expect("parses").len(), 1);
        // Every cut of it fails, or reads every entry (a cut among the
        // extensions cannot always be told from the checksum, which git
        // does not verify on reading either); never panics or reads past.
        let whole = parse(&good, 20).expect("parses");
        for n in 0..good.len() {
            if let Ok(entries) = parse(&good[..n], 20) {
                assert_eq!(entries, whole, "cut at {n}");
            }
        }
        // A count the file cannot hold.
        let mut many = good.clone();
        many[8..12].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(parse(&many, 20), Err(Unread::Corrupt(_))));
        let mut v9 = good.clone();
        v9[4..8].copy_from_slice(&9u32.to_be_bytes());
        assert!(matches!(parse(&v9, 20), Err(Unread::Unsupported(_))));
        // The split index: a required (lowercase) extension.
        git(root, &["update-index", "--split-index"]);
        let split = std::fs::read(root.join(".git/index")).expect("index");
        assert!(
            matches!(parse(&split, 20), Err(Unread::Unsupported(m)) if m.contains("link")),
            "split index"
        );
    }
}
