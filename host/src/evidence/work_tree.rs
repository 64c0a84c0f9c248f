//! `--changed-since REV` over the work tree, in one walk: the walk that
//! lists the files also tells which changed, by comparing each file's stat
//! data with git's index as git itself does, instead of a `git diff` that
//! stats every tracked file again and a `git ls-files --others` that reads
//! every directory again.
//!
//! A path counts as changed when its content, or its kind (a file or a
//! symlink), in the work tree differs from REV's (a change of the
//! executable bit alone does not count): the index says what REV has where git's tree
//! comparison (`git diff-index --cached REV`, which reads no work-tree
//! file) lists nothing; the work tree matches the index where the stat
//! data git recorded still holds and the entry is not racily clean;
//! anywhere else the file is hashed as a blob and its id compared. Files
//! the index does not hold count (untracked, not ignored), except inside a
//! submodule or a nested repository, as with `git ls-files --others`; an
//! unresolved merge counts. Stricter than git on two points, both of which
//! only widen what is judged: entries marked `--assume-unchanged` are
//! compared like any other, and content is hashed as it is on disk, with
//! no clean filter or line-ending conversion.
//!
//! When the index cannot be read here (a split or sparse index, a version
//! or extension this reader does not know, `GIT_INDEX_FILE` naming
//! something else), [`since`] answers `None` and the caller asks git.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::Path;

use super::index::{self, Index, MODE_GITLINK, MODE_SYMLINK};
use super::tree::{self, Walked};
use super::{FileEntry, FileKind};
use crate::diag::Error;

/// The file list and the files changed since a revision.
pub struct Since {
    pub files: Vec<FileEntry>,
    pub changed: BTreeSet<String>,
}

/// The work tree's files under `root` and those changed since `rev`, or
/// `None` when the index cannot be read here (see the module's doc).
pub fn since(root: &Path, rev: &str) -> Result<Option<Since>, Error> {
    super::git::check_rev(rev)?;
    let Some(repo) = locate(root) else {
        return Ok(None);
    };
    // git's comparison of REV with the index and this reading of the
    // index must see the same index: the file is the same before and after
    // both, or git is asked instead.
    let before = index::identity(&repo.index);
    std::thread::scope(|s| {
        let staged = s.spawn(|| staged_since(root, rev));
        let index = s.spawn(|| index::read(&repo.index, repo.oid_len));
        let walked = tree::walk(root, false);
        let staged = staged.join().unwrap_or_else(|_| Err(failed()));
        let index = index.join();
        let walked = walked?;
        let staged = staged?;
        let index = match index {
            Ok(Ok(index)) if held(before, &index, &repo.index) => index,
            // Not readable here, or replaced meanwhile: the caller asks
            // git, which reads every index it writes, once.
            _ => return Ok(None),
        };
        compare(root, &repo, &index, &staged, walked).map(Some)
    })
}

/// Whether the index read is the one that was there before git compared
/// REV with it and is still there after.
fn held(before: Option<index::Identity>, read: &Index, path: &Path) -> bool {
    before == Some(read.file) && index::identity(path) == before
}

fn failed() -> Error {
    Error::Evidence {
        what: "files".into(),
        message: "comparing the work tree failed".into(),
    }
}

/// Where the repository's index is and how it names objects.
struct Repo {
    index: std::path::PathBuf,
    /// `root` relative to the work tree's top: `""` or `dir/sub/`.
    prefix: String,
    oid_len: usize,
    sha256: bool,
}

fn locate(root: &Path) -> Option<Repo> {
    let out = super::git::output(super::git::command(root).args([
        "rev-parse",
        "--show-prefix",
        "--git-path",
        "index",
        "--show-object-format",
    ]))
    .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let mut lines = text.lines();
    let prefix = lines.next()?.to_string();
    let index = root.join(lines.next()?);
    let (oid_len, sha256) = match lines.next()? {
        "sha1" => (20, false),
        "sha256" => (32, true),
        _ => return None,
    };
    Some(Repo {
        index,
        prefix,
        oid_len,
        sha256,
    })
}

