//! `portcullis hook install|uninstall`: a git pre-push hook that runs the
//! gate on what is being pushed (`--changed-since` the upstream).

use std::path::{Path, PathBuf};

use crate::diag::Error;

/// First lines of every hook this module writes; how it recognises its own.
const MARKER: &str = "# portcullis pre-push hook";

/// The `pre-push` path of the repository at `repo` (honours `core.hooksPath`).
pub fn hook_path(repo: &Path) -> Result<PathBuf, Error> {
    let out = crate::evidence::git::output(crate::evidence::git::command(repo).args([
        "rev-parse",
        "--git-path",
        "hooks",
    ]))
    .map_err(|e| Error::Usage(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Usage(format!(
            "{}: {}",
            repo.display(),
            err.lines().next().unwrap_or("not a git repository")
        )));
    }
    let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let dir = if dir.is_absolute() {
        dir
    } else {
        repo.join(dir)
    };
    Ok(dir.join("pre-push"))
}

/// The hook script, running `exe` (this binary).
pub fn script(exe: &Path) -> String {
    let exe = shell_quote(&exe.to_string_lossy());
    format!(
        "#!/bin/sh\n{MARKER}: gates the push with `portcullis check`.\n\
         # Installed by `portcullis hook install`; remove with `portcullis hook uninstall`.\n\
         # Findings count only in files changed since the upstream branch (all files when there is none).\n\
         upstream=$(git rev-parse --abbrev-ref --symbolic-full-name '@{{upstream}}' 2>/dev/null)\n\
         if [ -n \"$upstream\" ]; then\n  exec {exe} check --changed-since \"$upstream\"\nelse\n  exec {exe} check\nfi\n"
    )
}

/// Whether the file at `path` is a hook this module wrote: a regular file
/// (not a symlink, not even to one of ours) holding the marker.
fn is_ours(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_file())
        && crate::files::read_to_string(path, 1 << 20).is_ok_and(|t| t.contains(MARKER))
}

/// Write the hook. Anything already at its path that is not ours (a
/// script, a symlink, even a dangling one) is kept unless `force`; the
/// hook is written to a new file renamed into place, so a symlink there is
/// replaced, never written through.
pub fn install(repo: &Path, exe: &Path, force: bool) -> Result<PathBuf, Error> {
    let path = hook_path(repo)?;
    if std::fs::symlink_metadata(&path).is_ok() && !is_ours(&path) && !force {
        return Err(Error::Usage(format!(
            "{} exists and was not written by portcullis; use --force to replace it",
            path.display()
        )));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    crate::cache::write_atomic(&path, &[script(exe).as_bytes()])
        .map_err(|e| Error::io(&path, e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::io(&path, e))?;
    }
    Ok(path)
}

/// Remove the hook if portcullis wrote it.
pub fn uninstall(repo: &Path) -> Result<PathBuf, Error> {
    let path = hook_path(repo)?;
    if std::fs::symlink_metadata(&path).is_err() {
        return Err(Error::Usage(format!(
            "{}: no pre-push hook to remove",
            path.display()
        )));
    }
    if !is_ours(&path) {
        return Err(Error::Usage(format!(
            "{} was not written by portcullis; not removing it",
            path.display()
        )));
    }
    std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}
