//! Opening a granted path without following a symlink at any component.
//!
//! Paths are walked one component at a time with `openat(…, O_NOFOLLOW)`
//! from a directory the host already holds open, so a symlink anywhere in
//! the path is refused (`ELOOP`) and a concurrent writer who swaps a
//! directory or file for a symlink between the walk and the read gains
//! nothing: there is no moment at which a path is resolved by name from
//! the top. `..` is refused; `.` and empty components are skipped. FIFOs
//! and devices are opened non-blocking and refused by the caller.
//!
//! `.git` is never granted: a path with a `.git` component inside the
//! repository is refused (CI checkouts keep the job's token in
//! `.git/config`).

use std::fs::File;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::fs::{Mode, OFlags, openat};
use rustix::io::Errno;

/// Why a path was not opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    /// A component is a symlink.
    Symlink,
    /// A `..` component.
    Parent,
    /// A `.git` component inside the repository.
    Git,
    /// What the system said.
    Os(Errno),
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refused::Symlink => {
                f.write_str("not readable: a symlink (symlinks are never followed)")
            }
            Refused::Parent => f.write_str("not readable: `..` in the path"),
            Refused::Git => f.write_str("not readable: `.git` is never granted"),
            Refused::Os(e) if *e == Errno::NOENT => f.write_str("no such file or directory"),
            Refused::Os(e) if *e == Errno::NOTDIR => f.write_str("not a directory"),
            Refused::Os(e) => std::io::Error::from(*e).fmt(f),
        }
    }
}

/// The components of `path` to walk, or why not.
pub(crate) fn components(path: &str, in_repo: bool) -> Result<Vec<&str>, Refused> {
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if parts.contains(&"..") {
        return Err(Refused::Parent);
    }
    if in_repo && parts.contains(&".git") {
        return Err(Refused::Git);
    }
    Ok(parts)
}

/// The directory at `path` (no symlink at any component), for a preopen or
/// a walk.
pub(crate) fn open_dir(dir: BorrowedFd<'_>, parts: &[&str]) -> Result<OwnedFd, Refused> {
    let Some((first, rest)) = parts.split_first() else {
        return openat(dir, ".", DIR_FLAGS, Mode::empty()).map_err(Refused::Os);
    };
    let mut cur = step(dir, first)?;
    for part in rest {
        cur = step(cur.as_fd(), part)?;
    }
    Ok(cur)
}

const DIR_FLAGS: OFlags = OFlags::RDONLY
    .union(OFlags::DIRECTORY)
    .union(OFlags::NOFOLLOW)
    .union(OFlags::CLOEXEC);

/// One directory component under `dir`, not followed if a symlink.
fn step(dir: BorrowedFd<'_>, part: &str) -> Result<OwnedFd, Refused> {
    match openat(dir, part, DIR_FLAGS, Mode::empty()) {
        Ok(next) => Ok(next),
        // O_DIRECTORY|O_NOFOLLOW on a symlink is ENOTDIR on Linux.
        Err(Errno::NOTDIR) if is_symlink(dir, part) => Err(Refused::Symlink),
        Err(e) => Err(refused(e)),
    }
}

/// The last component, for reading (FIFOs opened non-blocking).
fn open_last(parent: BorrowedFd<'_>, last: &str) -> Result<File, Refused> {
    openat(
        parent,
        last,
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
        Mode::empty(),
    )
    .map(File::from)
    .map_err(refused)
}

/// Open `parts` under `dir` for reading: a regular file or a directory
/// (symlinks refused at every component; FIFOs opened non-blocking).
pub(crate) fn open(dir: BorrowedFd<'_>, parts: &[&str]) -> Result<File, Refused> {
    match parts.split_last() {
        None => open_dir(dir, &[]).map(File::from),
        Some((last, [])) => open_last(dir, last),
        Some((last, walk)) => open_last(open_dir(dir, walk)?.as_fd(), last),
    }
}

/// Opens many paths under one directory as [`open`] does, each parent
/// directory walked once (up to [`Walker::MAX_DIRS`] held open at a time).
pub(crate) struct Walker<'a> {
    root: BorrowedFd<'a>,
    dirs: std::collections::HashMap<String, OwnedFd>,
}

impl<'a> Walker<'a> {
    const MAX_DIRS: usize = 256;

    pub(crate) fn new(root: BorrowedFd<'a>) -> Walker<'a> {
        Walker {
            root,
            dirs: std::collections::HashMap::new(),
        }
    }

    pub(crate) fn open(&mut self, parts: &[&str]) -> Result<File, Refused> {
        let Some((last, walk)) = parts.split_last() else {
            return open(self.root, parts);
        };
        if walk.is_empty() {
            return open_last(self.root, last);
        }
        if self.dirs.len() + walk.len() > Self::MAX_DIRS {
            self.dirs.clear();
        }
        let mut key = String::new();
        for part in walk {
            let parent_len = key.len();
            if !key.is_empty() {
                key.push('/');
            }
            key.push_str(part);
            if !self.dirs.contains_key(&key) {
                let next = match parent_len {
                    0 => step(self.root, part)?,
                    n => step(self.dirs[&key[..n]].as_fd(), part)?,
                };
                self.dirs.insert(key.clone(), next);
            }
        }
        open_last(self.dirs[&key].as_fd(), last)
    }
}

fn is_symlink(dir: BorrowedFd<'_>, name: &str) -> bool {
    rustix::fs::statat(dir, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Symlink
    })
}

fn refused(e: Errno) -> Refused {
    // O_NOFOLLOW on a symlink: ELOOP.
    if e == Errno::LOOP {
        Refused::Symlink
    } else {
        Refused::Os(e)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn symlinks_are_refused_at_every_component() {
        let dir = tempfile::tempdir().expect("fixture");
        let root = dir.path();
        std::fs::create_dir_all(root.join("real/sub")).expect("fixture");
        std::fs::write(root.join("real/sub/f"), "x").expect("fixture");
        std::os::unix::fs::symlink("real", root.join("link")).expect("fixture");
        std::os::unix::fs::symlink("sub/f", root.join("real/flink")).expect("fixture");
        let rootfd = File::open(root).expect("fixture");
        let at = |p: &str| {
            components(p, true).and_then(|parts| open(rootfd.as_fd(), &parts).map(|_| ()))
        };
        assert_eq!(at("real/sub/f"), Ok(()));
        assert_eq!(at("./real//sub/f"), Ok(()));
        assert_eq!(at("link/sub/f"), Err(Refused::Symlink));
        assert_eq!(at("real/flink"), Err(Refused::Symlink));
        assert_eq!(at("real/../real/sub/f"), Err(Refused::Parent));
        assert_eq!(at(".git/config"), Err(Refused::Git));
        assert_eq!(at("real/.git/config"), Err(Refused::Git));
        assert!(components(".git/HEAD", false).is_ok());
        // The same through a walker that keeps directories open.
        let mut w = Walker::new(rootfd.as_fd());
        let mut walk = |p: &str| components(p, true).and_then(|parts| w.open(&parts).map(|_| ()));
        assert_eq!(walk("real/sub/f"), Ok(()));
        assert_eq!(walk("real/sub/f"), Ok(()));
        assert_eq!(walk("link/sub/f"), Err(Refused::Symlink));
        assert_eq!(walk("real/flink"), Err(Refused::Symlink));
    }
}
