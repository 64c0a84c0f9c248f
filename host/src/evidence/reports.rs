//! Report files named in the policy's `[reports]` tables.

use std::io::Read;
use std::os::fd::AsFd;
use std::path::Path;

use super::Report;
use crate::beneath::{self, Refused};
use crate::diag::Error;
use crate::policy::{Policy, ReportFormat, ReportSpec};

/// Largest report read, so a runaway log cannot exhaust memory.
pub const MAX_REPORT_BYTES: u64 = 256 << 20;

/// Read every report; returns the reports and a notice per missing optional one.
pub fn read(root: &Path, policy: &Policy) -> Result<(Vec<Report>, Vec<String>), Error> {
    let mut reports = Vec::new();
    let mut skipped = Vec::new();
    let root_dir = std::fs::File::open(root).map_err(|e| Error::io(root, e))?;
    for spec in &policy.reports {
        match read_one(root, &root_dir, spec)? {
            Some(report) => reports.push(report),
            None => skipped.push(format!(
                "optional report {} not found at {}",
                spec.name,
                root.join(&spec.path).display()
            )),
        }
    }
    Ok((reports, skipped))
}

/// One report; `None` when it is optional and absent.
fn read_one(
    root: &Path,
    root_dir: &std::fs::File,
    spec: &ReportSpec,
) -> Result<Option<Report>, Error> {
    let path = root.join(&spec.path);
    let what = format!("report {} ({})", spec.name, spec.at);
    let fail = |message: String| Error::Evidence {
        what: what.clone(),
        message,
    };
    // Opened from the repository's root without following a symlink at
    // any component and never under `.git`: a report cannot lead the read
    // out of the repository or to the checkout's token.
    let opened = beneath::components(&spec.path, true)
        .and_then(|parts| beneath::open(root_dir.as_fd(), &parts));
    let file = match opened {
        Err(Refused::Os(rustix::io::Errno::NOENT)) if spec.optional => return Ok(None),
        Err(e) => return Err(fail(format!("cannot read {}: {e}", path.display()))),
        Ok(f) => f,
    };
    let meta = file
        .metadata()
        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(fail(format!("{} is not a regular file", path.display())));
    }
    let mut content = String::new();
    let read = file
        .take(MAX_REPORT_BYTES + 1)
        .read_to_string(&mut content)
        .map_err(|e| fail(format!("cannot read {}: {e}", path.display())))?;
    if read as u64 > MAX_REPORT_BYTES {
        return Err(fail(format!(
            "{} is over the {} MiB limit",
            path.display(),
            MAX_REPORT_BYTES >> 20
        )));
    }
    Ok(Some(Report {
        name: spec.name.clone(),
        defined_in: spec.at.file_name().to_string(),
        format: spec.format,
        path: spec.path.clone(),
        content,
    }))
}

/// The base commit a pull request's context names, with the report's name:
/// `base_sha` in `pr-context`, `pull_request.base.sha` in a
/// `github-event` payload, `baseRefOid` in `gh pr view --json` output.
/// `None` when no such report is present or none names a base (a
/// deployment, a push event). Reports that name different bases, or a base
/// that is not a full commit id, are errors: the report is untrusted input
/// and is never handed to git as anything but a checked hexadecimal id.
pub fn pull_request_base(
    root: &Path,
    specs: &[ReportSpec],
) -> Result<Option<(String, String)>, String> {
    #[derive(serde::Deserialize)]
    struct Own {
        base_sha: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Event {
        pull_request: Option<EventPr>,
    }
    #[derive(serde::Deserialize)]
    struct EventPr {
        base: Option<EventBase>,
    }
    #[derive(serde::Deserialize)]
    struct EventBase {
        sha: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Gh {
        #[serde(rename = "baseRefOid")]
        base_ref_oid: Option<String>,
    }
    let root_dir = std::fs::File::open(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut found: Option<(String, String)> = None;
    for spec in specs.iter().filter(|s| s.format.is_pull_request()) {
        let Some(report) = read_one(root, &root_dir, spec).map_err(|e| e.to_string())? else {
            continue;
        };
        // A context committed in the tree would let the change name its own
        // base (HEAD: no new lines at all): it must come from the CI run.
        let literal = format!(":(literal){}", spec.path);
        let listed =
            super::git::output(super::git::command(root).args(["ls-files", "-z", "--", &literal]))
                .map_err(|e| {
                    format!("report {} ({}): cannot run git: {e}", spec.name, spec.path)
                })?;
        if !listed.status.success() {
            return Err(format!(
                "report {} ({}): git ls-files: {}",
                spec.name,
                spec.path,
                String::from_utf8_lossy(&listed.stderr)
                    .lines()
                    .next()
                    .unwrap_or("git failed")
            ));
        }
        if !listed.stdout.is_empty() {
            return Err(format!(
                "report {} ({}) is a file of the repository: the pull request's context must be written by the CI run (e.g. `cp \"$GITHUB_EVENT_PATH\" {}`), or a change could name its own base",
                spec.name, spec.path, spec.path
            ));
        }
        let bad = |e: serde_json::Error| {
            format!(
                "report {} ({}:{}:{}): {e}",
                spec.name,
                spec.path,
                e.line(),
                e.column()
            )
        };
        let sha = match spec.format {
            ReportFormat::PrContext => {
                serde_json::from_str::<Own>(&report.content)
                    .map_err(bad)?
                    .base_sha
            }
            ReportFormat::GithubEvent => serde_json::from_str::<Event>(&report.content)
                .map_err(bad)?
                .pull_request
                .and_then(|p| p.base)
                .and_then(|b| b.sha),
            ReportFormat::GhPr => {
                serde_json::from_str::<Gh>(&report.content)
                    .map_err(bad)?
                    .base_ref_oid
            }
            _ => None,
        };
        let Some(sha) = sha else { continue };
        if !matches!(sha.len(), 40 | 64) || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(format!(
                "report {} ({}): the pull request's base `{}` is not a full commit id",
                spec.name,
                spec.path,
                crate::diag::one_line(&sha, 80)
            ));
        }
        let sha = sha.to_ascii_lowercase();
        match &found {
            Some((other, by)) if *other != sha => {
                return Err(format!(
                    "reports {by} and {} name different pull request bases ({} and {})",
                    spec.name,
                    &other[..12],
                    &sha[..12]
                ));
            }
            Some(_) => {}
            None => found = Some((sha, spec.name.clone())),
        }
    }
    Ok(found)
}
