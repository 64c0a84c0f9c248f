//! The repository's file list: every file git would consider (respecting
//! `.gitignore` files and `.git/info/exclude`, as git does; not the user's
//! global excludes, so every machine sees the same list), dotfiles included,
//! `.git/` excluded, symlinks listed as links (never followed). Walked on
//! all cores; the list is sorted by path. Files git tracks are listed even
//! when `.gitignore` would hide them (a change cannot hide a committed
//! `.env` from the gate by also ignoring it).

use std::path::Path;
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use super::{FileEntry, FileKind};
use crate::diag::Error;

/// `snapshot`: `root` holds exactly the files of a commit or the index
/// (see [`super::snapshot`]), all tracked: no ignore file applies.
pub fn list(root: &Path, snapshot: bool) -> Result<Vec<FileEntry>, Error> {
    // git lists the tracked files `.gitignore` hides while the tree is
    // walked: a process start and a read of the index, overlapped.
    std::thread::scope(|s| {
        let hidden = (!snapshot).then(|| s.spawn(|| tracked_but_ignored(root)));
        let walked = walk(root, snapshot).map(|w| w.files.into_iter().map(|f| f.entry).collect());
        let hidden = match hidden {
            Some(h) => h.join().unwrap_or_else(|_| {
                Err(Error::Evidence {
                    what: "files".into(),
                    message: "listing tracked files failed".into(),
                })
            }),
            None => Ok(Vec::new()),
        };
        // The walk's error first, as when git ran after it.
        let mut files: Vec<FileEntry> = walked?;
        let hidden = hidden?;
        if !hidden.is_empty() {
            for rel in hidden {
                if files
                    .binary_search_by(|f| f.path.as_str().cmp(&rel))
                    .is_err()
                    && let Some(entry) = lstat_entry(root, &rel)?
                {
                    files.push(entry);
                }
            }
            files.sort_by(|a, b| a.path.cmp(&b.path));
        }
        Ok(files)
    })
}

/// A file the walk found, with its stat data.
pub struct Walked {
    pub entry: FileEntry,
    pub stat: super::index::Stat,
}

/// What a walk found.
pub struct Walk {
    /// Sorted by path.
    pub files: Vec<Walked>,
    /// Directories below `root` holding a `.git` of their own (nested
    /// repositories, submodules, linked work trees), relative to `root`.
    pub nested: Vec<String>,
}

/// Every file and symlink under `root` but `.git`, `.gitignore`d ones
/// left out unless `snapshot`, sorted by path.
pub fn walk(root: &Path, snapshot: bool) -> Result<Walk, Error> {
    let files = Mutex::new(Vec::new());
    let nested = Mutex::new(Vec::new());
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    WalkBuilder::new(root)
        .hidden(false)
        .ignore(false)
        .parents(false)
        .git_global(false)
        .require_git(false)
        .git_ignore(!snapshot)
        .git_exclude(!snapshot)
        .follow_links(false)
        .threads(threads)
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
                if let Ok(e) = &entry
                    && e.file_name() == ".git"
                {
                    if e.depth() > 1
                        && let Some(dir) = e.path().parent().and_then(|d| d.strip_prefix(root).ok())
                    {
                        lock(&nested).push(dir.to_string_lossy().replace('\\', "/"));
                    }
                    return WalkState::Skip;
                }
                let result = entry
                    .map_err(|e| Error::Evidence {
                        what: "files".into(),
                        message: e.to_string(),
                    })
                    .and_then(|entry| file_entry(root, &entry));
                match result {
                    Ok(Some(f)) => lock(&files).push(f),
                    Ok(None) => {}
                    Err(e) => {
                        lock(&first_error).get_or_insert(e);
                        return WalkState::Quit;
                    }
                }
                WalkState::Continue
            })
        });
    if let Some(e) = lock(&first_error).take() {
        return Err(e);
    }
    let mut files: Vec<Walked> = files.into_inner().unwrap_or_else(|p| p.into_inner());
    files.sort_by(|a, b| a.entry.path.cmp(&b.entry.path));
    let nested = nested.into_inner().unwrap_or_else(|p| p.into_inner());
    Ok(Walk { files, nested })
}

