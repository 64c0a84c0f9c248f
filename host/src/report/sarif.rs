//! SARIF 2.1.0: one run per plugin, as GitHub code scanning ingests it,
//! built from serde-sarif's types through the typed helpers in `typed`.
//!
//! - `tool.driver` is the plugin's id and version with all its rules (ids
//!   prefixed `<plugin-id>/`), descriptions, help and default level, and
//!   the project's `informationUri`;
//! - `results` is always present; URIs are repository-relative with
//!   `uriBaseId` `SRCROOT`, which is described but not given a host path;
//!   every result has a location with a region (line 1 for a finding
//!   about a whole file). A finding with no place in the repository is
//!   located at the policy when the policy is in the repository, and is
//!   otherwise a notification of the run's invocation (SARIF's place for
//!   what a tool says that is not about an artifact), never a result
//!   without a location, which GitHub rejects;
//! - `partialFingerprints["portcullis/v1"]` is the host's content-based
//!   fingerprint, stable across runs and line shifts;
//! - `automationDetails` is left out unless `--sarif-category` names a
//!   category, so the category an uploader gives (codeql-action's
//!   `category`) applies; runs differ by their tool's name;
//! - a plugin that could not be evaluated has
//!   `invocations[0].executionSuccessful: false` and an error notification;
//! - GitHub's upload limits hold ([`limits`]): past them the most severe
//!   results are kept and a notification says how many were left out.

mod limits;
mod typed;

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Message, MultiformatMessageString, Notification,
    ReportingDescriptor, ReportingDescriptorReference, Run, RunAutomationDetails, Tool,
    ToolComponent,
};

use crate::finding::{Finding, Location, Region};
use crate::outcome::{Outcome, PluginRun};
use typed::{BaselineState, NotificationLevel, Suppression};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
const BASE: &str = "SRCROOT";

/// Where a SARIF consumer learns about the tool (`informationUri`).
pub const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

/// What the caller may choose about the log.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// GitHub's analysis category: every run's `automationDetails.id`
    /// becomes `<category>/`.
    pub category: Option<String>,
}

/// Why a category cannot be used, if it cannot.
pub fn check_category(category: &str) -> Result<(), String> {
    let c = category.trim_end_matches('/');
    if c.is_empty() || c.len() > 200 || c.chars().any(|ch| ch.is_control()) {
        return Err(format!(
            "`{}` is not a SARIF category: 1–200 characters, no control characters",
            crate::diag::one_line(category, 80)
        ));
    }
    Ok(())
}

pub fn render(outcome: &Outcome, options: &Options) -> String {
    let fallback = outcome.policy_location();
    let runs: Vec<Run> = outcome
        .runs
        .iter()
        .map(|r| run(outcome, r, fallback.as_deref(), options))
        .collect();
    limits::fit(runs, |runs| {
        let log = Log {
            schema: SCHEMA,
            version: "2.1.0",
            runs,
        };
        let mut s = serde_json::to_string_pretty(&log).unwrap_or_default();
        s.push('\n');
        s
    })
}

/// serde-sarif's `Sarif` without owning its runs, so a log is written
/// without copying them.
#[derive(serde::Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'a str,
    version: &'a str,
    runs: &'a [Run],
}

fn run(outcome: &Outcome, r: &PluginRun, fallback: Option<&str>, options: &Options) -> Run {
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
        .information_uri(INFORMATION_URI)
        .rules(rules)
        .build();
    // A `.wasm` source by its repository-relative path or file name only.
    let origin = outcome.shown(&r.origin);
    driver.full_name = Some(match &r.sha256 {
        Some(sha) => format!("{} ({origin}, sha256:{sha})", r.id),
        None => format!("{} ({origin})", r.id),
    });
    driver.properties = Some(typed::driver_properties(
        &origin,
        r.sha256.as_deref(),
        info.map(|i| i.name.as_str()),
    ));
    // SARIF consumers want a dotted version (`1.2…`): the plugin's when it
    // gave one, else (a plugin that failed before describing itself, or
    // versioned otherwise) the host's, with the plugin's word kept.
    let declared = info.map(|i| i.version.as_str()).filter(|v| !v.is_empty());
    driver.version = Some(match declared.filter(|v| is_dotted(v)) {
        Some(v) => v.to_string(),
        None => {
            if let (Some(v), Some(bag)) = (declared, driver.properties.as_mut()) {
                bag.additional_properties
                    .insert("portcullis/declared-version".into(), v.into());
            }
            env!("CARGO_PKG_VERSION").to_string()
        }
    });
    driver.semantic_version = info.map(|i| i.version.clone()).filter(|v| is_semver(v));
    let mut results = Vec::new();
    for f in &r.findings {
        match result(outcome, f, fallback) {
            Some(result) => results.push(result),
            None => notifications.push(placeless(f)),
        }
    }
    results.extend(absent_results(outcome, r));
    let mut invocation = Invocation::builder()
        .execution_successful(r.failure.is_none())
        .start_time_utc(utc(r.started))
        .end_time_utc(utc(r.started + r.duration))
        .build();
    if !notifications.is_empty() {
        invocation.tool_execution_notifications = Some(notifications);
    }
    let mut run = Run::builder()
        .tool(Tool::builder().driver(driver).build())
        .invocations(vec![invocation])
        .original_uri_base_ids(BTreeMap::from([(
            BASE.to_string(),
            ArtifactLocation::builder()
                .description(
                    Message::builder()
                        .text("The root of the repository that was checked.")
                        .build(),
                )
                .build(),
        )]))
        // Always present, `[]` when empty (GitHub rejects a run without it).
        .results(results)
        .column_kind("unicodeCodePoints")
        .build();
    if let Some(category) = &options.category {
        run.automation_details = Some(
            RunAutomationDetails::builder()
                .id(format!("{}/", category.trim_end_matches('/')))
                .build(),
        );
    }
    run
}

