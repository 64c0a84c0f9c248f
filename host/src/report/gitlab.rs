//! GitLab Code Quality report (a JSON array of issues), for
//! `artifacts:reports:codequality`.

use serde::Serialize;

use crate::diag::Level;
use crate::outcome::Outcome;

#[derive(Serialize)]
struct Issue<'a> {
    description: &'a str,
    check_name: &'a str,
    fingerprint: &'a str,
    severity: &'static str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

/// Levels map to Code Quality severities: note → info, warning → minor,
/// error → critical. A finding without a location points at the policy
/// file, repository-relative like SARIF's (GitLab requires a path); a
/// policy outside the repository by its name only ([`Outcome::shown`]).
pub fn render(outcome: &Outcome) -> String {
    let fallback = outcome
        .policy_location()
        .unwrap_or_else(|| outcome.shown(&outcome.policy.origin));
    let issues: Vec<Issue> = outcome
        .counted()
        .map(|f| {
            let loc = f.locations.first();
            Issue {
                description: &f.message,
                check_name: &f.rule_id,
                fingerprint: &f.fingerprint,
                severity: match f.level {
                    Level::Note => "info",
                    Level::Warning => "minor",
                    Level::Error => "critical",
                },
                location: Location {
                    path: loc.map_or(fallback.as_str(), |l| l.path.as_str()),
                    lines: Lines {
                        begin: loc
                            .and_then(|l| l.region.as_ref())
                            .map_or(1, |r| r.start_line),
                    },
                },
            }
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".into());
    s.push('\n');
    s
}
