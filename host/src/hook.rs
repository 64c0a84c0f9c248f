//! `portcullis hook install|uninstall`: a git pre-push hook that runs the
//! gate on exactly what is being pushed; `portcullis hook pre-push` is
//! what that hook runs: it reads git's pre-push lines and plans, for each
//! pushed ref, which commit to judge and against which base.

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

/// The hook script, running `exe` (this binary) with git's arguments and
/// standard input.
pub fn script(exe: &Path) -> String {
    let exe = shell_quote(&exe.to_string_lossy());
    format!(
        "#!/bin/sh\n{MARKER}: gates the push with `portcullis hook pre-push`.\n\
         # Installed by `portcullis hook install`; remove with `portcullis hook uninstall`.\n\
         # Judges each pushed commit's tree; findings count in the files the push changes.\n\
         exec {exe} hook pre-push \"$@\"\n"
    )
}

/// One line of a pre-push hook's standard input: a ref git is about to
/// push (or delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedRef {
    pub local_ref: String,
    pub local_sha: String,
    pub remote_ref: String,
    pub remote_sha: String,
}

/// The most refs one push may name (git sends one line per ref).
const MAX_REFS: usize = 10_000;

/// The most pre-push input read: [`MAX_REFS`] lines of long ref names,
/// well past any real push; more is exit 2, never silently cut.
pub const MAX_INPUT_BYTES: u64 = 8 << 20;

/// Parse git's pre-push lines (`<local ref> SP <local sha> SP <remote ref>
/// SP <remote sha>`); anything else is an error naming the line.
pub fn parse_pre_push(input: &str) -> Result<Vec<PushedRef>, Error> {
    let mut out = Vec::new();
    for (n, line) in input
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let f: Vec<&str> = line.split(' ').collect();
        let is_sha =
            |s: &str| (40..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit());
        if f.len() != 4 || !is_sha(f[1]) || !is_sha(f[3]) || out.len() >= MAX_REFS {
            return Err(Error::Usage(format!(
                "pre-push input line {}: expected `<local ref> <local sha> <remote ref> <remote sha>`, got `{}`",
                n + 1,
                crate::diag::one_line(line, 200)
            )));
        }
        out.push(PushedRef {
            local_ref: f[0].to_string(),
            local_sha: f[1].to_ascii_lowercase(),
            remote_ref: f[2].to_string(),
            remote_sha: f[3].to_ascii_lowercase(),
        });
    }
    Ok(out)
}

/// The ref being pushed as the pre-commit framework describes it in its
/// environment (`PRE_COMMIT_TO_REF`, `PRE_COMMIT_FROM_REF`,
/// `PRE_COMMIT_LOCAL_BRANCH`, `PRE_COMMIT_REMOTE_BRANCH`; it keeps git's
/// standard input to itself). `None` when not run by it.
pub fn from_pre_commit(
    top: &Path,
    var: impl Fn(&str) -> Option<String>,
) -> Option<Result<PushedRef, Error>> {
    let var = |name: &str| var(name).filter(|v| !v.is_empty());
    let to = var("PRE_COMMIT_TO_REF")?;
    let Some(local_sha) = crate::evidence::git::commit_id(top, &to) else {
        return Some(Err(Error::Usage(format!(
            "PRE_COMMIT_TO_REF `{}` is not a commit here",
            crate::diag::one_line(&to, 100)
        ))));
    };
    let remote_sha = var("PRE_COMMIT_FROM_REF")
        .and_then(|from| crate::evidence::git::commit_id(top, &from))
        .unwrap_or_else(|| "0".repeat(local_sha.len()));
    Some(Ok(PushedRef {
        local_ref: var("PRE_COMMIT_LOCAL_BRANCH").unwrap_or(to),
        local_sha,
        remote_ref: var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_default(),
        remote_sha,
    }))
}

/// `HEAD` pushed as a new ref (the pre-commit framework names no ref for a
/// push holding a root commit): judged against its merge-base with the
/// remote's default branch, or with every file counting when it has none.
pub fn whole_head(top: &Path) -> Result<PushedRef, Error> {
    let head = crate::evidence::git::commit_id(top, "HEAD")
        .ok_or_else(|| Error::Usage("hook pre-push: HEAD is not a commit".into()))?;
    Ok(PushedRef {
        local_ref: "HEAD".into(),
        remote_ref: String::new(),
        remote_sha: "0".repeat(head.len()),
        local_sha: head,
    })
}

fn is_zero(sha: &str) -> bool {
    sha.bytes().all(|b| b == b'0')
}

/// What to judge for one pushed ref.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushPlan {
    /// The ref pushed, as the user named it.
    pub name: String,
    /// The commit whose tree is judged.
    pub commit: String,
    /// The base the push's changes are taken against (a label for the
    /// summary, and a commit); `None`: no base is known, every file counts.
    pub against: Option<(String, String)>,
}

/// Plan the gate runs for a push to `remote` in the repository at `top`:
/// deletions are skipped; a ref the remote has is judged against the
/// remote's commit; a new ref (or one whose remote commit is not here)
/// against its merge-base with the remote's default branch. A ref whose
/// commit the remote already has needs nothing.
pub fn plan(top: &Path, remote: &str, refs: &[PushedRef]) -> Vec<PushPlan> {
    use crate::evidence::git;
    let mut out = Vec::new();
    for r in refs.iter().filter(|r| !is_zero(&r.local_sha)) {
        // A tag object stands for the commit it tags.
        let commit = git::commit_id(top, &r.local_sha).unwrap_or_else(|| r.local_sha.clone());
        let known_remote = (!is_zero(&r.remote_sha))
            .then(|| git::commit_id(top, &r.remote_sha))
            .flatten();
        let against = match known_remote {
            Some(base) => Some((
                format!("{} on {remote} ({})", r.remote_ref, short(&base)),
                base,
            )),
            None => git::remote_default_branch(top, remote).and_then(|default| {
                let base = git::merge_base(top, &commit, &default)?;
                let shown = default.strip_prefix("refs/remotes/").unwrap_or(&default);
                Some((
                    format!("its merge-base with {shown} ({})", short(&base)),
                    base,
                ))
            }),
        };
        if against.as_ref().is_some_and(|(_, base)| *base == commit) {
            continue;
        }
        out.push(PushPlan {
            name: r.local_ref.clone(),
            commit,
            against,
        });
    }
    out
}

/// A commit id's first 10 digits.
pub fn short(sha: &str) -> &str {
    &sha[..sha.len().min(10)]
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