/// A finding with no place in the repository, as a notification of the
/// run: its level, the rule it is about, its message and fingerprint.
fn placeless(f: &Finding) -> Notification {
    let level = match f.level {
        crate::diag::Level::Error => NotificationLevel::Error,
        crate::diag::Level::Warning => NotificationLevel::Warning,
        crate::diag::Level::Note => NotificationLevel::Note,
    };
    let mut n = typed::notification(level, format!("{}: {}", f.rule_id, f.message));
    n.associated_rule = Some(
        ReportingDescriptorReference::builder()
            .id(f.rule_id.clone())
            .index(f.rule_index as i64)
            .build(),
    );
    let mut props = f.properties.clone().unwrap_or_default();
    props.insert(
        "portcullis/fingerprint".into(),
        f.fingerprint.clone().into(),
    );
    props.insert("portcullis/counts".into(), f.counts().into());
    n.properties = Some(
        serde_sarif::sarif::PropertyBag::builder()
            .additional_properties(props.into_iter().collect::<BTreeMap<_, _>>())
            .build(),
    );
    n
}

/// The finding as a result, or `None` when it has no place in the
/// repository to put it.
fn result(
    outcome: &Outcome,
    f: &Finding,
    fallback: Option<&str>,
) -> Option<serde_sarif::sarif::Result> {
    let mut locations: Vec<_> = f.locations.iter().map(physical).collect();
    if locations.is_empty() {
        locations.push(physical(&Location {
            path: fallback?.to_string(),
            region: None,
        }));
    }
    let suppressions: Vec<Suppression> = f
        .waived_by
        .and_then(|i| outcome.policy.waivers.get(i))
        .map(|w| {
            Suppression::accepted_external(
                &w.reason,
                &w.owner,
                &w.expires.to_string(),
                &outcome.shown(&w.place()),
            )
        })
        .into_iter()
        .collect();
    Some(typed::result(typed::ResultFields {
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
    }))
}

/// Baseline entries of this plugin that no longer occur, as `absent`
/// results (only for rules the plugin still declares).
fn absent_results<'a>(
    outcome: &'a Outcome,
    r: &'a PluginRun,
) -> impl Iterator<Item = serde_sarif::sarif::Result> + 'a {
    outcome.absent.iter().filter_map(move |e| {
        // An absent entry with no place (or none in the repository: the
        // baseline file is the repository's) stays in the JSON report only.
        e.path
            .as_deref()
            .filter(|p| crate::finding::is_repo_relative(p))?;
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
                        region: e.line.filter(|l| *l >= 1).map(|l| Region {
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

/// `1.2` followed by anything, as SARIF validators expect a version.
fn is_dotted(v: &str) -> bool {
    let mut parts = v.splitn(3, '.');
    let number =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    number(parts.next()) && {
        let second = parts.next().unwrap_or("");
        let digits: String = second.chars().take_while(char::is_ascii_digit).collect();
        !digits.is_empty()
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
        // Not `:`: `a:b.json` would read as a URI with the scheme `a`.
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=@".contains(&b) {
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
        assert_eq!(encode_path("we,ird:name.json"), "we,ird%3Aname.json");
        assert!(is_semver("0.1.0") && !is_semver("1.0") && is_semver("1.2.3-beta.1"));
        assert!(is_dotted("1.0") && is_dotted("2.10rc1") && is_dotted("0.1.0"));
        assert!(!is_dotted("v1.0") && !is_dotted("1") && !is_dotted("1.x") && !is_dotted(""));
    }
}
