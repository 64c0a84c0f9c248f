//! The repository's file list: every file git would consider (respecting
//! `.gitignore` files and `.git/info/exclude`, as git does; not the user's
//! global excludes, so every machine sees the same list), dotfiles included,
//! `.git/` excluded, symlinks listed as links (never followed). Walked on
//! all cores; the list is sorted by path.

use std::path::Path;
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use super::{FileEntry, FileKind};
use crate::diag::Error;

pub fn list(root: &Path) -> Result<Vec<FileEntry>, Error> {
    let files = Mutex::new(Vec::new());
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    WalkBuilder::new(root)
        .hidden(false)
        .ignore(false)
        .parents(false)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .threads(threads)
        .filter_entry(|e| e.file_name() != ".git")
        .build_parallel()
        .run(|| {
            Box::new(|entry| {
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
    let mut files = files.into_inner().unwrap_or_else(|p| p.into_inner());
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The entry for a file or symlink; `None` for directories.
fn file_entry(root: &Path, entry: &ignore::DirEntry) -> Result<Option<FileEntry>, Error> {
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