/// REV's side of every path where REV and the index differ, relative to
/// `root`: its mode and object id (all zeros where REV has no such path).
fn staged_since(root: &Path, rev: &str) -> Result<HashMap<String, (u32, [u8; 32])>, Error> {
    let out = super::git::stdout(
        root,
        &[
            "diff-index",
            "--cached",
            "--raw",
            "-z",
            "--no-abbrev",
            "--no-renames",
            "--relative",
            "--no-ext-diff",
            "--no-textconv",
            rev,
            "--",
        ],
        rev,
    )?;
    let mut map = HashMap::new();
    let mut fields = out.split(|b| *b == 0);
    while let Some(meta) = fields.next() {
        if meta.is_empty() {
            continue;
        }
        let Some(path) = fields.next() else { break };
        // `:<old mode> <new mode> <old oid> <new oid> <status>`
        let meta = String::from_utf8_lossy(meta);
        let mut f = meta.trim_start_matches(':').split(' ');
        let (Some(mode), Some(_), Some(oid)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        let mode = u32::from_str_radix(mode, 8).unwrap_or(0);
        // A path that is not UTF-8 is no listed file's (the walk and the
        // index reader refuse them), and must not stand for one.
        if let Ok(path) = std::str::from_utf8(path) {
            map.insert(path.to_string(), (mode, unhex(oid)));
        }
    }
    Ok(map)
}

fn compare(
    root: &Path,
    repo: &Repo,
    index: &Index,
    staged: &HashMap<String, (u32, [u8; 32])>,
    walked: tree::Walk,
) -> Result<Since, Error> {
    // The index's entries under `root`, by path relative to it, stages of
    // one path together (the index is sorted by path, then stage).
    let mut tracked: Vec<(&str, Vec<&index::Entry>)> = Vec::new();
    for e in &index.entries {
        let Some(rel) = e.path.strip_prefix(repo.prefix.as_str()) else {
            continue;
        };
        match tracked.last_mut() {
            Some((p, stages)) if *p == rel => stages.push(e),
            _ => tracked.push((rel, vec![e])),
        }
    }
    // Paths git does not look into: submodules and nested repositories.
    let mut opaque: Vec<String> = tracked
        .iter()
        .filter(|(_, s)| s.iter().any(|e| e.mode == MODE_GITLINK))
        .map(|(p, _)| p.to_string())
        .collect();
    // A directory with a `.git` of its own hides its files from `git
    // ls-files --others` only when that is a repository and the index
    // tracks nothing below it.
    opaque.extend(walked.nested.into_iter().filter(|dir| {
        let below = format!("{dir}/");
        is_repository(&root.join(dir).join(".git"))
            && !tracked
                .get(tracked.partition_point(|(p, _)| *p < below.as_str()))
                .is_some_and(|(p, _)| p.starts_with(below.as_str()))
    }));
    opaque.sort();
    let inside_opaque = |path: &str| {
        path.match_indices('/').any(|(i, _)| {
            opaque
                .binary_search_by(|d| d.as_str().cmp(&path[..i]))
                .is_ok()
        })
    };

    let mut files: Vec<FileEntry> = Vec::with_capacity(walked.files.len());
    let mut changed = BTreeSet::new();
    let mut walked = walked.files.into_iter().peekable();
    let mut tracked = tracked.into_iter().peekable();
    loop {
        let order = match (walked.peek(), tracked.peek()) {
            (None, None) => break,
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (Some(w), Some((t, _))) => w.entry.path.as_str().cmp(t),
        };
        match order {
            std::cmp::Ordering::Less => {
                let Some(w) = walked.next() else { break };
                // Untracked: changed, unless git does not look there; a
                // file REV had that the index no longer tracks (a
                // directory made a submodule) changed wherever it is.
                let had = staged
                    .get(&w.entry.path)
                    .is_some_and(|(_, id)| *id != [0; 32]);
                if had || !inside_opaque(&w.entry.path) {
                    changed.insert(w.entry.path.clone());
                }
                files.push(w.entry);
            }
            std::cmp::Ordering::Equal => {
                let (Some(w), Some((_, stages))) = (walked.next(), tracked.next()) else {
                    break;
                };
                if differs(root, repo, index, staged, &stages, &w)? {
                    changed.insert(w.entry.path.clone());
                }
                files.push(w.entry);
            }
            std::cmp::Ordering::Greater => {
                let Some((rel, stages)) = tracked.next() else {
                    break;
                };
                // Tracked, not walked: hidden by `.gitignore`, or gone.
                if stages.iter().any(|e| e.mode == MODE_GITLINK) {
                    continue;
                }
                if let Some(w) = tree::lstat_walked(root, rel)? {
                    if differs(root, repo, index, staged, &stages, &w)? {
                        changed.insert(w.entry.path.clone());
                    }
                    files.push(w.entry);
                }
            }
        }
    }
    // In order already: a merge of two lists sorted by path.
    debug_assert!(files.is_sorted_by(|a, b| a.path < b.path));
    Ok(Since { files, changed })
}

/// Whether `dot_git` makes its directory a repository, as git decides it:
/// a `gitdir: ` file naming one, or a directory with `objects`, `refs`
/// and a `HEAD` naming a ref or an object. Nothing is followed through a
/// symlink but a `gitdir:` file's own target.
fn is_repository(dot_git: &Path) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(dot_git) else {
        return false;
    };
    if meta.is_file() {
        let Ok(text) = crate::files::read_to_string(dot_git, 4096) else {
            return false;
        };
        let Some(target) = text.strip_prefix("gitdir: ") else {
            return false;
        };
        let target = dot_git
            .parent()
            .unwrap_or(Path::new("."))
            .join(target.trim_end_matches(['\n', '\r']));
        return std::fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir()) && is_git_dir(&target);
    }
    meta.is_dir() && is_git_dir(dot_git)
}

