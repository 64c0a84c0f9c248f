//! Waivers: which findings they cover, and the host's diagnostics about
//! the waivers themselves (expired, expiring, unused).

use std::path::Path;

use super::host_rules::{self, HostRule};
use crate::digest::sha256_hex;
use crate::finding::{Finding, Location, PluginInfo, Region};
use crate::outcome::{HOST_ID, HOST_ORIGIN, PluginRun};
use crate::policy::Policy;
use crate::policy::date::Date;

/// Mark the findings of `runs` covered by an active waiver and return the
/// host's run with the waiver diagnostics, or `None` when the policy has no
/// waivers. A finding is covered by the first matching waiver; a waiver is
/// valid through its `expires` day. "Unused" is only said of a complete
/// run (a failed plugin might have produced the finding) over every file
/// (`whole_tree`: plugins told which files changed look at no other).
pub fn apply(
    policy: &Policy,
    runs: &mut [PluginRun],
    today: Date,
    root: &Path,
    whole_tree: bool,
) -> Option<PluginRun> {
    if policy.waivers.is_empty() {
        return None;
    }
    let mut used = vec![false; policy.waivers.len()];
    for f in runs.iter_mut().flat_map(|r| r.findings.iter_mut()) {
        let path = f.locations.first().map(|l| l.path.as_str());
        if let Some(i) = policy.waivers.iter().position(|w| {
            w.matches(&f.rule_id, path, &f.fingerprint) && policy.may_waive(w, &f.rule_id)
        }) {
            used[i] = true;
            if today <= policy.waivers[i].expires {
                f.waived_by = Some(i);
            }
        }
    }
    let policy_path = policy.location_in(root);
    let all_evaluated = whole_tree && runs.iter().all(|r| r.failure.is_none());
    let mut findings = Vec::new();
    for (i, w) in policy.waivers.iter().enumerate() {
        let left = today.days_until(w.expires);
        // Repository-relative, or the policy's file name: these findings
        // reach SARIF and CI reports.
        let place = crate::outcome::shown(root, &w.place());
        let (rule, message) = if left < 0 {
            (
                HostRule::WaiverExpired,
                format!(
                    "waiver for `{}` at {} (owner {}) expired on {}; its findings count again",
                    w.rule, place, w.owner, w.expires
                ),
            )
        } else if !used[i] && all_evaluated {
            (
                HostRule::WaiverUnused,
                format!(
                    "waiver for `{}` at {} (owner {}) matched no finding",
                    w.rule, place, w.owner
                ),
            )
        } else if left <= policy.waiver_expiring_days {
            (
                HostRule::WaiverExpiring,
                format!(
                    "waiver for `{}` at {} (owner {}) expires on {} ({left} days)",
                    w.rule, place, w.owner, w.expires
                ),
            )
        } else {
            continue;
        };
        let rule_id = format!("{HOST_ID}/{}", rule.id());
        let identity = format!(
            "{rule_id}\0{}\0{}\0{}",
            w.rule,
            w.paths.join(","),
            w.fingerprint.as_deref().unwrap_or("")
        );
        let mut properties = serde_json::Map::new();
        properties.insert("owner".into(), w.owner.clone().into());
        properties.insert("expires".into(), w.expires.to_string().into());
        properties.insert("waiver".into(), place.into());
        findings.push(Finding {
            plugin: HOST_ID.into(),
            rule_id,
            rule_index: rule.index(),
            level: rule.default_level(),
            message,
            locations: policy_path
                .iter()
                .map(|p| Location {
                    path: p.clone(),
                    region: Some(Region {
                        start_line: w.at.line() as u32,
                        start_column: None,
                        end_line: None,
                        end_column: None,
                    }),
                })
                .collect(),
            fingerprint: sha256_hex(identity.as_bytes())[..32].to_string(),
            properties: Some(properties),
            waived_by: None,
            baseline: None,
        });
    }
    let rules = host_rules::all();
    let mut run = PluginRun::new(HOST_ID);
    run.origin = HOST_ORIGIN.into();
    run.info = Some(PluginInfo {
        name: HOST_ID.into(),
        version: env!("CARGO_PKG_VERSION").into(),
        rules: rules.clone(),
        reads: Vec::new(),
        has_tests: false,
    });
    run.rules = rules;
    run.findings = findings;
    Some(run)
}
