//! What git says changed: `--changed-since REV` narrows the gate to files
//! changed since REV (committed, staged, unstaged and untracked).

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
    let mut out: BTreeSet<String> = git(
        root,
        &["diff", "--name-only", "-z", "--relative", rev, "--"],
        rev,
    )?;
    out.extend(git(
        root,
        &["ls-files", "--others", "--exclude-standard", "-z"],
        rev,
    )?);
    Ok(out)
}

fn git(root: &Path, args: &[&str], rev: &str) -> Result<BTreeSet<String>, Error> {
    let output = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .map_err(|e| Error::Usage(format!("--changed-since {rev}: cannot run git: {e}")))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("git failed");
        return Err(Error::Usage(format!("--changed-since {rev}: {first}")));
    }
    Ok(output
        .stdout
        .split(|b| *b == 0)
        .filter(|p| !p.is_empty())
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .collect())
}
