//! Machine-readable output, version 1. Fields are only ever added within a
//! version.

use serde::Serialize;

use crate::finding::Location;
use crate::outcome::Counts;
use crate::outcome::Outcome;

#[derive(Serialize)]
struct Doc<'a> {
    version: u32,
    verdict: &'static str,
    exit_code: i32,
    fail_at: &'static str,
    counts: Counts,
    policy: String,
    /// Where the run belongs (what `report merge` groups by): the CI's
    /// repository and branch (GitHub Actions, GitLab CI), else the checked
    /// directory's name and its checked-out branch.
    repository: String,
    branch: String,
    elapsed_ms: u128,
    plugins: Vec<Plugin<'a>>,
    findings: Vec<Finding<'a>>,
    errors: Vec<String>,
    notices: &'a [String],
    /// The policy's waivers, each with the findings it covers in this run.
    waivers: Vec<Waiver<'a>>,
    /// With `--baseline`: recorded findings that are gone.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    absent: &'a [crate::baseline::Entry],
}

#[derive(Serialize)]
struct Plugin<'a> {
    id: &'a str,
    name: &'a str,
    version: Option<&'a str>,
    source: String,
    sha256: Option<&'a str>,
    success: bool,
    error: Option<String>,
    /// Why it failed, as a stable word (`timeout`, `memory`, `load`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    error_kind: Option<&'static str>,
    duration_ms: u128,
    /// Of `duration_ms`, the time spent in the plugin's `evaluate` call
    /// (the rest is loading the component and `describe`).
    evaluate_ms: u128,
    /// Whether the compiled plugin was loaded (precompiled into the binary
    /// or from the on-disk cache) rather than compiled in this run.
    compile_cached: bool,
    /// Whether it was precompiled into the binary (`portcullis precompile`).
    precompiled: bool,
    findings: usize,
}

#[derive(Serialize)]
struct Finding<'a> {
    rule_id: &'a str,
    level: &'static str,
    message: &'a str,
    locations: &'a [Location],
    fingerprint: &'a str,
    plugin: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    properties: Option<&'a serde_json::Map<String, serde_json::Value>>,
    /// The waiver covering this finding; a waived finding does not count.
    #[serde(skip_serializing_if = "Option::is_none")]
    waiver: Option<WaiverRef<'a>>,
    /// With `--baseline`: `new` or `unchanged` (unchanged does not count).
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline_state: Option<crate::finding::BaselineState>,
}

#[derive(Serialize)]
struct Waiver<'a> {
    rule: &'a str,
    paths: &'a [String],
    owner: &'a str,
    reason: &'a str,
    expires: String,
    at: String,
    findings: usize,
}

#[derive(Serialize)]
struct WaiverRef<'a> {
    at: String,
    reason: &'a str,
    owner: &'a str,
    expires: String,
}

/// The report of a finished run; `group` says where it belongs.
pub fn render(outcome: &Outcome, group: &super::openmetrics::Group) -> String {
    let v = &outcome.verdict;
    let doc = Doc {
        version: 1,
        verdict: match v.exit {
            crate::diag::Exit::Pass => "pass",
            crate::diag::Exit::Fail => "fail",
            crate::diag::Exit::Error => "error",
        },
        exit_code: v.exit as i32,
        fail_at: outcome.fail_at.as_str(),
        counts: v.counts,
        policy: outcome.shown(&outcome.policy.origin),
        repository: group.repository.clone(),
        branch: group.branch.clone(),
        elapsed_ms: outcome.elapsed.as_millis(),
        plugins: outcome
            .runs
            .iter()
            .map(|r| Plugin {
                id: &r.id,
                name: r.name(),
                version: r.info.as_ref().map(|i| i.version.as_str()),
                source: outcome.shown(&r.origin),
                sha256: r.sha256.as_deref(),
                success: r.failure.is_none(),
                error: r.failure.as_ref().map(ToString::to_string),
                error_kind: r.failure.as_ref().map(|f| f.kind()),
                duration_ms: r.duration.as_millis(),
                evaluate_ms: r.evaluate_duration.as_millis(),
                compile_cached: r.compiled_from_cache,
                precompiled: r.precompiled,
                findings: r.findings.len(),
            })
            .collect(),
        findings: outcome
            .findings()
            .map(|f| Finding {
                rule_id: &f.rule_id,
                level: f.level.as_str(),
                message: &f.message,
                locations: &f.locations,
                fingerprint: &f.fingerprint,
                plugin: &f.plugin,
                properties: f.properties.as_ref(),
                waiver: f
                    .waived_by
                    .and_then(|i| outcome.policy.waivers.get(i))
                    .map(|w| WaiverRef {
                        at: outcome.shown(&w.place()),
                        reason: &w.reason,
                        owner: &w.owner,
                        expires: w.expires.to_string(),
                    }),
                baseline_state: f.baseline,
            })
            .collect(),
        errors: outcome.failures(),
        notices: &outcome.notices,
        waivers: outcome
            .policy
            .waivers
            .iter()
            .enumerate()
            .map(|(i, w)| Waiver {
                rule: &w.rule,
                paths: &w.paths,
                owner: &w.owner,
                reason: &w.reason,
                expires: w.expires.to_string(),
                at: outcome.shown(&w.place()),
                findings: outcome
                    .findings()
                    .filter(|f| f.waived_by == Some(i))
                    .count(),
            })
            .collect(),
        absent: &outcome.absent,
    };
    let mut s =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// The report of a run stopped before any plugin ran (a policy error, an
/// unknown revision): exit 2 and why, so a sweep that merges reports sees
/// the repository as not evaluated rather than missing. `fail_at` is null:
/// the policy was not read.
pub fn render_stopped(group: &super::openmetrics::Group, why: &str) -> String {
    let doc = serde_json::json!({
        "version": 1,
        "verdict": "error",
        "exit_code": crate::diag::Exit::Error as i32,
        "fail_at": null,
        "counts": Counts::default(),
        "policy": "",
        "repository": group.repository,
        "branch": group.branch,
        "elapsed_ms": 0,
        "plugins": [],
        "findings": [],
        "errors": [why],
        "notices": [],
        "waivers": [],
    });
    let mut s =
        serde_json::to_string_pretty(&doc).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}
