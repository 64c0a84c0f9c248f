//! What git says changed: `--changed-since REV` narrows the gate to files
//! changed since REV (committed, staged, unstaged and untracked).
//!
//! Every git the host runs starts from [`command`]: repository-controlled
//! programs are off (`core.fsmonitor`, hooks, `diff.external`, textconv),
//! a bare repository committed inside the tree is never discovered
//! (`safe.bareRepository=explicit`), no pager, no prompt. The programs the host runs are exactly:
//! - `git diff --name-only -z --relative --no-ext-diff --no-textconv REV --`
//!   and `git ls-files --others --exclude-standard -z` (`--changed-since`);
//! - `git rev-parse --git-path hooks` (`hook install|uninstall`);
//! - `git ls-files -z --cached --ignored --exclude-standard` (the file
//!   list: tracked files that `.gitignore` would hide);
//! - `cargo metadata` (see [`super::cargo_metadata`]).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use crate::diag::Error;

/// Repository-relative paths (relative to `root`, which may be a
/// subdirectory of the work tree) changed since `rev`.
pub fn changed_since(root: &Path, rev: &str) -> Result<BTreeSet<String>, Error> {
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
    let mut out: BTreeSet<String> = git(
        root,
        &[
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
    out.extend(git(
        root,
        &["ls-files", "--others", "--exclude-standard", "-z"],
        rev,
    )?);
    Ok(out)
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
        ])
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_EXTERNAL_DIFF");
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
    // No hook runs for these commands; the override makes sure of it.
    let output = output(
        command(root)
            .args(["-c", "core.hooksPath=/dev/null"])
            .args(args),
    )
    .map_err(|e| Error::Usage(format!("--changed-since {rev}: cannot run git: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("git failed");
        return Err(Error::Usage(format!("--changed-since {rev}: {first}")));
    }
    Ok(paths(&output.stdout).collect())
}

/// The paths in git's `-z` output.
pub fn paths(stdout: &[u8]) -> impl Iterator<Item = String> + '_ {
    stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
}