/// Tracked files that `.gitignore` hides, relative to `root`; none when
/// `root` is not in a git work tree.
fn tracked_but_ignored(root: &Path) -> Result<Vec<String>, Error> {
    let out = super::git::output(super::git::command(root).args([
        "ls-files",
        "-z",
        "--cached",
        "--ignored",
        "--exclude-standard",
    ]));
    match out {
        Ok(o) if o.status.success() => Ok(super::git::paths(&o.stdout).collect()),
        // Not a work tree (git says so): nothing is tracked.
        Ok(_) => Ok(Vec::new()),
        Err(e) if root.join(".git").exists() || e.kind() == std::io::ErrorKind::TimedOut => {
            Err(Error::Evidence {
                what: "files".into(),
                message: format!("cannot run git to list tracked files: {e}"),
            })
        }
        Err(_) => Ok(Vec::new()),
    }
}

/// The entry for a tracked path the walk did not list (without following
/// a symlink); `None` when it is gone from the work tree or a directory.
fn lstat_entry(root: &Path, rel: &str) -> Result<Option<FileEntry>, Error> {
    Ok(lstat_walked(root, rel)?.map(|w| w.entry))
}

/// [`lstat_entry`] with the stat data.
pub fn lstat_walked(root: &Path, rel: &str) -> Result<Option<Walked>, Error> {
    if !crate::finding::is_repo_relative(rel) || rel.split('/').any(|c| c == ".git") {
        return Ok(None);
    }
    let path = root.join(rel);
    match std::fs::symlink_metadata(&path) {
        Ok(meta) => Ok(
            entry_of(&path, rel.to_string(), &meta)?.map(|entry| Walked {
                entry,
                stat: super::index::Stat::of(&meta),
            }),
        ),
        Err(_) => Ok(None),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The entry for a file or symlink; `None` for directories.
fn file_entry(root: &Path, entry: &ignore::DirEntry) -> Result<Option<Walked>, Error> {
    let Some(ft) = entry.file_type() else {
        return Ok(None); // stdin only
    };
    if ft.is_dir() {
        return Ok(None);
    }
    let path = entry.path();
    let rel = path.strip_prefix(root).map_err(|e| Error::io(path, e))?;
    let rel = rel
        .to_str()
        .ok_or_else(|| Error::Evidence {
            what: "files".into(),
            message: format!("{}: path is not UTF-8", path.display()),
        })?
        .replace('\\', "/");
    let meta = entry.metadata().map_err(|e| Error::io(path, e))?;
    Ok(entry_of(path, rel, &meta)?.map(|entry| Walked {
        entry,
        stat: super::index::Stat::of(&meta),
    }))
}

/// The entry for `path` (repository-relative `rel`) from its own, not its
/// target's, metadata: a symlink or a regular file; `None` otherwise.
fn entry_of(
    path: &Path,
    rel: String,
    meta: &std::fs::Metadata,
) -> Result<Option<FileEntry>, Error> {
    let ft = meta.file_type();
    if ft.is_symlink() {
        let target = std::fs::read_link(path).map_err(|e| Error::io(path, e))?;
        Ok(Some(FileEntry {
            path: rel,
            size: meta.len(),
            kind: FileKind::Symlink,
            link_target: Some(target.to_string_lossy().into_owned()),
            link_resolves: std::fs::metadata(path).is_ok(),
        }))
    } else if ft.is_file() {
        Ok(Some(FileEntry {
            path: rel,
            size: meta.len(),
            kind: FileKind::File,
            link_target: None,
            link_resolves: false,
        }))
    } else {
        Ok(None) // sockets, FIFOs, devices: git cannot commit them
    }
}