fn is_git_dir(dir: &Path) -> bool {
    let is_dir = |name: &str| std::fs::symlink_metadata(dir.join(name)).is_ok_and(|m| m.is_dir());
    let head = dir.join("HEAD");
    let head_ok = match std::fs::symlink_metadata(&head) {
        Ok(m) if m.is_symlink() => std::fs::read_link(&head).is_ok_and(|t| t.starts_with("refs/")),
        Ok(m) if m.is_file() => crate::files::read(&head, 4096).is_ok_and(|b| {
            let head = String::from_utf8_lossy(&b);
            let head = head.trim_end();
            head.starts_with("ref: refs/")
                || (matches!(head.len(), 40 | 64) && head.bytes().all(|c| c.is_ascii_hexdigit()))
        }),
        _ => false,
    };
    is_dir("objects") && is_dir("refs") && head_ok
}

/// Whether the file `w` (tracked at `stages`) differs from REV.
fn differs(
    root: &Path,
    repo: &Repo,
    index: &Index,
    staged: &HashMap<String, (u32, [u8; 32])>,
    stages: &[&index::Entry],
    w: &Walked,
) -> Result<bool, Error> {
    let [entry] = stages else {
        return Ok(true); // an unresolved merge
    };
    if entry.stage != 0 || entry.intent_to_add {
        return Ok(true);
    }
    let (rev_mode, rev_oid) = match staged.get(&w.entry.path) {
        Some((mode, oid)) => (*mode, oid),
        None => (entry.mode, &entry.oid),
    };
    if rev_oid.iter().all(|b| *b == 0) {
        return Ok(true); // REV has no such file
    }
    // A file or a symlink: the executable bit alone is not a change of
    // content (and git ignores it where `core.filemode` is off).
    let kind = if w.entry.kind == FileKind::Symlink {
        MODE_SYMLINK
    } else {
        0o100000
    };
    if rev_mode & 0o170000 != kind {
        return Ok(true);
    }
    let clean =
        entry.stat == w.stat && entry.mode & 0o170000 == kind && entry.stat.mtime < index.mtime;
    if clean {
        return Ok(entry.oid != *rev_oid);
    }
    Ok(blob_id(root, repo, w)?.is_none_or(|id| id != *rev_oid))
}

