//! A commit's tree, or the index, written out as plain files in a private
//! directory, so the gate judges exactly what is pushed or staged instead
//! of the work tree: a temporary one, or (a pushed commit's) one [`Kept`]
//! in the cache and updated by tree differences between runs.
//!
//! The content comes from git's object store byte for byte (`git
//! cat-file --batch`: no filters, no textconv, no attributes applied, no
//! hooks, nothing from the tree run). Paths are checked before anything
//! is written (repository-relative, no `.git` component); regular files
//! are created new (never through an existing entry), every directory is
//! opened without following a symlink, and symlinks are made last, as
//! links, so no write ever passes through one. Submodules (gitlinks)
//! become empty directories.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use crate::diag::Error;

/// The most a snapshot may write; past it the gate cannot be evaluated.
pub const MAX_BYTES: u64 = 8 << 30;
/// The most entries a snapshot may hold (files, links, submodules).
pub const MAX_ENTRIES: usize = 4_000_000;

fn too_many() -> String {
    format!("more than {MAX_ENTRIES} files")
}

/// The longest symlink target written (git's own links are paths).
const MAX_LINK_BYTES: u64 = 4096;
/// Files up to this size are written in one call.
const SMALL_BYTES: u64 = 1 << 20;

/// One entry: mode (octal, as git writes it), object id, path.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    mode: u32,
    oid: String,
    path: String,
}

/// Write the tree of commit `rev` of the repository at `repo` into a new
/// temporary directory.
pub fn of_commit(repo: &Path, rev: &str) -> Result<tempfile::TempDir, Error> {
    let what = format!("the tree of {rev}");
    let out = git_out(
        repo,
        &["ls-tree", "-r", "-z", "--full-tree", rev, "--"],
        &what,
    )?;
    let entries = parse_ls_tree(&out).map_err(|m| fail(&what, m))?;
    if entries.len() > MAX_ENTRIES {
        return Err(fail(&what, too_many()));
    }
    write(repo, &entries, &what)
}

/// Write the index's content (stage 0) of the repository at `repo` into a
/// new temporary directory. An unresolved merge (entries at stages 1–3)
/// cannot be judged.
pub fn of_index(repo: &Path) -> Result<tempfile::TempDir, Error> {
    let what = "the index";
    let out = git_out(repo, &["ls-files", "-s", "-z", "--full-name"], what)?;
    let entries = parse_ls_files(&out).map_err(|m| fail(what, m))?;
    if entries.len() > MAX_ENTRIES {
        return Err(fail(what, too_many()));
    }
    write(repo, &entries, what)
}

fn fail(what: &str, message: impl std::fmt::Display) -> Error {
    Error::Evidence {
        what: what.to_string(),
        message: message.to_string(),
    }
}

fn git_out(repo: &Path, args: &[&str], what: &str) -> Result<Vec<u8>, Error> {
    let out = super::git::output(super::git::command(repo).args(args))
        .map_err(|e| fail(what, format!("cannot run git: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(fail(
            what,
            err.lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("git failed"),
        ));
    }
    Ok(out.stdout)
}

/// `<mode> SP <type> SP <oid> TAB <path> NUL`, from `git ls-tree -r -z`.
fn parse_ls_tree(out: &[u8]) -> Result<Vec<Entry>, String> {
    records(out)
        .map(|(meta, path)| {
            let mut f = meta.split(' ');
            let (Some(mode), Some(_kind), Some(oid)) = (f.next(), f.next(), f.next()) else {
                return Err(format!("unexpected ls-tree line `{meta}`"));
            };
            entry(mode, oid, path)
        })
        .collect()
}

/// `<mode> SP <oid> SP <stage> TAB <path> NUL`, from `git ls-files -s -z`.
fn parse_ls_files(out: &[u8]) -> Result<Vec<Entry>, String> {
    records(out)
        .map(|(meta, path)| {
            let mut f = meta.split(' ');
            let (Some(mode), Some(oid), Some(stage)) = (f.next(), f.next(), f.next()) else {
                return Err(format!("unexpected ls-files line `{meta}`"));
            };
            if stage != "0" {
                return Err(format!(
                    "{path} has an unresolved merge conflict; resolve it and stage the result"
                ));
            }
            entry(mode, oid, path)
        })
        .collect()
}

fn records(out: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    out.split(|b| *b == 0).filter(|r| !r.is_empty()).map(|r| {
        let r = String::from_utf8_lossy(r);
        match r.split_once('\t') {
            Some((meta, path)) => (meta.to_string(), path.to_string()),
            None => (r.into_owned(), String::new()),
        }
    })
}

fn entry(mode: &str, oid: &str, path: String) -> Result<Entry, String> {
    let mode = u32::from_str_radix(mode, 8).map_err(|_| format!("{path}: mode `{mode}`"))?;
    if !oid.bytes().all(|b| b.is_ascii_hexdigit()) || !(40..=64).contains(&oid.len()) {
        return Err(format!("{path}: object id `{oid}`"));
    }
    // git refuses such paths itself; a crafted object store must not make
    // a write land outside the snapshot.
    if !crate::finding::is_repo_relative(&path)
        || path.split('/').any(|c| c.eq_ignore_ascii_case(".git"))
    {
        return Err(format!("refusing path `{}`", path.escape_debug()));
    }
    Ok(Entry {
        mode,
        oid: oid.to_string(),
        path,
    })
}

const GITLINK: u32 = 0o160000;
const SYMLINK: u32 = 0o120000;

/// Write `entries` into a new temporary directory.
fn write(repo: &Path, entries: &[Entry], what: &str) -> Result<tempfile::TempDir, Error> {
    let all: Vec<&Entry> = entries.iter().collect();
    if let Some(fast) = memory_dir(entries.len()) {
        match write_in(&fast, repo, &all) {
            Err(Failed::Full) => {} // the memory file system filled up: on disk
            other => return other.map_err(|f| f.into_error(what)),
        }
    }
    write_in(&std::env::temp_dir(), repo, &all).map_err(|f| f.into_error(what))
}

/// A memory file system to write a snapshot of `entries` files in, when
/// the user has not chosen a temporary directory (`TMPDIR`) and
/// `/dev/shm` has ample room: creating many small files there takes a
/// fraction of the time it takes on many disks (100 000 files: 2 s against
/// 50 s on this project's test machine).
fn memory_dir(entries: usize) -> Option<PathBuf> {
    if std::env::var_os("TMPDIR").is_some() {
        return None;
    }
    let shm = Path::new("/dev/shm");
    let st = rustix::fs::statvfs(shm).ok()?;
    let free = st.f_bavail.saturating_mul(st.f_frsize);
    // A page per file and then some, for a quarter of what is free.
    let need = (entries as u64).saturating_mul(16 << 10);
    (shm.is_dir() && need <= free / 4).then(|| shm.to_path_buf())
}

