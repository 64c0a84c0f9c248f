//! What a plugin may read: the policy's repository grants and its mounts
//! outside the repository, as read-only preopens.

use std::os::fd::{BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use super::GUEST_ROOT;
use super::bindings::portcullis::plugin::types as wit;
use crate::beneath;
use crate::failure::PluginFailure;

/// What a plugin may read: repository-relative directories (`.` = all) at
/// `/repo`, and the policy's mounts outside the repository at `/mnt/<name>`.
#[derive(Debug, Clone, Copy)]
pub struct Grants<'a> {
    pub read: &'a [String],
    /// Where the policy names each read grant (`file:line:col`).
    pub read_places: &'a crate::policy::Places,
    pub mounts: &'a [Mount],
    /// The policy files whose reports the plugin reads; `None` = all.
    pub reports_from: Option<&'a [String]>,
    /// The server `query-metrics` runs the plugin's queries against.
    pub metrics: Option<&'a std::sync::Arc<crate::evidence::metrics::Session>>,
}

static NO_PLACES: crate::policy::Places = std::collections::BTreeMap::new();

impl Default for Grants<'_> {
    /// No grants: the plugin reads nothing but its evidence.
    fn default() -> Self {
        Grants {
            read: &[],
            read_places: &NO_PLACES,
            mounts: &[],
            reports_from: None,
            metrics: None,
        }
    }
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
    root: &Path,
) -> Result<(Preopens, Vec<wit::Mount>), PluginFailure> {
    let mut preopens = Vec::new();
    let mut seen = Vec::new();
    for m in extra {
        let present = match m.path.canonicalize() {
            // A mount that holds the repository, or is (in) a `.git`
            // directory of it, would grant the checkout's token.
            Ok(real)
                if root.starts_with(&real)
                    || real
                        .strip_prefix(root)
                        .is_ok_and(|rel| rel.components().any(|c| c.as_os_str() == ".git")) =>
            {
                return Err(PluginFailure::Load(format!(
                    "{}: mount `{}`: {} holds the repository or its `.git`; grant repository directories with `read`",
                    m.granted_at,
                    m.name,
                    m.path.display()
                )));
            }
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

/// Host directories to preopen for the grants, each opened from the
/// repository's root without following a symlink at any component, and
/// the opened directories, which must stay open while the call runs: on
/// Linux the preopen names the descriptor (`/proc/self/fd/N`), so a
/// directory swapped for a symlink after this check is not what the
/// plugin sees.
pub(super) fn repo_preopens(
    root: BorrowedFd<'_>,
    root_path: &Path,
    grants: &Grants<'_>,
) -> Result<(Preopens, Vec<OwnedFd>), PluginFailure> {
    let mut out = Vec::new();
    let mut held = Vec::new();
    for g in grants.read {
        let guest = if g == "." {
            GUEST_ROOT.to_string()
        } else {
            format!("{GUEST_ROOT}/{g}")
        };
        let dir = beneath::components(g, true)
            .and_then(|parts| beneath::open_dir(root, &parts))
            .map_err(|e| {
                let place = grants.read_places.get(g).map(ToString::to_string);
                let place = place.as_deref().unwrap_or("");
                PluginFailure::Load(format!(
                    "{place}{}read grant `{g}`: {}: {e}",
                    if place.is_empty() { "" } else { ": " },
                    root_path.join(g).display()
                ))
            })?;
        out.push((held_path(&dir, &root_path.join(g)), guest));
        held.push(dir);
    }
    Ok((out, held))
}

/// The path a preopen opens for a directory the host holds open.
#[cfg(target_os = "linux")]
fn held_path(dir: &OwnedFd, _path: &Path) -> PathBuf {
    use std::os::fd::AsRawFd;
    PathBuf::from(format!("/proc/self/fd/{}", dir.as_raw_fd()))
}

#[cfg(not(target_os = "linux"))]
fn held_path(_dir: &OwnedFd, path: &Path) -> PathBuf {
    path.to_path_buf()
}