/// The blob id of the file's content as it is on disk; `None` when it
/// changed while it was read.
fn blob_id(root: &Path, repo: &Repo, w: &Walked) -> Result<Option<[u8; 32]>, Error> {
    let path = root.join(&w.entry.path);
    let mut hasher = Blob::new(repo.sha256);
    match w.entry.kind {
        FileKind::Symlink => {
            let target = std::fs::read_link(&path).map_err(|e| Error::io(&path, e))?;
            let bytes = target.as_os_str().as_encoded_bytes();
            hasher.header(bytes.len() as u64);
            hasher.update(bytes);
        }
        FileKind::File => {
            let mut file = crate::files::open_regular(&path).map_err(|e| Error::io(&path, e))?;
            let size = file.metadata().map_err(|e| Error::io(&path, e))?.len();
            hasher.header(size);
            let mut buf = vec![0u8; 64 << 10];
            let mut read = 0u64;
            loop {
                let n = file.read(&mut buf).map_err(|e| Error::io(&path, e))?;
                if n == 0 {
                    break;
                }
                read += n as u64;
                if read > size {
                    return Ok(None);
                }
                hasher.update(&buf[..n]);
            }
            if read != size {
                return Ok(None);
            }
        }
    }
    Ok(hasher.finish())
}

/// A git blob id being computed: `blob <size>\0<content>`.
enum Blob {
    Sha1(Box<sha1_checked::Sha1>),
    Sha256(Box<sha2::Sha256>),
}

impl Blob {
    fn new(sha256: bool) -> Blob {
        if sha256 {
            Blob::Sha256(Box::default())
        } else {
            Blob::Sha1(Box::default())
        }
    }

    fn header(&mut self, size: u64) {
        self.update(format!("blob {size}\0").as_bytes());
    }

    fn update(&mut self, bytes: &[u8]) {
        use sha2::Digest;
        match self {
            Blob::Sha1(h) => h.update(bytes),
            Blob::Sha256(h) => h.update(bytes),
        }
    }

    /// The id, zeros after its length as in [`index::Entry::oid`]; `None`
    /// for content crafted to collide under SHA-1 (git refuses such
    /// content too).
    fn finish(self) -> Option<[u8; 32]> {
        use sha2::Digest;
        let mut id = [0u8; 32];
        match self {
            Blob::Sha1(h) => {
                let result = h.try_finalize();
                if result.has_collision() {
                    return None;
                }
                id[..20].copy_from_slice(result.hash());
            }
            Blob::Sha256(h) => id.copy_from_slice(&h.finalize()),
        }
        Some(id)
    }
}

/// An object id from its hex form, zeros after its length; all zeros for
/// anything else (git's "no such object").
fn unhex(hex: &str) -> [u8; 32] {
    let mut id = [0u8; 32];
    if hex.len() > 64 || !hex.len().is_multiple_of(2) {
        return id;
    }
    for (i, pair) in hex.as_bytes().chunks(2).enumerate() {
        match std::str::from_utf8(pair)
            .ok()
            .and_then(|p| u8::from_str_radix(p, 16).ok())
        {
            Some(b) => id[i] = b,
            None => return [0u8; 32],
        }
    }
    id
}

#[cfg(all(test, unix))]
mod tests {
    use super::super::index::test_repo::{git, write};
    use super::*;

    /// What this module says against what git says (`git diff REV` and
    /// `git ls-files --others`), for paths that exist.
    fn agree(root: &Path, rev: &str) -> BTreeSet<String> {
        let ours = since(root, rev).expect("since").expect("the index is read");
        let files: BTreeSet<&str> = ours.files.iter().map(|f| f.path.as_str()).collect();
        let listed: Vec<FileEntry> = tree::list(root, false).expect("list");
        assert_eq!(ours.files, listed, "the same file list as the walk alone");
        let git: BTreeSet<String> = super::super::git::changed_since(root, rev)
            .expect("git")
            .into_iter()
            .filter(|p| files.contains(p.as_str()))
            .collect();
        assert_eq!(ours.changed, git, "changed since {rev}");
        ours.changed
    }

    #[test]
    fn the_changed_files_are_those_git_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        git(root, &["init", "-q", "-b", "main"]);
        for (p, c) in [
            ("a.txt", "a\n"),
            ("b.txt", "b\n"),
            ("c.txt", "c\n"),
            ("d.txt", "d\n"),
            ("e.txt", "e\n"),
            ("gone.txt", "gone\n"),
            ("sub/x.rs", "x\n"),
            ("sub/y.rs", "y\n"),
            ("vendor/kept.txt", "kept\n"),
            (".gitignore", "vendor/\n*.log\n"),
        ] {
            write(root, p, c);
        }
        std::os::unix::fs::symlink("a.txt", root.join("link")).expect("symlink");
        git(root, &["add", "-A"]);
        git(root, &["add", "-f", "vendor/kept.txt"]);
        git(root, &["commit", "-qm", "base"]);
        git(root, &["tag", "base"]);
        assert!(agree(root, "HEAD").is_empty(), "a clean tree");