/// Why writing a snapshot stopped.
enum Failed {
    /// The file system is full (retried elsewhere when that was memory).
    Full,
    /// The snapshot's file system refused a write or removal.
    Io(String),
    /// The tree (or git reading it).
    Other(String),
}

impl Failed {
    fn into_error(self, what: &str) -> Error {
        match self {
            Failed::Full => fail(what, "no space left for the snapshot"),
            Failed::Io(m) | Failed::Other(m) => fail(what, m),
        }
    }

    /// As a kept tree's error: the file system's are the cache's.
    fn into_kept(self, what: &str) -> KeptError {
        match self {
            Failed::Full | Failed::Io(_) => KeptError::Cache(self.into_error(what)),
            Failed::Other(_) => KeptError::Tree(self.into_error(what)),
        }
    }
}

fn write_in(parent: &Path, repo: &Path, entries: &[&Entry]) -> Result<tempfile::TempDir, Failed> {
    let dir = tempfile::Builder::new()
        .prefix("portcullis-snapshot-")
        .tempdir_in(parent)
        .map_err(|e| Failed::Other(format!("cannot create a temporary directory: {e}")))?;
    write_entries(dir.path(), repo, entries)?;
    Ok(dir)
}

/// One entry of a written snapshot, as its manifest keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Item {
    path: String,
    mode: u32,
    /// Bytes written (a symlink: its target's length; a gitlink: 0).
    size: u64,
    /// A symlink's target.
    target: Option<String>,
}

/// Write `entries` below `root`, which holds none of their paths:
/// gitlinks as empty directories, then regular files, then symlinks.
/// Returns what was written, in no particular order.
fn write_entries(root: &Path, repo: &Path, entries: &[&Entry]) -> Result<Vec<Item>, Failed> {
    let full = std::cell::Cell::new(false);
    let refused = std::cell::Cell::new(false);
    let io = |path: &str, err: std::io::Error| {
        if err.kind() == std::io::ErrorKind::StorageFull {
            full.set(true);
        }
        refused.set(true);
        format!("{path}: {err}")
    };
    let failed = |m: String| {
        if full.get() {
            Failed::Full
        } else if refused.get() {
            Failed::Io(m)
        } else {
            Failed::Other(m)
        }
    };
    let mut w = Writer::new(root).map_err(|err| failed(io(&root.to_string_lossy(), err)))?;
    let mut items = Vec::with_capacity(entries.len());
    for e in entries.iter().filter(|e| e.mode == GITLINK) {
        w.empty_dir(&e.path)
            .map_err(|err| failed(io(&e.path, err)))?;
        items.push(Item {
            path: e.path.clone(),
            mode: GITLINK,
            size: 0,
            target: None,
        });
    }
    let blobs: Vec<&Entry> = entries
        .iter()
        .copied()
        .filter(|e| e.mode != GITLINK)
        .collect();
    let mut links = Vec::new();
    let mut total = 0u64;
    let written = cat_file(repo, &blobs, |e, size, content| {
        total = total.saturating_add(size);
        if total > MAX_BYTES {
            return Err(format!("more than {} GiB of files", MAX_BYTES >> 30));
        }
        if e.mode == SYMLINK {
            if size > MAX_LINK_BYTES {
                return Err(format!("{}: a symlink target of {size} bytes", e.path));
            }
            let mut target = Vec::with_capacity(size as usize);
            content
                .read_to_end(&mut target)
                .map_err(|err| format!("reading {}: {err}", e.path))?;
            if target.len() as u64 != size {
                return Err(format!("{}: cut short", e.path));
            }
            items.push(Item {
                path: e.path.clone(),
                mode: SYMLINK,
                size,
                target: Some(String::from_utf8_lossy(&target).into_owned()),
            });
            links.push((e.path.clone(), target));
            return Ok(());
        }
        let mut f = w.file(&e.path, e.mode).map_err(|err| io(&e.path, err))?;
        // Small files in one write; large ones streamed, never held whole.
        let copied = if size <= SMALL_BYTES {
            let mut buf = Vec::with_capacity(size as usize);
            content
                .read_to_end(&mut buf)
                .map_err(|err| format!("reading {}: {err}", e.path))?;
            f.write_all(&buf).map_err(|err| io(&e.path, err))?;
            buf.len() as u64
        } else {
            std::io::copy(content, &mut f).map_err(|err| io(&e.path, err))?
        };
        if copied != size {
            return Err(format!("{}: cut short", e.path));
        }
        items.push(Item {
            path: e.path.clone(),
            mode: e.mode,
            size,
            target: None,
        });
        Ok(())
    });
    written.map_err(failed)?;
    for (path, target) in links {
        w.symlink(&path, &target)
            .map_err(|err| failed(io(&path, err)))?;
    }
    Ok(items)
}

/// Writes and removes entries below a directory it holds open, one path
/// component at a time with `O_NOFOLLOW`: no write or removal passes
/// through a symlink, whatever the directory already holds, and a file is
/// only ever created new.
struct Writer {
    root: rustix::fd::OwnedFd,
    /// The directory of the last entry touched (entries come sorted by
    /// path, so neighbours share it).
    last: Option<(String, rustix::fd::OwnedFd)>,
}

const DIR_FLAGS: rustix::fs::OFlags = rustix::fs::OFlags::RDONLY
    .union(rustix::fs::OFlags::DIRECTORY)
    .union(rustix::fs::OFlags::NOFOLLOW)
    .union(rustix::fs::OFlags::CLOEXEC);

/// A path's directory ("" at the top) and last component.
fn split(path: &str) -> (&str, &str) {
    path.rsplit_once('/').unwrap_or(("", path))
}

impl Writer {
    fn new(root: &Path) -> std::io::Result<Writer> {
        let root = rustix::fs::open(root, DIR_FLAGS, rustix::fs::Mode::empty())?;
        Ok(Writer { root, last: None })
    }

