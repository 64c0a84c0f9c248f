//! SARIF 2.1.0: one run per plugin, as GitHub code scanning ingests it,
//! built from serde-sarif's types through the typed helpers in `typed`.
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

mod typed;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_sarif::sarif::{
    ArtifactLocation, Invocation, MultiformatMessageString, ReportingDescriptor, Run,
    RunAutomationDetails, Sarif, Tool, ToolComponent,
};

use crate::finding::{Finding, Location, Region};
use crate::outcome::{Outcome, PluginRun};
use typed::{BaselineState, NotificationLevel, Suppression};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const BASE: &str = "SRCROOT";

pub fn render(outcome: &Outcome) -> String {
    let fallback = outcome.policy_location();
    let log = Sarif::builder()
        .schema(SCHEMA)
        .version("2.1.0")
        .runs(
            outcome
                .runs
                .iter()
                .map(|r| run(outcome, r, fallback.as_deref()))
                .collect::<Vec<_>>(),
        )
        .build();
    let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
    s.push('\n');
    s
}

fn run(outcome: &Outcome, r: &PluginRun, fallback: Option<&str>) -> Run {
    let rules: Vec<ReportingDescriptor> = r
        .rules
        .iter()
        .map(|rule| {
            let help = nonempty(&rule.help_markdown, &rule.short_description);
            let mut d = ReportingDescriptor::builder()
                .id(format!("{}/{}", r.id, rule.id))
                .short_description(text(nonempty(&rule.short_description, &rule.id)))
                .full_description(text(nonempty(
                    &rule.full_description,
                    &rule.short_description,
                )))
                .help(
                    MultiformatMessageString::builder()
                        .text(help.clone())
                        .markdown(help)
                        .build(),
                )
                .default_configuration(typed::configuration(rule.default_level))
                .properties(typed::rule_properties(&rule.tags, rule.security_severity))
                .build();
            d.name = Some(rule.name.clone()).filter(|n| !n.is_empty());
            d
        })
        .collect();
    let mut notifications = Vec::new();
    if let Some(f) = &r.failure {
        notifications.push(typed::notification(
            NotificationLevel::Error,
            format!("plugin {}: {f}", r.id),
        ));
    }
    for line in &r.logs {
        let level = if line.level == "warn" {
            NotificationLevel::Warning
        } else {
            NotificationLevel::Note
        };
        notifications.push(typed::notification(level, line.message.clone()));
    }
    let info = r.info.as_ref();
    // Named by the policy, not by the plugin: its id, its source and the
    // digest of the component that ran. What the plugin calls itself is
    // kept as a property only.
    let mut driver = ToolComponent::builder()
        .name(r.id.clone())
        .rules(rules)
        .build();
    driver.full_name = Some(match &r.sha256 {
        Some(sha) => format!("{} ({}, sha256:{sha})", r.id, r.origin),
        None => format!("{} ({})", r.id, r.origin),
    });
    driver.properties = Some(typed::driver_properties(
        &r.origin,
        r.sha256.as_deref(),
        info.map(|i| i.name.as_str()),
    ));
    driver.version = info.map(|i| i.version.clone()).filter(|v| !v.is_empty());
    driver.semantic_version = info.map(|i| i.version.clone()).filter(|v| is_semver(v));
    let mut invocation = Invocation::builder()
        .execution_successful(r.failure.is_none())
        .start_time_utc(utc(r.started))
        .end_time_utc(utc(r.started + r.duration))
        .build();
    if !notifications.is_empty() {
        invocation.tool_execution_notifications = Some(notifications);
    }
    let results: Vec<_> = r
        .findings
        .iter()
        .map(|f| result(outcome, f, fallback))
        .chain(absent_results(outcome, r))
        .collect();
    Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .invocations(vec![invocation])
        .automation_details(
            RunAutomationDetails::builder()
                .id(format!("portcullis/{}/", r.id))
                .build(),
        )
        .original_uri_base_ids(BTreeMap::from([(
            BASE.to_string(),
            ArtifactLocation::builder()
                .uri(format!(
                    "file://{}/",
                    encode_path(&outcome.root.to_string_lossy())
                ))
                .build(),
        )]))
        // Always present, `[]` when empty (GitHub rejects a run without it).
        .results(results)
        .column_kind("unicodeCodePoints")
        .build()
}

fn result(outcome: &Outcome, f: &Finding, fallback: Option<&str>) -> serde_sarif::sarif::Result {
    let mut locations: Vec<_> = f.locations.iter().map(physical).collect();
    if locations.is_empty()
        && let Some(path) = fallback
    {
        locations.push(physical(&Location {
            path: path.to_string(),
            region: Some(Region {
                start_line: 1,
                start_column: None,
                end_line: None,
                end_column: None,
            }),
        }));
    }
    let suppressions: Vec<Suppression> = f
        .waived_by
        .and_then(|i| outcome.policy.waivers.get(i))
        .map(|w| {
            Suppression::accepted_external(&w.reason, &w.owner, &w.expires.to_string(), &w.place())
        })
        .into_iter()
        .collect();
    typed::result(typed::ResultFields {
        rule_id: f.rule_id.clone(),
        rule_index: f.rule_index,
        level: f.level,
        message: f.message.clone(),
        locations,
        fingerprint: f.fingerprint.clone(),
        properties: f.properties.clone(),
        suppressions,
        baseline_state: f.baseline.map(|b| match b {
            crate::finding::BaselineState::New => BaselineState::New,
            crate::finding::BaselineState::Unchanged => BaselineState::Unchanged,
        }),
    })
}

/// Baseline entries of this plugin that no longer occur, as `absent`
/// results (only for rules the plugin still declares).
fn absent_results<'a>(
    outcome: &'a Outcome,
    r: &'a PluginRun,
) -> impl Iterator<Item = serde_sarif::sarif::Result> + 'a {
    outcome.absent.iter().filter_map(move |e| {
        let rule = e.rule_id.strip_prefix(&format!("{}/", r.id))?;
        let rule_index = r.rules.iter().position(|x| x.id == rule)?;
        Some(typed::result(typed::ResultFields {
            rule_id: e.rule_id.clone(),
            rule_index,
            level: e.level,
            message: e.message.clone(),
            locations: e
                .path
                .iter()
                .map(|p| {
                    physical(&Location {
                        path: p.clone(),
                        region: e.line.map(|l| Region {
                            start_line: l,
                            start_column: None,
                            end_line: None,
                            end_column: None,
                        }),
                    })
                })
                .collect(),
            fingerprint: e.fingerprint.clone(),
            properties: None,
            suppressions: Vec::new(),
            baseline_state: Some(BaselineState::Absent),
        }))
    })
}

fn physical(l: &Location) -> serde_sarif::sarif::Location {
    typed::physical(&encode_path(&l.path), BASE, l.region.as_ref())
}

fn text(s: String) -> MultiformatMessageString {
    MultiformatMessageString::builder().text(s).build()
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
