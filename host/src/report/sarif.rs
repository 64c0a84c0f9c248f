//! SARIF 2.1.0: one run per plugin, as GitHub code scanning ingests it.
//!
//! - `tool.driver` is the plugin's name and version with all its rules
//!   (ids prefixed `<plugin-id>/`), descriptions, help and default level;
//! - `results` is always present; URIs are repository-relative with
//!   `uriBaseId` `SRCROOT`;
//! - `partialFingerprints["portcullis/v1"]` is the host's content-based
//!   fingerprint, stable across runs and line shifts;
//! - `automationDetails.id` is `portcullis/<plugin-id>/`, one category per
//!   plugin;
//! - a plugin that could not be evaluated has
//!   `invocations[0].executionSuccessful: false` and an error notification.

mod model;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::finding::Finding;
use crate::outcome::{Outcome, PluginRun};
use model::*;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const BASE: &str = "SRCROOT";

pub fn render(outcome: &Outcome) -> String {
    let fallback = fallback_location(outcome);
    let log = Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: outcome
            .runs
            .iter()
            .map(|r| run(outcome, r, fallback.as_deref()))
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

/// Where a finding with no location points: the policy file, when it lies
/// inside the repository (code scanning rejects results without one).
fn fallback_location(outcome: &Outcome) -> Option<String> {
    outcome.policy_location()
}

fn run(outcome: &Outcome, r: &PluginRun, fallback: Option<&str>) -> Run {
    let rules = r
        .rules
        .iter()
        .map(|rule| ReportingDescriptor {
            id: format!("{}/{}", r.id, rule.id),
            name: Some(rule.name.clone()).filter(|n| !n.is_empty()),
            short_description: Message {
                text: nonempty(&rule.short_description, &rule.id),
                markdown: None,
            },
            full_description: Message {
                text: nonempty(&rule.full_description, &rule.short_description),
                markdown: None,
            },
            help: Message {
                text: nonempty(&rule.help_markdown, &rule.short_description),
                markdown: Some(nonempty(&rule.help_markdown, &rule.short_description)),
            },
            default_configuration: Configuration {
                level: rule.default_level.as_str(),
            },
            properties: RuleProperties {
                tags: rule.tags.clone(),
                security_severity: rule.security_severity.map(|s| format!("{s:.1}")),
            },
        })
        .collect();
    let mut notifications: Vec<Notification> = Vec::new();
    if let Some(f) = &r.failure {
        notifications.push(Notification {
            level: "error",
            message: Message {
                text: format!("plugin {}: {f}", r.id),
                markdown: None,
            },
        });
    }
    for line in &r.logs {
        let level = if line.level == "warn" {
            "warning"
        } else {
            "note"
        };
        notifications.push(Notification {
            level,
            message: Message {
                text: line.message.clone(),
                markdown: None,
            },
        });
    }
    let info = r.info.as_ref();
    Run {
        tool: Tool {
            driver: Driver {
                name: info.map_or_else(|| r.id.clone(), |i| i.name.clone()),
                version: info.map(|i| i.version.clone()).filter(|v| !v.is_empty()),
                semantic_version: info.map(|i| i.version.clone()).filter(|v| is_semver(v)),
                rules,
            },
        },
        invocations: vec![Invocation {
            execution_successful: r.failure.is_none(),
            start_time_utc: Some(utc(r.started)),
            end_time_utc: Some(utc(r.started + r.duration)),
            tool_execution_notifications: notifications,
        }],
        automation_details: AutomationDetails {
            id: format!("portcullis/{}/", r.id),
        },
        original_uri_base_ids: BTreeMap::from([(
            BASE,
            ArtifactLocation {
                uri: format!("file://{}/", encode_path(&outcome.root.to_string_lossy())),
                uri_base_id: None,
            },
        )]),
        results: r
            .findings
            .iter()
            .map(|f| result(outcome, f, fallback))
            .chain(absent_results(outcome, r))
            .collect(),
        column_kind: "unicodeCodePoints",
    }
}

fn result(outcome: &Outcome, f: &Finding, fallback: Option<&str>) -> ResultObj {
    let mut locations: Vec<Location> = f
        .locations
        .iter()
        .map(|l| {
            physical(
                &l.path,
                l.region.as_ref().map(|r| Region {
                    start_line: r.start_line,
                    start_column: r.start_column,
                    end_line: r.end_line,
                    end_column: r.end_column,
                }),
            )
        })
        .collect();
    if locations.is_empty()
        && let Some(path) = fallback
    {
        locations.push(physical(
            path,
            Some(Region {
                start_line: 1,
                start_column: None,
                end_line: None,
                end_column: None,
            }),
        ));
    }
    ResultObj {
        rule_id: f.rule_id.clone(),
        rule_index: f.rule_index,
        level: f.level.as_str(),
        message: Message {
            text: f.message.clone(),
            markdown: None,
        },
        locations,
        partial_fingerprints: BTreeMap::from([("portcullis/v1", f.fingerprint.clone())]),
        properties: f.properties.clone(),
        suppressions: f
            .waived_by
            .and_then(|i| outcome.policy.waivers.get(i))
            .map(|w| {
                let mut props = serde_json::Map::new();
                props.insert("owner".into(), w.owner.clone().into());
                props.insert("expires".into(), w.expires.to_string().into());
                props.insert("waiver".into(), w.place().into());
                vec![Suppression {
                    kind: "external",
                    status: "accepted",
                    justification: w.reason.clone(),
                    properties: props,
                }]
            })
            .unwrap_or_default(),
        baseline_state: f.baseline.map(|b| match b {
            crate::finding::BaselineState::New => "new",
            crate::finding::BaselineState::Unchanged => "unchanged",
        }),
    }
}

/// Baseline entries of this plugin that no longer occur, as `absent`
/// results (only for rules the plugin still declares).
fn absent_results<'a>(
    outcome: &'a Outcome,
    r: &'a PluginRun,
) -> impl Iterator<Item = ResultObj> + 'a {
    outcome.absent.iter().filter_map(move |e| {
        let rule = e.rule_id.strip_prefix(&format!("{}/", r.id))?;
        let rule_index = r.rules.iter().position(|x| x.id == rule)?;
        Some(ResultObj {
            rule_id: e.rule_id.clone(),
            rule_index,
            level: e.level.as_str(),
            message: Message {
                text: e.message.clone(),
                markdown: None,
            },
            locations: e
                .path
                .iter()
                .map(|p| {
                    physical(
                        p,
                        e.line.map(|l| Region {
                            start_line: l,
                            start_column: None,
                            end_line: None,
                            end_column: None,
                        }),
                    )
                })
                .collect(),
            partial_fingerprints: BTreeMap::from([("portcullis/v1", e.fingerprint.clone())]),
            properties: None,
            suppressions: Vec::new(),
            baseline_state: Some("absent"),
        })
    })
}

fn physical(path: &str, region: Option<Region>) -> Location {
    Location {
        physical_location: PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: encode_path(path),
                uri_base_id: Some(BASE),
            },
            region,
        },
    }
}

fn nonempty(s: &str, fallback: &str) -> String {
    if s.trim().is_empty() {
        fallback.to_string()
    } else {
        s.to_string()
    }
}

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

/// Percent-encode a path for a URI reference, keeping `/`.
pub fn encode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// RFC 3339 UTC timestamp with milliseconds.
fn utc(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    format!(
        "{}T{:02}:{:02}:{:02}.{:03}Z",
        crate::policy::date::Date::from_days(days),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_millis()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_and_uris() {
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            utc(UNIX_EPOCH + Duration::from_millis(1_795_309_323_456)),
            "2026-11-22T01:02:03.456Z"
        );
        assert_eq!(encode_path("src/a b#c.rs"), "src/a%20b%23c.rs");
        assert_eq!(encode_path("dir/ü.txt"), "dir/%C3%BC.txt");
        assert!(is_semver("0.1.0") && !is_semver("1.0") && is_semver("1.2.3-beta.1"));
    }
}