    /// The directory `dir` ("" for the top), made (with its parents) when
    /// it is missing and `create`.
    fn dir(&mut self, dir: &str, create: bool) -> std::io::Result<rustix::fd::BorrowedFd<'_>> {
        use rustix::fd::AsFd;
        use rustix::fs::{Mode, mkdirat, openat};
        use rustix::io::Errno;
        if self.last.as_ref().is_none_or(|(d, _)| d != dir) {
            let mut cur = openat(&self.root, ".", DIR_FLAGS, Mode::empty())?;
            for part in dir.split('/').filter(|p| !p.is_empty()) {
                cur = match openat(&cur, part, DIR_FLAGS, Mode::empty()) {
                    Err(Errno::NOENT) if create => {
                        match mkdirat(&cur, part, Mode::from_raw_mode(0o755)) {
                            Ok(()) | Err(Errno::EXIST) => {}
                            Err(e) => return Err(e.into()),
                        }
                        openat(&cur, part, DIR_FLAGS, Mode::empty())?
                    }
                    other => other?,
                };
            }
            self.last = Some((dir.to_string(), cur));
        }
        self.last
            .as_ref()
            .map(|(_, fd)| fd.as_fd())
            .ok_or_else(|| std::io::Error::other("no directory"))
    }

    /// A new regular file at `path`, executable when git's `mode` says so.
    fn file(&mut self, path: &str, mode: u32) -> std::io::Result<std::fs::File> {
        use rustix::fs::{Mode, OFlags};
        let (dir, name) = split(path);
        let perm = if mode & 0o111 != 0 { 0o755 } else { 0o644 };
        let fd = rustix::fs::openat(
            self.dir(dir, true)?,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(perm),
        )?;
        Ok(std::fs::File::from(fd))
    }

    /// A symlink at `path` to `target` (written as a link, never followed).
    fn symlink(&mut self, path: &str, target: &[u8]) -> std::io::Result<()> {
        use std::os::unix::ffi::OsStrExt;
        let (dir, name) = split(path);
        rustix::fs::symlinkat(
            std::ffi::OsStr::from_bytes(target),
            self.dir(dir, true)?,
            name,
        )?;
        Ok(())
    }

    /// An empty directory at `path` (a submodule).
    fn empty_dir(&mut self, path: &str) -> std::io::Result<()> {
        let (dir, name) = split(path);
        rustix::fs::mkdirat(
            self.dir(dir, true)?,
            name,
            rustix::fs::Mode::from_raw_mode(0o755),
        )?;
        Ok(())
    }

    /// Remove the entry at `path` (an empty directory when `is_dir`), and
    /// the directories that leaves empty.
    fn remove(&mut self, path: &str, is_dir: bool) -> std::io::Result<()> {
        use rustix::fs::{AtFlags, unlinkat};
        use rustix::io::Errno;
        let (mut dir, name) = split(path);
        let flags = if is_dir {
            AtFlags::REMOVEDIR
        } else {
            AtFlags::empty()
        };
        unlinkat(self.dir(dir, false)?, name, flags)?;
        while !dir.is_empty() {
            let (up, name) = split(dir);
            self.last = None;
            match unlinkat(self.dir(up, false)?, name, AtFlags::REMOVEDIR) {
                Ok(()) => dir = up,
                Err(Errno::NOTEMPTY | Errno::EXIST) => break,
                Err(e) => return Err(e.into()),
            }
        }
        self.last = None;
        Ok(())
    }
}

/// The tree of a commit kept in the cache between runs: brought to the
/// commit asked for by writing only what differs between the tree it
/// holds and that commit's (a tree diff, from git's object store), with
/// its file list kept beside it, so a push of a few files to a big
/// repository neither writes nor walks the whole tree.
///
/// It lives in `<cache>/snapshots/<hash of the repository's path>/`:
/// `tree/` (the files), `manifest` (the tree id and file list,
/// checksummed, with the boot it was written in), `repository` (its path,
/// so the trees of repositories that are gone can be removed) and `lock`.
/// The manifest is removed before the tree is touched and written after; a
/// missing or damaged manifest, one from an earlier boot (writes since may
/// not have reached the disk), or an update that fails make it write the
/// whole tree again. An update fails where the tree is not as the manifest
/// says at a path the difference touches (a file already there, or
/// missing); the tree is private to the user and nothing else writes to
/// it (plugins read it read-only). A run holds the lock while it uses the
/// tree; a run that finds it held writes a temporary snapshot instead.
pub struct Kept {
    root: PathBuf,
    files: std::sync::Arc<Vec<super::FileEntry>>,
    written: usize,
    /// Why the tree was written whole although a manifest was held (its
    /// update failed).
    rewritten_because: Option<String>,
    /// Writing the manifest, done before the lock is let go.
    saver: Option<std::thread::JoinHandle<()>>,
    _lock: std::fs::File,
}

impl Drop for Kept {
    fn drop(&mut self) {
        if let Some(saver) = self.saver.take() {
            let _ = saver.join();
        }
    }
}

impl Kept {
    /// The snapshot's directory.
    pub fn path(&self) -> &Path {
        &self.root
    }

    /// Its file list, as a walk of it would give it.
    pub fn files(&self) -> std::sync::Arc<Vec<super::FileEntry>> {
        self.files.clone()
    }

    /// How many entries this run wrote (the whole tree, the difference,
    /// or none).
    pub fn written(&self) -> usize {
        self.written
    }
}

/// A snapshot for one run: kept in the cache, or a temporary directory.
pub enum Snapshot {
    Kept(Kept),
    Temporary(tempfile::TempDir),
}

impl Snapshot {
    pub fn path(&self) -> &Path {
        match self {
            Snapshot::Kept(k) => k.path(),
            Snapshot::Temporary(t) => t.path(),
        }
    }

    /// The file list, when the snapshot keeps one.
    pub fn files(&self) -> Option<std::sync::Arc<Vec<super::FileEntry>>> {
        match self {
            Snapshot::Kept(k) => Some(k.files()),
            Snapshot::Temporary(_) => None,
        }
    }
}

/// The tree of `commit`: kept in `cache` when there is a cache and no
/// other run is using the repository's kept tree, else written to a
/// temporary directory.
///
/// A kept tree that cannot be used (the cache's disk full or read-only, a
/// lock the file system refuses) is no reason to stop the push: a
/// temporary snapshot is written instead, with a note saying why. The
/// tree's own faults are found again there and stop it.
pub fn of_commit_cached(
    repo: &Path,
    cache: Option<&Path>,
    commit: &str,
) -> Result<(Snapshot, Option<String>), Error> {
    let mut note = None;
    if let Some(cache) = cache {
        match kept(repo, cache, commit) {
            Ok(Some(kept)) => {
                let note = kept.rewritten_because.as_ref().map(|why| {
                    format!(
                        "the kept tree was written whole again: its update failed ({})",
                        crate::diag::one_line(why, 300)
                    )
                });
                return Ok((Snapshot::Kept(kept), note));
            }
            Ok(None) => {}
            Err(KeptError::Tree(e)) => return Err(e),
            Err(KeptError::Cache(e)) => {
                note = Some(format!(
                    "the kept tree in the cache cannot be used ({}): a temporary snapshot is judged instead",
                    crate::diag::one_line(&e.to_string(), 300)
                ));
            }
        }
    }
    Ok((of_commit(repo, commit).map(Snapshot::Temporary)?, note))
}

