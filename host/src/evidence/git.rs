//! What git says changed: `--changed-since REV` narrows the gate to files
//! changed since REV (committed, staged, unstaged and untracked).
//!
//! Every git the host runs starts from [`command`]: repository-controlled
//! programs are off (`core.fsmonitor`, hooks, `diff.external`, textconv),
//! a bare repository committed inside the tree is never discovered
//! (`safe.bareRepository=explicit`), no pager, no prompt. The programs the host runs are exactly:
//! - `git diff --name-only -z --relative --no-ext-diff --no-textconv REV --`
//!   and `git ls-files --others --exclude-standard -z`, with attributes
//!   from the empty tree (`git hash-object -t tree /dev/null`) so no filter
//!   or encoding the tree names applies (`--changed-since`), and, when a
//!   plugin asks for the changed lines, `git diff -U0` the same way (see
//!   [`super::changed_lines`]);
//! - `git rev-parse --git-path hooks` (`hook install|uninstall`);
//! - for `hook pre-push` and `check --staged`: `git rev-parse`,
//!   `merge-base`, `symbolic-ref` (the remote's default branch), `diff
//!   --name-only` between two commits or of the index, `diff --raw`
//!   between the kept tree and the pushed one, and `ls-tree`/`ls-files
//!   -s` with `cat-file --batch` (see [`super::snapshot`]);
//! - `git ls-files -z --cached --ignored --exclude-standard` (the file
//!   list: tracked files that `.gitignore` would hide);
//! - `git symbolic-ref --quiet --short HEAD` (the `branch` label of
//!   `--metrics` and `--pushgateway`, outside CI);
//! - `cargo metadata` (see [`super::cargo_metadata`]).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::diag::Error;

/// Repository-relative paths (relative to `root`, which may be a
/// subdirectory of the work tree) changed since `rev`.
pub fn changed_since(root: &Path, rev: &str) -> Result<BTreeSet<String>, Error> {
    check_rev(rev)?;
    // Attributes from an empty tree: the tree's `.gitattributes` cannot
    // pick a filter program or an encoding for git to apply while it
    // compares the work tree.
    let attrs = format!("--attr-source={}", empty_tree(root, rev)?);
    let mut out: BTreeSet<String> = git(
        root,
        &[
            &attrs,
            "diff",
            "--name-only",
            "-z",
            "--relative",
            "--no-ext-diff",
            "--no-textconv",
            rev,
            "--",
        ],
        rev,
    )?;
    out.extend(untracked(root, &attrs, rev)?);
    Ok(out)
}

/// A `--changed-since` revision is one revision, not an option or a range.
pub fn check_rev(rev: &str) -> Result<(), Error> {
    if rev.starts_with('-') {
        return Err(Error::Usage(format!(
            "--changed-since `{rev}`: not a revision"
        )));
    }
    // `A..B` would compare two commits and leave out the work tree (a
    // staged conflict, an unstaged edit): the gate wants one base.
    if rev.contains("..") {
        return Err(Error::Usage(format!(
            "--changed-since `{rev}`: a range, not a revision; give the base (`{}`)",
            rev.split("..").next().unwrap_or_default()
        )));
    }
    Ok(())
}

/// The files git does not track and `.gitignore` does not hide, with
/// attributes from `attrs` (`--attr-source=<empty tree>`).
pub fn untracked(root: &Path, attrs: &str, rev: &str) -> Result<BTreeSet<String>, Error> {
    git(
        root,
        &[attrs, "ls-files", "--others", "--exclude-standard", "-z"],
        rev,
    )
}

/// The empty tree's id in the repository's object format.
pub fn empty_tree(root: &Path, rev: &str) -> Result<String, Error> {
    let out = output(command(root).args(["hash-object", "-t", "tree", "/dev/null"]))
        .map_err(|e| Error::Usage(format!("{}: cannot run git: {e}", what(rev))))?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || id.is_empty() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Usage(format!(
            "{}: {}",
            what(rev),
            err.lines().next().unwrap_or("not a git repository")
        )));
    }
    Ok(id)
}

/// The files a commit range changed (`base`..`head`, both commits),
/// deletions left out: what a push adds or modifies, relative to the
/// repository's top.
pub fn changed_between(root: &Path, base: &str, head: &str) -> Result<BTreeSet<String>, Error> {
    let args: Vec<&str> = ["diff"]
        .into_iter()
        .chain(ADDED_OR_MODIFIED)
        .chain([base, head, "--"])
        .collect();
    git(root, &args, &format!("{base}..{head}"))
}

/// `git diff` options listing the paths a diff adds or modifies, NUL
/// separated, with no external program.
const ADDED_OR_MODIFIED: [&str; 6] = [
    "--name-only",
    "-z",
    "--no-renames",
    "--diff-filter=d",
    "--no-ext-diff",
    "--no-textconv",
];

