//! `wasi:filesystem` `open-at` as the host grants it: the only way a plugin
//! opens a file through WASI. It replaces the stock implementation, which
//! follows symlinks inside a preopen and reaches `.git`.
//!
//! Every open walks the path from the descriptor one component at a time
//! without following a symlink ([`crate::beneath`]); `..` is refused; a
//! `.git` component is refused under the repository (mounts outside it,
//! such as an advisory database checkout, keep theirs); nothing is opened
//! for writing; FIFOs, sockets and devices are refused.

use std::os::fd::AsFd;

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::filesystem::{Descriptor, Dir, File};
use wasmtime_wasi::p2::bindings::filesystem::types::{
    DescriptorFlags, ErrorCode, OpenFlags, PathFlags,
};
use wasmtime_wasi::{FsPerms, OpenMode};

use super::imports::State;
use crate::beneath::{self, Refused};

/// The interface whose `open-at` is replaced (the version
/// `wasmtime_wasi::p2::add_to_linker_sync` defines; guests importing an
/// older 0.2 version resolve to it).
const INTERFACE: &str = "wasi:filesystem/types@0.2.12";

/// Replace `open-at` in a linker that has WASI p2 in it.
pub(super) fn add_to_linker(linker: &mut Linker<State>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    linker.instance(INTERFACE)?.func_wrap(
        "[method]descriptor.open-at",
        |mut store: StoreContextMut<'_, State>,
         (fd, _path_flags, path, oflags, flags): (
            Resource<Descriptor>,
            PathFlags,
            String,
            OpenFlags,
            DescriptorFlags,
        )| { Ok((open_at(store.data_mut(), fd, &path, oflags, flags)?,)) },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

fn open_at(
    state: &mut State,
    fd: Resource<Descriptor>,
    path: &str,
    oflags: OpenFlags,
    flags: DescriptorFlags,
) -> wasmtime::Result<Result<Resource<Descriptor>, ErrorCode>> {
    if oflags.intersects(OpenFlags::CREATE | OpenFlags::EXCLUSIVE | OpenFlags::TRUNCATE)
        || flags.intersects(DescriptorFlags::WRITE | DescriptorFlags::MUTATE_DIRECTORY)
    {
        return Ok(Err(ErrorCode::ReadOnly));
    }
    let dir = match state.table.get(&fd)? {
        Descriptor::Dir(d) => d.clone(),
        Descriptor::File(_) => return Ok(Err(ErrorCode::NotDirectory)),
    };
    let in_repo = state
        .access
        .as_ref()
        .is_none_or(|a| is_under(&dir, &a.root_path));
    let opened =
        beneath::components(path, in_repo).and_then(|parts| beneath::open(dir.dir.as_fd(), &parts));
    let file = match opened {
        Ok(f) => f,
        Err(Refused::Symlink) => return Ok(Err(ErrorCode::Loop)),
        Err(Refused::Parent | Refused::Git) => return Ok(Err(ErrorCode::NotPermitted)),
        Err(Refused::Os(e)) => return Ok(Err(ErrorCode::from(&std::io::Error::from(e)))),
    };
    let meta = match file.metadata() {
        Ok(m) => m,
        Err(e) => return Ok(Err(ErrorCode::from(&e))),
    };
    let descriptor = if meta.is_dir() {
        Descriptor::Dir(Dir::new(file, FsPerms::ReadOnly, OpenMode::READ, false))
    } else if meta.is_file() {
        if oflags.contains(OpenFlags::DIRECTORY) {
            return Ok(Err(ErrorCode::NotDirectory));
        }
        Descriptor::File(File::new(file, FsPerms::ReadOnly, OpenMode::READ, false))
    } else {
        return Ok(Err(ErrorCode::Access));
    };
    Ok(Ok(state.table.push(descriptor)?))
}

/// Whether the open directory lies in the repository (where it is now,
/// as the kernel tracks it).
#[cfg(target_os = "linux")]
fn is_under(dir: &Dir, root: &std::path::Path) -> bool {
    use std::os::fd::AsRawFd;
    std::fs::read_link(format!("/proc/self/fd/{}", dir.dir.as_raw_fd()))
        .map_or(true, |p| p.starts_with(root))
}

/// Elsewhere every directory counts as the repository's: `.git` is
/// refused everywhere.
#[cfg(not(target_os = "linux"))]
fn is_under(_dir: &Dir, _root: &std::path::Path) -> bool {
    true
}