/// Why a kept tree could not be had.
pub enum KeptError {
    /// The cache could not hold it (a full or read-only disk, a lock the
    /// file system refuses): a temporary snapshot may stand in.
    Cache(Error),
    /// The tree itself (or git reading it): a temporary snapshot would fail
    /// alike.
    Tree(Error),
}

impl std::fmt::Display for KeptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeptError::Cache(e) | KeptError::Tree(e) => e.fmt(f),
        }
    }
}

impl std::fmt::Debug for KeptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

/// The repository's kept tree brought to `commit`'s; `None` when another
/// run holds it.
pub fn kept(repo: &Path, cache: &Path, commit: &str) -> Result<Option<Kept>, KeptError> {
    use KeptError::{Cache, Tree};
    let what = format!("the tree of {commit}");
    let tree = tree_id(repo, commit, &what).map_err(Tree)?;
    let key = blake3::hash(repo.as_os_str().as_encoded_bytes()).to_hex();
    let dir = cache.join("snapshots").join(&key.as_str()[..32]);
    std::fs::create_dir_all(&dir).map_err(|e| Cache(Error::io(&dir, e)))?;
    let lock_path = dir.join("lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Cache(Error::io(&lock_path, e)))?;
    match rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => {}
        Err(rustix::io::Errno::WOULDBLOCK) => return Ok(None),
        Err(e) => return Err(Cache(Error::io(&lock_path, std::io::Error::from(e)))),
    }
    let manifest_path = dir.join("manifest");
    let root = dir.join("tree");
    let boot = boot_id();
    let held = std::fs::read(&manifest_path)
        .ok()
        .and_then(|bytes| Manifest::decode(&bytes, &boot));
    let held_tree = held.as_ref().map(|m| m.tree.clone());
    let mut rewritten_because = None;
    let (items, written) = match held {
        Some(m) if m.tree == tree && root.is_dir() => (m.items, 0),
        held => {
            // From here until the new manifest is saved, the tree matches
            // no manifest.
            match std::fs::remove_file(&manifest_path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Cache(Error::io(&manifest_path, e))),
            }
            let updated = match held {
                Some(m) => update(repo, &root, m, &tree).map_err(Some),
                None => Err(None),
            };
            match updated {
                Ok(done) => done,
                Err(why) => {
                    rewritten_because = why;
                    // Written whole: rare, so the time to look for the
                    // kept trees of repositories that are gone.
                    let _ =
                        std::fs::write(dir.join("repository"), repo.as_os_str().as_encoded_bytes());
                    if let Some(all) = dir.parent() {
                        prune(all, &dir);
                    }
                    rebuild(repo, &root, &tree, &what)?
                }
            }
        }
    };
    let manifest = Manifest { tree, items };
    // Saved beside the check (the lock held until it is written); not
    // saved (a full disk), the next run writes the tree again.
    let saver = (written > 0 || held_tree.as_deref() != Some(manifest.tree.as_str()))
        .then(|| {
            let bytes = manifest.encode(&boot);
            std::thread::Builder::new()
                .name("portcullis-manifest".into())
                .spawn(move || {
                    let _ = crate::cache::replace(&manifest_path, &[&bytes], false);
                })
                .ok()
        })
        .flatten();
    let files = file_list(&root, manifest.items);
    Ok(Some(Kept {
        root,
        files: std::sync::Arc::new(files),
        written,
        rewritten_because,
        saver,
        _lock: lock,
    }))
}

/// The tree id of `commit`.
fn tree_id(repo: &Path, commit: &str, what: &str) -> Result<String, Error> {
    let spec = format!("{commit}^{{tree}}");
    let out = git_out(
        repo,
        &["rev-parse", "--verify", "--end-of-options", &spec],
        what,
    )?;
    let id = String::from_utf8_lossy(&out).trim().to_string();
    if !(40..=64).contains(&id.len()) || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(fail(what, format!("unexpected tree id `{id}`")));
    }
    Ok(id)
}

/// This boot of the machine: Linux's boot id; elsewhere the second it
/// booted (the real-time clock less the time since boot), which
/// [`same_boot`] compares within two minutes (the clock may be set).
fn boot_id() -> String {
    if let Ok(id) = std::fs::read_to_string("/proc/sys/kernel/random/boot_id") {
        return id.trim().to_string();
    }
    use rustix::time::{ClockId, clock_gettime};
    let real = clock_gettime(ClockId::Realtime).tv_sec;
    let up = clock_gettime(ClockId::Monotonic).tv_sec;
    format!("booted {}", real.saturating_sub(up))
}

/// Whether a manifest written in boot `saved` was written in this boot,
/// `now`; never when either is unknown.
fn same_boot(saved: &str, now: &str) -> bool {
    let booted = |s: &str| {
        s.strip_prefix("booted ")
            .and_then(|t| t.parse::<i64>().ok())
    };
    match (booted(saved), booted(now)) {
        (Some(a), Some(b)) => a.abs_diff(b) <= 120,
        _ => !saved.is_empty() && saved == now,
    }
}

