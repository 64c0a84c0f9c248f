//! The repository's file list: every file git would consider (respecting
//! `.gitignore` files and `.git/info/exclude`, as git does; not the user's
//! global excludes, so every machine sees the same list), dotfiles included,
//! `.git/` excluded, symlinks listed as links (never followed).

use std::path::Path;

use ignore::WalkBuilder;

use super::{FileEntry, FileKind};
use crate::diag::Error;

pub fn list(root: &Path) -> Result<Vec<FileEntry>, Error> {
    let mut files = Vec::new();
    let walker = WalkBuilder::new(root)
        .hidden(false)
        .ignore(false)
        .parents(false)
        .git_global(false)
        .require_git(false)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git")
        .build();
    for entry in walker {
        let entry = entry.map_err(|e| Error::Evidence {
            what: "files".into(),
            message: e.to_string(),
        })?;
        let Some(ft) = entry.file_type() else {
            continue;
        }; // stdin only
        if ft.is_dir() {
            continue;
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
        let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
        if ft.is_symlink() {
            let target = std::fs::read_link(path).map_err(|e| Error::io(path, e))?;
            files.push(FileEntry {
                path: rel,
                size: meta.len(),
                kind: FileKind::Symlink,
                link_target: Some(target.to_string_lossy().into_owned()),
                link_resolves: std::fs::metadata(path).is_ok(),
            });
        } else if ft.is_file() {
            files.push(FileEntry {
                path: rel,
                size: meta.len(),
                kind: FileKind::File,
                link_target: None,
                link_resolves: false,
            });
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}
