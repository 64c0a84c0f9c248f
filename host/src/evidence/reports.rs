//! Report files named in the policy's `[reports]` tables.

use std::io::Read;
use std::os::fd::AsFd;
use std::path::Path;

use super::Report;
use crate::beneath::{self, Refused};
use crate::diag::Error;
use crate::policy::Policy;

/// Largest report read, so a runaway log cannot exhaust memory.
pub const MAX_REPORT_BYTES: u64 = 256 << 20;

/// Read every report; returns the reports and a notice per missing optional one.
pub fn read(root: &Path, policy: &Policy) -> Result<(Vec<Report>, Vec<String>), Error> {
    let mut reports = Vec::new();
    let mut skipped = Vec::new();
    let root_dir = std::fs::File::open(root).map_err(|e| Error::io(root, e))?;
    for spec in &policy.reports {
        let path = root.join(&spec.path);
        let what = format!("report {} ({})", spec.name, spec.at);
        let fail = |message: String| Error::Evidence {
            what: what.clone(),
            message,
        };
        // Opened from the repository's root without following a symlink at
        // any component and never under `.git`: a report cannot lead the
        // read out of the repository or to the checkout's token.
        let opened = beneath::components(&spec.path, true)
            .and_then(|parts| beneath::open(root_dir.as_fd(), &parts));
        let file = match opened {
            Err(Refused::Os(rustix::io::Errno::NOENT)) if spec.optional => {
                skipped.push(format!(
                    "optional report {} not found at {}",
                    spec.name,
                    path.display()
                ));
                continue;
            }
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
        reports.push(Report {
            name: spec.name.clone(),
            defined_in: spec.at.file_name().to_string(),
            format: spec.format,
            path: spec.path.clone(),
            content,
        });
    }
    Ok((reports, skipped))
}
