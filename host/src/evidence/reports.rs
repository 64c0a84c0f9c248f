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

/// What a pull request's context says about the commits it compares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// The base branch's commit (lowercase hexadecimal).
    pub base: String,
    /// The pull request's head commit, when the context gives it.
    pub head: Option<String>,
    /// The report it came from, for messages.
    pub report: String,
}

/// The base (and head) commit a pull request's context names: `base_sha`
/// and `head_sha` in `pr-context`, `pull_request.base.sha` and
/// `pull_request.head.sha` in a `github-event` payload, `baseRefOid` and
/// `headRefOid` in `gh pr view --json` output. `None` when no such report
/// is present or none names a base (a deployment, a push event). Several
/// reports: the base of the first of `github-event`, `gh-pr`, `pr-context`
/// that names one, the head of any. A report committed in the tree,
/// reports that name different heads, and ids that are not full commit ids
/// are errors: the report is untrusted input and is
/// never handed to git as anything but a checked hexadecimal id.
pub fn pull_request_base(root: &Path, specs: &[ReportSpec]) -> Result<Option<PullRequest>, String> {
    #[derive(serde::Deserialize)]
    struct Own {
        base_sha: Option<String>,
        head_sha: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Event {
        pull_request: Option<EventPr>,
    }
    #[derive(serde::Deserialize)]
    struct EventPr {
        base: Option<EventRef>,
        head: Option<EventRef>,
    }
    #[derive(serde::Deserialize)]
    struct EventRef {
        sha: Option<String>,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Gh {
        base_ref_oid: Option<String>,
        head_ref_oid: Option<String>,
    }
    let root_dir = std::fs::File::open(root).map_err(|e| format!("{}: {e}", root.display()))?;
    let mut found: Option<PullRequest> = None;
    // The run's own event first (its base is the checkout's), then `gh pr
    // view` (its base is read live, so it may have moved on), then our own.
    let mut ordered: Vec<&ReportSpec> = specs
        .iter()
        .filter(|s| s.format.is_pull_request())
        .collect();
    ordered.sort_by_key(|s| match s.format {
        ReportFormat::GithubEvent => 0,
        ReportFormat::GhPr => 1,
        _ => 2,
    });
    for spec in ordered {
        let Some(report) = read_one(root, &root_dir, spec).map_err(|e| e.to_string())? else {
            continue;
        };
        let what = format!(
            "report {} ({}, defined at {})",
            spec.name, spec.path, spec.at
        );
        // A context committed in the tree would let the change name its own
        // base (HEAD: no new lines at all): it must come from the CI run.
        // Any case: on a case-insensitive file system `Reports/Event.json`
        // is opened for `reports/event.json`.
        let pathspec = format!(":(literal,icase){}", spec.path);
        let listed =
            super::git::output(super::git::command(root).args(["ls-files", "-z", "--", &pathspec]))
                .map_err(|e| format!("{what}: cannot run git: {e}"))?;
        if !listed.status.success() {
            return Err(format!(
                "{what}: git ls-files: {}",
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
        let (base, head) = match spec.format {
            ReportFormat::PrContext => {
                let o = serde_json::from_str::<Own>(&report.content).map_err(bad)?;
                (o.base_sha, o.head_sha)
            }
            ReportFormat::GithubEvent => {
                let pr = serde_json::from_str::<Event>(&report.content)
                    .map_err(bad)?
                    .pull_request;
                match pr {
                    Some(p) => (p.base.and_then(|b| b.sha), p.head.and_then(|h| h.sha)),
                    None => (None, None),
                }
            }
            ReportFormat::GhPr => {
                let g = serde_json::from_str::<Gh>(&report.content).map_err(bad)?;
                (g.base_ref_oid, g.head_ref_oid)
            }
            _ => (None, None),
        };
        let Some(base) = base else { continue };
        let commit_id = |id: String, which: &str| {
            if matches!(id.len(), 40 | 64) && id.bytes().all(|b| b.is_ascii_hexdigit()) {
                Ok(id.to_ascii_lowercase())
            } else {
                Err(format!(
                    "{what}: the pull request's {which} `{}` is not a full commit id",
                    crate::diag::one_line(&id, 80)
                ))
            }
        };
        let this = PullRequest {
            base: commit_id(base, "base")?,
            head: head.map(|h| commit_id(h, "head")).transpose()?,
            report: spec.name.clone(),
        };
        match &mut found {
            // Heads are the same commit wherever they are read.
            Some(first) => match (&first.head, this.head) {
                (Some(a), Some(b)) if *a != b => {
                    return Err(format!(
                        "reports {} and {} name different pull request heads ({} and {})",
                        first.report,
                        this.report,
                        &a[..12],
                        &b[..12]
                    ));
                }
                (None, Some(b)) => first.head = Some(b),
                _ => {}
            },
            None => found = Some(this),
        }
    }
    Ok(found)
}