        write(root, "a.txt", "a changed\n"); // unstaged
        write(root, "b.txt", "b changed\n"); // staged
        git(root, &["add", "b.txt"]);
        write(root, "c.txt", "c staged\n"); // staged, then put back
        git(root, &["add", "c.txt"]);
        write(root, "c.txt", "c\n");
        // Touched: new stat data, the same content.
        let d = std::fs::File::options()
            .append(true)
            .open(root.join("d.txt"))
            .expect("open");
        d.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
            .expect("touch");
        drop(d);
        write(root, "new.txt", "untracked\n");
        write(root, "debug.log", "ignored\n");
        write(root, "vendor/kept.txt", "kept changed\n"); // tracked, ignored
        write(root, "vendor/other.txt", "ignored\n");
        std::fs::remove_file(root.join("gone.txt")).expect("rm");
        std::fs::remove_file(root.join("link")).expect("rm");
        std::os::unix::fs::symlink("b.txt", root.join("link")).expect("symlink");
        // A nested repository: git does not look inside.
        write(root, "nested/inner.txt", "inner\n");
        git(&root.join("nested"), &["init", "-q"]);
        let changed = agree(root, "HEAD");
        let expected = ["a.txt", "b.txt", "link", "new.txt", "vendor/kept.txt"];
        assert_eq!(changed, expected.iter().map(|s| s.to_string()).collect());

        // Committed since the base, then changed again.
        git(root, &["add", "-A", "--", ".", ":!nested"]);
        git(root, &["commit", "-qm", "two"]);
        write(root, "sub/x.rs", "x changed\n");
        write(root, "e.txt", "e\n"); // rewritten as it was
        let changed = agree(root, "base");
        assert!(changed.contains("sub/x.rs") && changed.contains("new.txt"));
        assert!(!changed.contains("e.txt") && !changed.contains("d.txt"));
        // From a subdirectory: paths relative to it.
        let sub = agree(&root.join("sub"), "base");
        assert_eq!(sub, ["x.rs".to_string()].into_iter().collect());

        // The executable bit alone is not a change (git names it).
        git(root, &["commit", "-qam", "three"]);
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(root.join("e.txt"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let ours = since(root, "HEAD").expect("since").expect("read");
        assert!(ours.changed.is_empty(), "{:?}", ours.changed);
        std::fs::set_permissions(root.join("e.txt"), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");

        // An unresolved merge counts.
        git(root, &["checkout", "-q", "-b", "side", "base"]);
        write(root, "a.txt", "side\n");
        git(root, &["commit", "-qam", "side"]);
        git(root, &["checkout", "-q", "main"]);
        let merged = std::process::Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "merge",
                "-q",
                "side",
            ])
            .current_dir(root)
            .output()
            .expect("git");
        assert!(!merged.status.success(), "the merge conflicts");
        let changed = agree(root, "HEAD");
        assert!(changed.contains("a.txt"), "{changed:?}");
    }