/// The files the index adds or modifies against `HEAD` (against nothing
/// on a branch without commits), relative to the repository's top.
pub fn staged(root: &Path) -> Result<BTreeSet<String>, Error> {
    let args: Vec<&str> = ["diff", "--cached"]
        .into_iter()
        .chain(ADDED_OR_MODIFIED)
        .chain(["--"])
        .collect();
    git(root, &args, "--staged")
}

/// The commit `rev` names, if it names one this repository has.
pub fn commit_id(root: &Path, rev: &str) -> Option<String> {
    if rev.starts_with('-') {
        return None;
    }
    let out = output(command(root).args([
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        &format!("{rev}^{{commit}}"),
    ]))
    .ok()?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !id.is_empty()).then_some(id)
}

/// The best common ancestor of two commits, if they have one.
pub fn merge_base(root: &Path, a: &str, b: &str) -> Option<String> {
    let out = output(command(root).args(["merge-base", "--end-of-options", a, b])).ok()?;
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !id.is_empty()).then_some(id)
}

/// The default branch of `remote` as this repository knows it
/// (`refs/remotes/<remote>/HEAD`, else its `main` or `master`).
pub fn remote_default_branch(root: &Path, remote: &str) -> Option<String> {
    if remote.starts_with('-') || remote.contains(['/', ':']) {
        return None;
    }
    let head = format!("refs/remotes/{remote}/HEAD");
    let out = output(command(root).args(["symbolic-ref", "--quiet", &head])).ok()?;
    let target = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if out.status.success() && !target.is_empty() {
        return Some(target);
    }
    ["main", "master"]
        .iter()
        .map(|b| format!("refs/remotes/{remote}/{b}"))
        .find(|r| commit_id(root, r).is_some())
}

/// The branch checked out in `root`, for reports' and metrics' `branch`;
/// `None` when HEAD is detached or git fails. Read from `root/.git/HEAD`
/// when `root` is a work tree's top (a `.git` directory, or a `.git` file
/// naming one: a linked work tree or a submodule), which costs no process;
/// else `git symbolic-ref --quiet --short HEAD`.
pub fn current_branch(root: &Path) -> Option<String> {
    match head_branch(root) {
        Some(found) => found,
        None => branch_from_git(root),
    }
}

/// `Some(branch)` from the HEAD file (`Some(None)`: detached or a name
/// git would not accept), `None` when there is no HEAD file to read here.
/// `.git` is not followed through a symlink, and a `.git` file may only
/// name a linked work tree's or a submodule's git directory
/// (`…/.git/worktrees/<name>`, `…/.git/modules/<name>`).
fn head_branch(root: &Path) -> Option<Option<String>> {
    const MAX: u64 = 4096;
    let dot_git = root.join(".git");
    let meta = std::fs::symlink_metadata(&dot_git).ok()?;
    let git_dir = if meta.is_dir() {
        dot_git
    } else if meta.is_file() {
        let text = crate::files::read_to_string(&dot_git, MAX).ok()?;
        let dir = root.join(text.strip_prefix("gitdir:")?.trim());
        let parts: Vec<&str> = dir
            .components()
            .map(|c| c.as_os_str().to_str().unwrap_or(""))
            .collect();
        let linked = parts.len() >= 3
            && parts[parts.len() - 3] == ".git"
            && matches!(parts[parts.len() - 2], "worktrees" | "modules");
        if !linked || parts.contains(&"..") {
            return None;
        }
        dir
    } else {
        return None;
    };
    let head = crate::files::read_to_string(&git_dir.join("HEAD"), MAX).ok()?;
    let head = head.trim_end();
    if head.len() == 40 && head.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Some(None);
    }
    let name = head.strip_prefix("ref: refs/heads/")?;
    Some(valid_branch(name).then(|| name.to_string()))
}

/// A branch name as `git check-ref-format --branch` accepts it, and
/// nothing invisible or over 255 bytes: it is shown in reports and labels.
fn valid_branch(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with(['-', '/', '.'])
        && !name.ends_with(['/', '.'])
        && !name.ends_with(".lock")
        && !name.contains("..")
        && !name.contains("@{")
        && !name.contains("//")
        && !name.contains("/.")
        && name != "@"
        && !name.chars().any(|c| {
            c.is_whitespace()
                || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\')
                || crate::report::text::needs_escape(c)
        })
}

fn branch_from_git(root: &Path) -> Option<String> {
    let out = output(command(root).args(["symbolic-ref", "--quiet", "--short", "HEAD"])).ok()?;
    let name = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && valid_branch(&name)).then_some(name)
}

/// The top of the work tree `dir` is in.
pub fn top_level(dir: &Path) -> Result<std::path::PathBuf, Error> {
    let out = output(command(dir).args(["rev-parse", "--show-toplevel"]))
        .map_err(|e| Error::Usage(format!("cannot run git: {e}")))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    if !out.status.success() || text.is_empty() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(Error::Usage(format!(
            "{}: {}",
            dir.display(),
            err.lines().next().unwrap_or("not a git work tree")
        )));
    }
    Ok(std::path::PathBuf::from(text))
}