/// Remove the kept trees of repositories that are gone (each directory
/// names its repository in `repository`), but `keep` and any in use.
fn prune(snapshots: &Path, keep: &Path) {
    let Ok(dirs) = std::fs::read_dir(snapshots) else {
        return;
    };
    for dir in dirs.flatten().map(|e| e.path()).filter(|d| d != keep) {
        let Ok(repo) = std::fs::read(dir.join("repository")) else {
            continue;
        };
        use std::os::unix::ffi::OsStrExt;
        // Gone, not merely out of reach (permissions): a rebuild is cheap,
        // but not for nothing.
        if Path::new(std::ffi::OsStr::from_bytes(&repo))
            .try_exists()
            .ok()
            != Some(false)
        {
            continue;
        }
        let Ok(lock) = std::fs::File::open(dir.join("lock")) else {
            continue;
        };
        if rustix::fs::flock(&lock, rustix::fs::FlockOperation::NonBlockingLockExclusive).is_ok() {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// Write the whole tree again into an empty `root`.
fn rebuild(
    repo: &Path,
    root: &Path,
    tree: &str,
    what: &str,
) -> Result<(Vec<Item>, usize), KeptError> {
    use KeptError::{Cache, Tree};
    match std::fs::symlink_metadata(root) {
        Ok(m) if m.is_dir() => {
            std::fs::remove_dir_all(root).map_err(|e| Cache(Error::io(root, e)))?
        }
        Ok(_) => std::fs::remove_file(root).map_err(|e| Cache(Error::io(root, e)))?,
        Err(_) => {}
    }
    std::fs::create_dir(root).map_err(|e| Cache(Error::io(root, e)))?;
    let written = git_out(
        repo,
        &["ls-tree", "-r", "-z", "--full-tree", tree, "--"],
        what,
    )
    .map_err(Tree)
    .and_then(|out| parse_ls_tree(&out).map_err(|m| Tree(fail(what, m))))
    .and_then(|entries| {
        if entries.len() > MAX_ENTRIES {
            return Err(Tree(fail(what, too_many())));
        }
        let all: Vec<&Entry> = entries.iter().collect();
        write_entries(root, repo, &all).map_err(|f| f.into_kept(what))
    });
    match written {
        Ok(mut items) => {
            items.sort_unstable_by(|a, b| a.path.cmp(&b.path));
            let n = items.len();
            Ok((items, n))
        }
        Err(e) => {
            // Nothing half-written stays in the cache.
            let _ = std::fs::remove_dir_all(root);
            Err(e)
        }
    }
}

/// Bring `root`, holding `held`'s tree, to `tree` by the two trees'
/// difference: removals first (and the directories they empty), then what
/// is added or changed. Any surprise is an error (the caller rebuilds).
fn update(
    repo: &Path,
    root: &Path,
    held: Manifest,
    tree: &str,
) -> Result<(Vec<Item>, usize), String> {
    let out = git_out(
        repo,
        // `git diff` of two trees rather than `diff-tree` (a third of the
        // time here), with every setting that could change its raw output
        // or stop it on the command line (`-O/dev/null`: no order file).
        &[
            "diff",
            "--raw",
            "-z",
            "--no-abbrev",
            "--no-renames",
            "-O/dev/null",
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--ignore-submodules=none",
            &held.tree,
            tree,
            "--",
        ],
        "the tree difference",
    )
    .map_err(|e| e.to_string())?;
    let changes = parse_diff_tree(&out)?;
    let mut w = Writer::new(root).map_err(|e| e.to_string())?;
    let mut removed = std::collections::HashSet::new();
    for (old, _) in &changes {
        if let Some(old) = old {
            w.remove(&old.path, old.mode == GITLINK)
                .map_err(|e| format!("{}: {e}", old.path))?;
            removed.insert(old.path.as_str());
        }
    }
    drop(w);
    let added: Vec<&Entry> = changes.iter().filter_map(|(_, new)| new.as_ref()).collect();
    let written = write_entries(root, repo, &added).map_err(|f| match f {
        Failed::Full => "no space left".to_string(),
        Failed::Io(m) | Failed::Other(m) => m,
    })?;
    // The held list is sorted, the difference small: merged in one pass
    // rather than sorted again.
    let n = written.len();
    let mut removed: Vec<&str> = removed.into_iter().collect();
    removed.sort_unstable();
    let mut written = written;
    written.sort_unstable_by(|a, b| a.path.cmp(&b.path));
    let mut removed = removed.into_iter().peekable();
    let mut written = written.into_iter().peekable();
    let mut items = Vec::with_capacity(held.items.len() + n);
    for item in held.items {
        while removed.next_if(|r| *r < item.path.as_str()).is_some() {}
        if removed.next_if(|r| *r == item.path).is_some() {
            continue;
        }
        while let Some(new) = written.next_if(|w| w.path < item.path) {
            items.push(new);
        }
        items.push(item);
    }
    items.extend(written);
    if items.windows(2).any(|w| w[0].path >= w[1].path) {
        return Err("the kept list is not in order".into());
    }
    // The limits hold for the tree, however it was written.
    if items.len() > MAX_ENTRIES {
        return Err(too_many());
    }
    if items.iter().map(|i| i.size).fold(0u64, u64::saturating_add) > MAX_BYTES {
        return Err(format!("more than {} GiB of files", MAX_BYTES >> 30));
    }
    Ok((items, n))
}

/// What one path held in the old tree and holds in the new (`None`:
/// nothing).
type Change = (Option<Entry>, Option<Entry>);

/// `:<old mode> SP <new mode> SP <old id> SP <new id> SP <status> NUL
/// <path> NUL`, from `git diff --raw -z`: for each path, what the
/// old tree held there and what the new one holds (`None`: nothing).
fn parse_diff_tree(out: &[u8]) -> Result<Vec<Change>, String> {
    let mut fields = out.split(|b| *b == 0);
    let mut changes = Vec::new();
    while let Some(meta) = fields.next() {
        if meta.is_empty() {
            continue;
        }
        let meta = String::from_utf8_lossy(meta);
        let path = fields
            .next()
            .map(|p| String::from_utf8_lossy(p).into_owned())
            .ok_or_else(|| format!("diff line `{meta}` has no path"))?;
        let f: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let [old_mode, new_mode, old_id, new_id, _status] = f.as_slice() else {
            return Err(format!("unexpected diff line `{meta}`"));
        };
        let side = |mode: &str, id: &str| -> Result<Option<Entry>, String> {
            if mode.bytes().all(|b| b == b'0') {
                return Ok(None);
            }
            entry(mode, id, path.clone()).map(Some)
        };
        changes.push((side(old_mode, old_id)?, side(new_mode, new_id)?));
    }
    Ok(changes)
}

/// The file list of a snapshot at `root` holding `items` (sorted by
/// path): what [`super::tree::list`] gives for it, without a walk.
fn file_list(root: &Path, items: Vec<Item>) -> Vec<super::FileEntry> {
    use super::{FileEntry, FileKind};
    items
        .into_iter()
        .filter(|i| i.mode != GITLINK)
        .map(|i| FileEntry {
            link_resolves: i.mode == SYMLINK && std::fs::metadata(root.join(&i.path)).is_ok(),
            kind: if i.mode == SYMLINK {
                FileKind::Symlink
            } else {
                FileKind::File
            },
            path: i.path,
            size: i.size,
            link_target: i.target,
        })
        .collect()
}

/// A kept tree's id and entries.
#[derive(Debug, PartialEq, Eq)]
struct Manifest {
    tree: String,
    items: Vec<Item>,
}

const MANIFEST_MAGIC: &[u8] = b"portcullis snapshot manifest 2\n";

impl Manifest {
    /// The manifest as saved: magic, boot id and tree id lines, the count,
    /// then in columns the paths (each ended by NUL), the symlinks'
    /// targets (each ended by NUL), modes and sizes, and last the BLAKE3 of
    /// all that.
    fn encode(&self, boot: &str) -> Vec<u8> {
        let mut out = MANIFEST_MAGIC.to_vec();
        for line in [boot, self.tree.as_str()] {
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
        }
        out.extend_from_slice(&(self.items.len() as u64).to_le_bytes());
        let column = |out: &mut Vec<u8>, texts: &mut dyn Iterator<Item = &str>| {
            let mut block = Vec::new();
            for t in texts {
                block.extend_from_slice(t.as_bytes());
                block.push(0);
            }
            out.extend_from_slice(&(block.len() as u64).to_le_bytes());
            out.extend_from_slice(&block);
        };
        column(&mut out, &mut self.items.iter().map(|i| i.path.as_str()));
        column(
            &mut out,
            &mut self.items.iter().filter_map(|i| i.target.as_deref()),
        );
        for i in &self.items {
            out.extend_from_slice(&i.mode.to_le_bytes());
        }
        for i in &self.items {
            out.extend_from_slice(&i.size.to_le_bytes());
        }
        let sum = blake3::hash(&out);
        out.extend_from_slice(sum.as_bytes());
        out
    }

    /// A saved manifest written in this `boot`; `None` if it is anything
    /// else.
    fn decode(bytes: &[u8], boot: &str) -> Option<Manifest> {
        let (body, sum) = bytes.split_at_checked(bytes.len().checked_sub(32)?)?;
        if blake3::hash(body).as_bytes() != sum {
            return None;
        }
        let mut rest = Cursor(body.strip_prefix(MANIFEST_MAGIC)?);
        if !same_boot(rest.line()?, boot) {
            return None;
        }
        let tree = rest.line()?.to_string();
        if !(40..=64).contains(&tree.len()) || !tree.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        let count = usize::try_from(rest.number()?).ok()?;
        let paths_len = usize::try_from(rest.number()?).ok()?;
        let paths = std::str::from_utf8(rest.take(paths_len)?).ok()?;
        let targets_len = usize::try_from(rest.number()?).ok()?;
        let targets = std::str::from_utf8(rest.take(targets_len)?).ok()?;
        let modes = rest.take(count.checked_mul(4)?)?;
        let sizes = rest.take(count.checked_mul(8)?)?;
        if !rest.0.is_empty() {
            return None;
        }
        let mut paths = paths.split_terminator('\0');
        let mut targets = targets.split_terminator('\0');
        let mut items = Vec::with_capacity(count);
        for (mode, size) in modes.chunks_exact(4).zip(sizes.chunks_exact(8)) {
            let mode = u32::from_le_bytes(mode.try_into().ok()?);
            items.push(Item {
                path: paths.next()?.to_string(),
                mode,
                size: u64::from_le_bytes(size.try_into().ok()?),
                target: if mode == SYMLINK {
                    Some(targets.next()?.to_string())
                } else {
                    None
                },
            });
        }
        (paths.next().is_none() && targets.next().is_none()).then_some(Manifest { tree, items })
    }
}

/// Reads a saved manifest front to back.
struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.0.split_at_checked(n)?;
        self.0 = tail;
        Some(head)
    }

    fn number(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn line(&mut self) -> Option<&'a str> {
        let end = self.0.iter().position(|b| *b == b'\n')?;
        let text = std::str::from_utf8(self.take(end)?).ok()?;
        self.take(1)?;
        Some(text)
    }
}

/// Read each entry's blob through one `git cat-file --batch`, handing
/// the content to `each` in order. The git process is killed when it
/// runs past [`super::git::TIMEOUT`].
fn cat_file(
    repo: &Path,
    entries: &[&Entry],
    mut each: impl FnMut(&Entry, u64, &mut dyn Read) -> Result<(), String>,
) -> Result<(), String> {
    let mut child = super::git::command(repo)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        let _ = child.wait();
        return Err("git cat-file has no pipes".into());
    };
    let child = Arc::new(Mutex::new(child));
    let ids: Vec<String> = entries.iter().map(|e| e.oid.clone()).collect();
    // Object ids are fed from their own thread so that neither pipe can
    // fill while the other waits.
    let feeder = std::thread::Builder::new()
        .name("portcullis-git-feed".into())
        .spawn(move || {
            let mut stdin = std::io::BufWriter::new(stdin);
            for id in ids {
                if writeln!(stdin, "{id}").is_err() {
                    return;
                }
            }
            let _ = stdin.flush();
        })
        .map_err(|e| format!("cannot start a thread: {e}"))?;
    // The watchdog waits on a channel: the sender dropped when the reading
    // ends wakes it at once (a sleeping poll would hold the run up to its
    // period at the end).
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watchdog = {
        let child = child.clone();
        std::thread::Builder::new()
            .name("portcullis-git-watchdog".into())
            .spawn(move || {
                if let Err(std::sync::mpsc::RecvTimeoutError::Timeout) =
                    finished.recv_timeout(super::git::TIMEOUT)
                {
                    let _ = child.lock().map(|mut c| c.kill());
                }
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?
    };
    let mut reader = BufReader::new(stdout);
    let result = (|| -> Result<(), String> {
        for e in entries {
            let mut header = String::new();
            reader
                .read_line(&mut header)
                .map_err(|err| format!("reading {}: {err}", e.path))?;
            let mut f = header.split_whitespace();
            let (Some(_), Some(kind), Some(size)) = (f.next(), f.next(), f.next()) else {
                return Err(match header.trim() {
                    "" => format!(
                        "git cat-file stopped at {} (timed out after {} s?)",
                        e.path,
                        super::git::TIMEOUT.as_secs()
                    ),
                    h => format!("{}: {h}", e.path),
                });
            };
            if kind != "blob" {
                return Err(format!("{}: a {kind}, not a file", e.path));
            }
            let size: u64 = size
                .parse()
                .map_err(|_| format!("{}: size `{size}`", e.path))?;
            if size > MAX_BYTES {
                return Err(format!("{}: {size} bytes", e.path));
            }
            let mut content = (&mut reader).take(size);
            each(e, size, &mut content)?;
            // Whatever the callback left unread, then git's newline.
            std::io::copy(&mut content, &mut std::io::sink())
                .map_err(|err| format!("reading {}: {err}", e.path))?;
            let mut newline = [0u8; 1];
            reader
                .read_exact(&mut newline)
                .map_err(|err| format!("reading {}: {err}", e.path))?;
        }
        Ok(())
    })();
    drop(done);
    drop(reader);
    // Killed first, so a feeder blocked on git's stdin ends too.
    if let Ok(mut c) = child.lock() {
        let _ = c.kill();
        let _ = c.wait();
    }
    let _ = feeder.join();
    let _ = watchdog.join();
    result
}

#[cfg(test)]
mod tests {
    use super::super::index::test_repo::{git, write};
    use super::*;
    use std::collections::BTreeMap;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    fn rev(dir: &Path, what: &str) -> String {
        let out = std::process::Command::new("git")
            .args(["rev-parse", what])
            .current_dir(dir)
            .output()
            .expect("git");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Everything under `root`: each file's content and executable bit,
    /// each symlink's target, each empty directory.
    fn on_disk(root: &Path) -> BTreeMap<String, String> {
        fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
            let mut empty = true;
            for e in std::fs::read_dir(dir).expect("read_dir") {
                empty = false;
                let path = e.expect("entry").path();
                let rel = path
                    .strip_prefix(root)
                    .expect("under")
                    .to_string_lossy()
                    .into_owned();
                let meta = std::fs::symlink_metadata(&path).expect("lstat");
                if meta.file_type().is_symlink() {
                    let target = std::fs::read_link(&path).expect("link");
                    out.insert(rel, format!("-> {}", target.display()));
                } else if meta.is_dir() {
                    walk(root, &path, out);
                } else {
                    let exec = meta.permissions().mode() & 0o111 != 0;
                    let text = std::fs::read_to_string(&path).expect("read");
                    out.insert(rel, format!("{exec} {text}"));
                }
            }
            if empty && dir != root {
                let rel = dir
                    .strip_prefix(root)
                    .expect("under")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, "(empty directory)".into());
            }
        }
        let mut out = BTreeMap::new();
        walk(root, root, &mut out);
        out
    }

    /// The kept tree is what a whole snapshot of the commit holds, and its
    /// file list what a walk of it gives.
    fn assert_same(kept: &Kept, repo: &Path, commit: &str) {
        let whole = of_commit(repo, commit).expect("snapshot");
        assert_eq!(on_disk(kept.path()), on_disk(whole.path()), "{commit}");
        let walked = super::super::tree::list(kept.path(), true).expect("walk");
        assert_eq!(*kept.files(), walked, "{commit}");
    }

    /// A new repository (in a temporary directory, also holding the
    /// cache's path).
    fn new_repo() -> (tempfile::TempDir, PathBuf, PathBuf) {
        let tmp = tempfile::tempdir().expect("tmp");
        let repo = tmp.path().join("repo");
        let cache = tmp.path().join("cache");
        std::fs::create_dir_all(&repo).expect("mkdir");
        git(&repo, &["init", "-q"]);
        (tmp, repo, cache)
    }

    fn commit_all(repo: &Path, message: &str) {
        git(repo, &["add", "-A"]);
        git(repo, &["commit", "-qm", message]);
    }

    fn inode(path: &Path) -> u64 {
        std::fs::symlink_metadata(path).expect("lstat").ino()
    }

    #[test]
    fn a_kept_tree_follows_each_commit_by_the_trees_difference() {
        let (_tmp, repo, cache) = new_repo();
        write(&repo, "a.txt", "one\n");
        write(&repo, "dir/b.txt", "b\n");
        write(&repo, "dir/sub/c.txt", "c\n");
        write(&repo, "run.sh", "#!/bin/sh\n");
        std::fs::set_permissions(repo.join("run.sh"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        write(&repo, "x", "a file, then a directory\n");
        write(&repo, "y/z", "a directory, then a file\n");
        write(&repo, "gone/deep/only.txt", "removed later\n");
        std::os::unix::fs::symlink("a.txt", repo.join("link")).expect("symlink");
        std::os::unix::fs::symlink("nowhere", repo.join("dangling")).expect("symlink");
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", "one"]);
        let first = rev(&repo, "HEAD");
        git(
            &repo,
            &[
                "update-index",
                "--add",
                "--cacheinfo",
                &format!("160000,{first},module"),
            ],
        );
        git(&repo, &["commit", "-qm", "a submodule"]);
        let c1 = rev(&repo, "HEAD");

        let kept1 = kept(&repo, &cache, &c1).expect("kept").expect("not held");
        assert_eq!(kept1.written(), 10, "the whole tree, the gitlink included");
        assert_same(&kept1, &repo, &c1);
        assert!(kept1.path().join("module").is_dir());
        assert!(
            kept1
                .files()
                .iter()
                .any(|f| f.path == "link" && f.link_resolves)
        );
        assert!(
            kept1
                .files()
                .iter()
                .any(|f| f.path == "dangling" && !f.link_resolves)
        );
        // Held: another run writes a temporary snapshot instead.
        assert!(kept(&repo, &cache, &c1).expect("kept").is_none());
        let untouched = inode(&kept1.path().join("dir/sub/c.txt"));
        drop(kept1);
        let again = kept(&repo, &cache, &c1).expect("kept").expect("free");
        assert_eq!(again.written(), 0, "the same tree: nothing written");
        drop(again);

        write(&repo, "a.txt", "two\n");
        std::fs::remove_dir_all(repo.join("gone")).expect("rm");
        std::fs::remove_file(repo.join("x")).expect("rm");
        write(&repo, "x/inner.txt", "now a directory\n");
        std::fs::remove_dir_all(repo.join("y")).expect("rm");
        write(&repo, "y", "now a file\n");
        std::fs::remove_file(repo.join("link")).expect("rm");
        std::os::unix::fs::symlink("dir/b.txt", repo.join("link")).expect("symlink");
        std::fs::set_permissions(repo.join("run.sh"), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
        write(&repo, "new/deep/file.txt", "added\n");
        git(&repo, &["rm", "-q", "--cached", "module"]);
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-qm", "two"]);
        let c2 = rev(&repo, "HEAD");

        let kept2 = kept(&repo, &cache, &c2).expect("kept").expect("free");
        // a.txt, x/inner.txt, y, link, run.sh, new/deep/file.txt.
        assert_eq!(kept2.written(), 6, "only the difference");
        assert_same(&kept2, &repo, &c2);
        assert_eq!(inode(&kept2.path().join("dir/sub/c.txt")), untouched);
        assert!(
            !kept2.path().join("gone").exists(),
            "emptied directories go"
        );
        assert!(!kept2.path().join("module").exists());
        drop(kept2);

        // Back to the first commit, by the same difference the other way.
        let back = kept(&repo, &cache, &c1).expect("kept").expect("free");
        assert_same(&back, &repo, &c1);
        drop(back);

        // The tree not as its manifest says: written whole again.
        std::fs::remove_file(cache_tree(&cache).join("a.txt")).expect("rm");
        let mended = kept(&repo, &cache, &c2).expect("kept").expect("free");
        assert_eq!(mended.written(), 9);
        let why = mended.rewritten_because.as_deref().expect("a reason");
        assert!(why.contains("a.txt"), "{why}");
        assert_same(&mended, &repo, &c2);
        drop(mended);

        // A damaged manifest: written whole again.
        let manifest = cache_tree(&cache).with_file_name("manifest");
        let bytes = std::fs::read(&manifest).expect("manifest");
        std::fs::write(&manifest, &bytes[..bytes.len() - 1]).expect("cut");
        let rebuilt = kept(&repo, &cache, &c1).expect("kept").expect("free");
        assert_eq!(rebuilt.written(), 10);
        assert!(
            rebuilt.rewritten_because.is_none(),
            "no manifest: no update tried"
        );
        assert_same(&rebuilt, &repo, &c1);
    }

    #[test]
    fn boots_compare_by_id_or_within_two_minutes_never_when_unknown() {
        assert!(same_boot("3f0c", "3f0c"));
        assert!(!same_boot("3f0c", "3f0d"));
        assert!(!same_boot("", ""), "unknown: never the same");
        assert!(same_boot("booted 1700000000", "booted 1700000090"));
        assert!(!same_boot("booted 1700000000", "booted 1700000500"));
        assert!(!same_boot("booted 1700000000", "3f0c"));
        assert!(same_boot(&boot_id(), &boot_id()));
    }

    #[test]
    fn the_kept_trees_of_repositories_that_are_gone_are_removed() {
        let (tmp, repo, cache) = new_repo();
        write(&repo, "a.txt", "a\n");
        commit_all(&repo, "one");
        let snapshots = cache.join("snapshots");
        for (name, names) in [("gone", tmp.path().join("nowhere")), ("here", repo.clone())] {
            std::fs::create_dir_all(snapshots.join(name).join("tree")).expect("mkdir");
            std::fs::write(snapshots.join(name).join("lock"), "").expect("lock");
            std::fs::write(
                snapshots.join(name).join("repository"),
                names.as_os_str().as_encoded_bytes(),
            )
            .expect("repository");
        }
        let kept = kept(&repo, &cache, "HEAD").expect("kept").expect("free");
        assert!(!snapshots.join("gone").exists());
        assert!(snapshots.join("here").exists());
        let mine = kept.path().parent().expect("dir");
        assert_eq!(
            std::fs::read(mine.join("repository")).expect("named"),
            repo.as_os_str().as_encoded_bytes()
        );
    }

    #[test]
    fn an_unusable_cache_falls_back_to_a_temporary_snapshot_with_a_note() {
        let (_tmp, repo, cache) = new_repo();
        write(&repo, "a.txt", "a\n");
        commit_all(&repo, "one");
        // `snapshots` is a file: no kept tree can be made.
        std::fs::create_dir_all(&cache).expect("mkdir");
        std::fs::write(cache.join("snapshots"), "").expect("file");
        let (snap, note) = of_commit_cached(&repo, Some(&cache), "HEAD").expect("snapshot");
        assert!(matches!(snap, Snapshot::Temporary(_)));
        assert_eq!(
            std::fs::read_to_string(snap.path().join("a.txt")).expect("a"),
            "a\n"
        );
        let note = note.expect("a note");
        assert!(
            note.starts_with("the kept tree in the cache cannot be used ("),
            "{note}"
        );
        // A tree's own fault is still an error.
        assert!(of_commit_cached(&repo, Some(&cache), "no-such-commit").is_err());
    }

    /// The one kept tree under `cache`.
    fn cache_tree(cache: &Path) -> PathBuf {
        let mut dirs = std::fs::read_dir(cache.join("snapshots")).expect("snapshots");
        dirs.next()
            .expect("one")
            .expect("entry")
            .path()
            .join("tree")
    }

    #[test]
    fn manifests_read_back_and_refuse_another_boot_or_damage() {
        let m = Manifest {
            tree: "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391".into(),
            items: vec![
                Item {
                    path: "a/b.txt".into(),
                    mode: 0o100644,
                    size: 3,
                    target: None,
                },
                Item {
                    path: "link".into(),
                    mode: SYMLINK,
                    size: 7,
                    target: Some("a/b.txt".into()),
                },
                Item {
                    path: "module".into(),
                    mode: GITLINK,
                    size: 0,
                    target: None,
                },
            ],
        };
        let bytes = m.encode("boot-1");
        assert_eq!(Manifest::decode(&bytes, "boot-1").as_ref(), Some(&m));
        assert!(Manifest::decode(&bytes, "boot-2").is_none());
        for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
            assert!(Manifest::decode(&bytes[..cut], "boot-1").is_none(), "{cut}");
        }
        let mut flipped = bytes.clone();
        flipped[40] ^= 1;
        assert!(Manifest::decode(&flipped, "boot-1").is_none());
        let empty = Manifest {
            tree: m.tree.clone(),
            items: Vec::new(),
        };
        assert_eq!(
            Manifest::decode(&empty.encode("boot-1"), "boot-1").as_ref(),
            Some(&empty)
        );
        assert!(
            Manifest::decode(&empty.encode(""), "").is_none(),
            "boot unknown"
        );
    }

    #[test]
    fn listings_are_parsed_and_hostile_paths_refused() {
        let oid = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";
        let tree = format!("100644 blob {oid}\ta/b.txt\0120000 blob {oid}\tlink\0");
        let entries = parse_ls_tree(tree.as_bytes()).expect("parsed");
        assert_eq!(entries.len(), 2);
        assert_eq!(
            (entries[1].mode, entries[1].path.as_str()),
            (SYMLINK, "link")
        );
        for bad in [
            "../x",
            "/etc/passwd",
            "a/.git/config",
            ".GIT/hooks/x",
            "a//b",
        ] {
            let line = format!("100644 blob {oid}\t{bad}\0");
            assert!(parse_ls_tree(line.as_bytes()).is_err(), "{bad}");
        }
        let staged = format!("100644 {oid} 0\tok\0100644 {oid} 2\tconflicted\0");
        let e = parse_ls_files(staged.as_bytes()).expect_err("conflict");
        assert!(
            e.contains("conflicted has an unresolved merge conflict"),
            "{e}"
        );
    }
}
