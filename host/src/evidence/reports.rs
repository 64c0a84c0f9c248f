//! Report files named in the policy's `[reports]` tables.

use std::path::Path;

use super::Report;
use crate::diag::Error;
use crate::policy::Policy;

/// Largest report read, so a runaway log cannot exhaust memory.
pub const MAX_REPORT_BYTES: u64 = 256 << 20;

/// Read every report; returns the reports and a notice per missing optional one.
pub fn read(root: &Path, policy: &Policy) -> Result<(Vec<Report>, Vec<String>), Error> {
    let mut reports = Vec::new();
    let mut skipped = Vec::new();
    for spec in &policy.reports {
        let path = root.join(&spec.path);
        let what = format!("report {} ({})", spec.name, spec.at);
        // The policy only names paths inside the repository; a symlink must
        // not lead a report read out of it either.
        if let Ok(real) = path.canonicalize()
            && !real.starts_with(root)
        {
            return Err(Error::Evidence {
                what,
                message: format!("{} leads outside the repository", spec.path),
            });
        }
        match std::fs::metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && spec.optional => {
                skipped.push(format!(
                    "optional report {} not found at {}",
                    spec.name,
                    path.display()
                ));
                continue;
            }
            Err(e) => {
                return Err(Error::Evidence {
                    what,
                    message: format!("cannot read {}: {e}", path.display()),
                });
            }
            Ok(m) if m.len() > MAX_REPORT_BYTES => {
                return Err(Error::Evidence {
                    what,
                    message: format!(
                        "{} is {} MiB, over the {} MiB limit",
                        path.display(),
                        m.len() >> 20,
                        MAX_REPORT_BYTES >> 20
                    ),
                });
            }
            Ok(m) if !m.is_file() => {
                return Err(Error::Evidence {
                    what,
                    message: format!("{} is not a regular file", path.display()),
                });
            }
            Ok(_) => {}
        }
        let content = std::fs::read_to_string(&path).map_err(|e| Error::Evidence {
            what,
            message: format!("cannot read {}: {e}", path.display()),
        })?;
        reports.push(Report {
            name: spec.name.clone(),
            format: spec.format,
            path: spec.path.clone(),
            content,
        });
    }
    Ok((reports, skipped))
}