    #[test]
    fn only_a_real_nested_repository_hides_its_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        git(root, &["init", "-q"]);
        write(root, "lib/a.py", "a\n");
        write(root, "vendor/foo/x.py", "ok\n");
        git(root, &["add", "-A"]);
        git(root, &["commit", "-qm", "base"]);
        git(root, &["tag", "base"]);
        // A tracked directory that also has a repository of its own, a
        // junk `.git` file, an empty `.git` directory: git lists their
        // new files, and so does this.
        git(&root.join("lib"), &["init", "-q"]);
        write(root, "lib/new.py", "s\n");
        write(root, "d/.git", "junk\n");
        write(root, "d/p.py", "p\n");
        write(root, "g/.git", "gitdir: /nonexistent\n"); // a stale link
        write(root, "g/p.py", "p\n");
        std::fs::create_dir_all(root.join("e/.git")).expect("mkdir");
        write(root, "e/p.py", "p\n");
        // A real nested repository: git does not look inside.
        write(root, "n/q.py", "q\n");
        git(&root.join("n"), &["init", "-q"]);
        let changed = agree(root, "HEAD");
        assert_eq!(
            changed,
            ["d/p.py", "e/p.py", "g/p.py", "lib/new.py"]
                .iter()
                .map(|s| s.to_string())
                .collect()
        );
        // Untracked by `git rm --cached`: changed, as git says.
        std::fs::remove_dir_all(root.join("d")).expect("rm");
        std::fs::remove_dir_all(root.join("e")).expect("rm");
        std::fs::remove_dir_all(root.join("g")).expect("rm");
        std::fs::remove_file(root.join("lib/new.py")).expect("rm");
        git(root, &["rm", "-q", "--cached", "lib/a.py"]);
        let changed = agree(root, "HEAD");
        assert!(changed.contains("lib/a.py"), "{changed:?}");
        // A tracked directory made a submodule: its files changed.
        let up = tempfile::tempdir().expect("tempdir");
        git(up.path(), &["init", "-q"]);
        write(up.path(), "x.py", "evil = 1\n");
        git(up.path(), &["add", "x.py"]);
        git(up.path(), &["commit", "-qm", "up"]);
        std::fs::remove_dir_all(root.join("n")).expect("rm");
        git(root, &["rm", "-rq", "vendor/foo"]);
        git(
            root,
            &[
                "-c",
                "protocol.file.allow=always",
                "submodule",
                "add",
                "-q",
                up.path().to_str().expect("utf-8"),
                "vendor/foo",
            ],
        );
        git(root, &["commit", "-qm", "sub"]);
        let ours = since(root, "base").expect("since").expect("read");
        assert!(
            ours.changed.contains("vendor/foo/x.py"),
            "{:?}",
            ours.changed
        );
        // Against HEAD, the submodule's files are git's to judge.
        let ours = since(root, "HEAD").expect("since").expect("read");
        assert!(
            !ours.changed.contains("vendor/foo/x.py"),
            "{:?}",
            ours.changed
        );
    }

    #[test]
    fn a_path_that_is_not_utf8_stands_for_no_other() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        git(root, &["init", "-q"]);
        let bad = std::ffi::OsStr::from_bytes(b"caf\xff.py");
        write(root, "caf\u{FFFD}.py", "A\n");
        std::fs::write(root.join(bad), "B\n").expect("write");
        git(root, &["add", "-A"]);
        git(root, &["commit", "-qm", "base"]);
        git(root, &["tag", "base"]);
        std::fs::remove_file(root.join(bad)).expect("rm");
        git(root, &["add", "-A"]);
        write(root, "caf\u{FFFD}.py", "B\n");
        git(root, &["commit", "-qam", "change"]);
        let ours = since(root, "base").expect("since").expect("read");
        assert!(
            ours.changed.contains("caf\u{FFFD}.py"),
            "{:?}",
            ours.changed
        );
    }

    #[test]
    fn an_index_this_reader_does_not_take_is_left_to_git() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        git(root, &["init", "-q"]);
        write(root, "a", "a\n");
        git(root, &["add", "a"]);
        git(root, &["commit", "-qm", "a"]);
        // An index replaced between the look before and the read, or
        // after it, is not taken (git renames a new one over it).
        let path = root.join(".git/index");
        let before = index::identity(&path);
        let read = index::read(&path, 20).expect("read");
        assert!(held(before, &read, &path));
        write(root, "a", "b\n");
        git(root, &["add", "a"]);
        assert!(!held(before, &read, &path), "replaced after the read");
        let again = index::read(&path, 20).expect("read");
        assert!(!held(before, &again, &path), "replaced before the read");
        git(root, &["update-index", "--split-index"]);
        assert!(since(root, "HEAD").expect("since").is_none());
        // Not a repository: git's own error, from the caller.
        let plain = tempfile::tempdir().expect("tempdir");
        assert!(since(plain.path(), "HEAD").expect("since").is_none());
        assert!(since(root, "--output=x").is_err());
    }
}
