//! What a plugin may read: the policy's repository grants and its mounts
//! outside the repository, as read-only preopens.

use std::path::{Path, PathBuf};

use super::GUEST_ROOT;
use super::bindings::portcullis::plugin::types as wit;
use crate::failure::PluginFailure;

/// What a plugin may read: repository-relative directories (`.` = all) at
/// `/repo`, and the policy's mounts outside the repository at `/mnt/<name>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Grants<'a> {
    pub read: &'a [String],
    pub mounts: &'a [Mount],
}

/// A read-only directory outside the repository, readable at
/// `/mnt/<name>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub name: String,
    pub path: PathBuf,
    /// Where it was granted (`file:line:col`), for messages.
    pub granted_at: String,
}

/// Host directories and where the sandbox sees them.
type Preopens = Vec<(PathBuf, String)>;

/// Where policy mounts appear in the sandbox.
const MOUNT_ROOT: &str = "/mnt";

/// Preopens for the policy's mounts outside the repository, and how the
/// plugin sees them. A path that does not exist is passed as absent (the
/// plugin decides whether that is an error); one that is not a directory
/// fails the plugin.
pub(super) fn outside_preopens(
    extra: &[Mount],
) -> Result<(Preopens, Vec<wit::Mount>), PluginFailure> {
    let mut preopens = Vec::new();
    let mut seen = Vec::new();
    for m in extra {
        let present = match m.path.canonicalize() {
            Ok(real) if real.is_dir() => {
                preopens.push((real, format!("{MOUNT_ROOT}/{}", m.name)));
                true
            }
            Ok(_) => {
                return Err(PluginFailure::Load(format!(
                    "{}: mount `{}`: {} is not a directory",
                    m.granted_at,
                    m.name,
                    m.path.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => {
                return Err(PluginFailure::Load(format!(
                    "{}: mount `{}`: {}: {e}",
                    m.granted_at,
                    m.name,
                    m.path.display()
                )));
            }
        };
        seen.push(wit::Mount {
            name: m.name.clone(),
            host_path: m.path.to_string_lossy().into_owned(),
            present,
        });
    }
    Ok((preopens, seen))
}

/// Host directories to preopen for the grants, checked to lie inside the
/// repository (after resolving symlinks).
pub(super) fn repo_preopens(root: &Path, grants: &[String]) -> Result<Preopens, PluginFailure> {
    let mut out = Vec::new();
    for g in grants {
        let (host_dir, guest) = if g == "." {
            (root.to_path_buf(), GUEST_ROOT.to_string())
        } else {
            (root.join(g), format!("{GUEST_ROOT}/{g}"))
        };
        let real = host_dir.canonicalize().map_err(|e| {
            PluginFailure::Load(format!("read grant `{g}`: {}: {e}", host_dir.display()))
        })?;
        if !real.starts_with(root) || !real.is_dir() {
            return Err(PluginFailure::Load(format!(
                "read grant `{g}` is not a directory inside the repository"
            )));
        }
        out.push((real, guest));
    }
    Ok(out)
}