/// `git -C <dir>` with every setting that runs a repository-named program
/// overridden on the command line (which wins over every config file).
pub fn command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args([
            "--no-pager",
            "-c",
            "core.fsmonitor=false",
            "-c",
            "diff.external=",
            // A directory of the tree laid out as a bare repository (its
            // own `config` with filters, fsmonitor…) is never used.
            "-c",
            "safe.bareRepository=explicit",
            "-c",
            "core.pager=cat",
            // Reading never refreshes (writes) the index.
            "--no-optional-locks",
            // Objects as they are, as a push sends them: `refs/replace/*`
            // and grafts would show other content.
            "--no-replace-objects",
        ])
        .env("GIT_GRAFT_FILE", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_EXTERNAL_DIFF")
        // Pathspecs mean what the host writes, whatever the job's
        // environment says.
        .env_remove("GIT_LITERAL_PATHSPECS")
        .env_remove("GIT_GLOB_PATHSPECS")
        .env_remove("GIT_NOGLOB_PATHSPECS")
        .env_remove("GIT_ICASE_PATHSPECS");
    cmd
}

/// How long one git command may take.
pub const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

/// Run `cmd` (from [`command`]) to completion, killed after [`TIMEOUT`]:
/// a hung git must not hang the gate.
pub fn output(cmd: &mut Command) -> std::io::Result<std::process::Output> {
    crate::process::output(cmd, "git", TIMEOUT)
}

fn git(root: &Path, args: &[&str], rev: &str) -> Result<BTreeSet<String>, Error> {
    Ok(paths(&stdout(root, args, rev)?).collect())
}

/// The output of `git <args>` in `root`, or an error labelled with `rev`'s
/// flag.
pub fn stdout(root: &Path, args: &[&str], rev: &str) -> Result<Vec<u8>, Error> {
    // No hook runs for these commands; the override makes sure of it.
    let output = output(
        command(root)
            .args(["-c", "core.hooksPath=/dev/null"])
            .args(args),
    )
    .map_err(|e| Error::Usage(format!("{}: cannot run git: {e}", what(rev))))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("git failed");
        return Err(Error::Usage(format!("{}: {first}", what(rev))));
    }
    Ok(output.stdout)
}

/// What a failed git command was for: a `--changed-since` revision, or
/// another label as it is.
fn what(rev: &str) -> String {
    if rev.starts_with("--") || rev.contains("..") {
        rev.to_string()
    } else {
        format!("--changed-since {rev}")
    }
}

/// The paths in git's `-z` output.
pub fn paths(stdout: &[u8]) -> impl Iterator<Item = String> + '_ {
    stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
}

#[cfg(test)]
mod branch_tests {
    use super::*;

    #[test]
    fn the_branch_is_read_from_head_as_git_reads_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        let git = |args: &[&str]| {
            let ok = std::process::Command::new("git")
                .args(args)
                .current_dir(root)
                .output()
                .expect("git")
                .status
                .success();
            assert!(ok, "git {args:?}");
        };
        git(&["init", "-q", "-b", "feature/x"]);
        git(&[
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "commit",
            "-q",
            "--allow-empty",
            "-m",
            "a",
        ]);
        assert_eq!(current_branch(root).as_deref(), Some("feature/x"));
        assert_eq!(branch_from_git(root).as_deref(), Some("feature/x"));
        git(&["checkout", "-q", "--detach"]);
        assert_eq!(current_branch(root), None);
        assert_eq!(branch_from_git(root), None);
        // A linked work tree: `.git` is a file naming its git dir.
        git(&["branch", "-q", "other"]);
        let linked = root.join("linked");
        git(&[
            "worktree",
            "add",
            "-q",
            linked.to_str().expect("utf-8"),
            "other",
        ]);
        assert!(linked.join(".git").is_file());
        assert_eq!(current_branch(&linked).as_deref(), Some("other"));
        // Names git would refuse, or that hide characters, are not shown.
        for bad in ["a\u{202e}b", "a b", "a..b", "-x", "x.lock", "a\\b", "<ok>"] {
            assert_eq!(valid_branch(bad), bad == "<ok>", "{bad:?}");
        }
        // A `.git` file naming any other directory is not followed.
        let other = tempfile::tempdir().expect("tempdir");
        std::fs::write(other.path().join("HEAD"), "ref: refs/heads/stolen\n").expect("write");
        let fake = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            fake.path().join(".git"),
            format!("gitdir: {}\n", other.path().display()),
        )
        .expect("write");
        assert_eq!(head_branch(fake.path()), None);
        // A subdirectory: git answers.
        std::fs::create_dir(linked.join("sub")).expect("mkdir");
        assert_eq!(
            current_branch(&linked.join("sub")).as_deref(),
            Some("other")
        );
    }
}
