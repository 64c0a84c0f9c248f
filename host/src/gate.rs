//! The verdict: the one place levels meet `fail-at`. Plugins report facts;
//! only this module decides whether the change may merge.

use crate::check::PluginRun;
use crate::diag::{Exit, Level};
use std::path::Path;

use crate::finding::{BaselineState, Finding, Location, PluginInfo, Region, RuleInfo};
use crate::policy::Policy;
use crate::policy::baseline::{Baseline, Entry};
use crate::policy::date::Date;

/// Apply the policy's `[rules]` levels: the only place a finding's level
/// changes after its plugin reported it. Findings of rules that are `off`
/// are dropped.
pub fn apply_levels(policy: &Policy, findings: &mut Vec<Finding>) {
    findings.retain_mut(|f| match policy.level_for(&f.rule_id, f.level) {
        Some(level) => {
            f.level = level;
            true
        }
        None => false,
    });
}

/// `[rules]` entries that match no rule of any plugin in the run, as
/// notices (a misspelt id would otherwise silently do nothing).
pub fn unmatched_rule_patterns(policy: &Policy, runs: &[PluginRun]) -> Vec<String> {
    policy
        .rules
        .iter()
        .filter(|o| {
            !runs.iter().any(|r| {
                r.rules
                    .iter()
                    .any(|rule| o.matches(&format!("{}/{}", r.id, rule.id)))
            })
        })
        .map(|o| {
            format!(
                "{}: [rules] entry `{}` matches no rule of the plugins in this policy",
                o.at, o.pattern
            )
        })
        .collect()
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub error: usize,
    pub warning: usize,
    pub note: usize,
    /// Findings covered by an active waiver (not in the other counts).
    pub waived: usize,
    /// Findings already in the baseline (not in the other counts).
    pub baselined: usize,
}

impl Counts {
    pub fn add(&mut self, level: Level) {
        match level {
            Level::Error => self.error += 1,
            Level::Warning => self.warning += 1,
            Level::Note => self.note += 1,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub counts: Counts,
    /// Findings at or above `fail-at`.
    pub failing: usize,
    /// Plugins that could not be evaluated.
    pub failed_plugins: usize,
    pub exit: Exit,
}

impl Verdict {
    pub fn word(&self) -> &'static str {
        match self.exit {
            Exit::Pass => "passed",
            Exit::Fail => "FAILED",
            Exit::Error => "could not be evaluated",
        }
    }
}

/// Decide: any plugin failure → could not evaluate (exit 2, never a pass);
/// else any finding at or above `fail_at` → fail; else pass.
pub fn decide(runs: &[PluginRun], fail_at: Level) -> Verdict {
    let mut counts = Counts::default();
    let mut failing = 0;
    for f in runs.iter().flat_map(|r| r.findings.iter()) {
        if f.waived_by.is_some() {
            counts.waived += 1;
            continue;
        }
        if f.baseline == Some(BaselineState::Unchanged) {
            counts.baselined += 1;
            continue;
        }
        counts.add(f.level);
        if f.level >= fail_at {
            failing += 1;
        }
    }
    let failed_plugins = runs.iter().filter(|r| r.failure.is_some()).count();
    let exit = if failed_plugins > 0 {
        Exit::Error
    } else if failing > 0 {
        Exit::Fail
    } else {
        Exit::Pass
    };
    Verdict {
        counts,
        failing,
        failed_plugins,
        exit,
    }
}

/// The host's own rules, reported under the `portcullis/` prefix.
pub fn host_rules() -> Vec<RuleInfo> {
    let rule = |id: &str, name: &str, level: Level, short: &str, help: &str| RuleInfo {
        id: id.into(),
        name: name.into(),
        short_description: short.into(),
        full_description: short.into(),
        help_markdown: help.into(),
        default_level: level,
        tags: vec!["policy".into()],
        security_severity: None,
    };
    vec![
        rule(
            "waiver-expired",
            "WaiverExpired",
            Level::Warning,
            "A waiver has expired; the findings it covered count again.",
            "Fix the findings, or renew the waiver with a new `expires` date and the owner's agreement.",
        ),
        rule(
            "waiver-expiring",
            "WaiverExpiring",
            Level::Note,
            "A waiver expires soon.",
            "Plan the fix or the renewal before the `expires` date (`[gate] waiver-expiring-days`, default 14).",
        ),
        rule(
            "waiver-unused",
            "WaiverUnused",
            Level::Warning,
            "A waiver matched no finding.",
            "Remove the waiver: what it excused is gone, and a stale waiver would silently excuse a new finding.",
        ),
    ]
}

/// Apply the policy's waivers to the findings of `runs` and return the
/// host's own run with waiver diagnostics (expired, expiring, unused), or
/// `None` when the policy has no waivers. A finding is covered by the first
/// matching waiver; a waiver is valid through its `expires` day.
pub fn apply_waivers(
    policy: &Policy,
    runs: &mut [PluginRun],
    today: Date,
    root: &Path,
) -> Option<PluginRun> {
    if policy.waivers.is_empty() {
        return None;
    }
    let mut used = vec![false; policy.waivers.len()];
    for f in runs.iter_mut().flat_map(|r| r.findings.iter_mut()) {
        let path = f.locations.first().map(|l| l.path.as_str());
        if let Some(i) = policy
            .waivers
            .iter()
            .position(|w| w.matches(&f.rule_id, path, &f.fingerprint))
        {
            used[i] = true;
            if today <= policy.waivers[i].expires {
                f.waived_by = Some(i);
            }
        }
    }
    let rules = host_rules();
    let policy_path = policy_location(policy, root);
    let all_evaluated = runs.iter().all(|r| r.failure.is_none());
    let mut findings = Vec::new();
    for (i, w) in policy.waivers.iter().enumerate() {
        let left = today.days_until(w.expires);
        let (rule_index, message) = if left < 0 {
            (
                0,
                format!(
                    "waiver for `{}` at {} (owner {}) expired on {}; its findings count again",
                    w.rule, w.at, w.owner, w.expires
                ),
            )
        } else if !used[i] && all_evaluated {
            (
                2,
                format!(
                    "waiver for `{}` at {} (owner {}) matched no finding",
                    w.rule, w.at, w.owner
                ),
            )
        } else if left <= policy.waiver_expiring_days {
            (
                1,
                format!(
                    "waiver for `{}` at {} (owner {}) expires on {} ({left} days)",
                    w.rule, w.at, w.owner, w.expires
                ),
            )
        } else {
            continue;
        };
        let rule_id = format!("portcullis/{}", rules[rule_index].id);
        let identity = format!(
            "{rule_id}\0{}\0{}\0{}",
            w.rule,
            w.paths.join(","),
            w.fingerprint.as_deref().unwrap_or("")
        );
        let mut properties = serde_json::Map::new();
        properties.insert("owner".into(), w.owner.clone().into());
        properties.insert("expires".into(), w.expires.to_string().into());
        properties.insert("waiver".into(), w.at.clone().into());
        findings.push(Finding {
            plugin: "portcullis".into(),
            rule_id: rule_id.clone(),
            rule_index,
            level: rules[rule_index].default_level,
            message,
            locations: policy_path
                .iter()
                .map(|p| Location {
                    path: p.clone(),
                    region: Some(Region {
                        start_line: w.line as u32,
                        start_column: None,
                        end_line: None,
                        end_column: None,
                    }),
                })
                .collect(),
            fingerprint: crate::plugins::sha256_hex(identity.as_bytes())[..32].to_string(),
            properties: Some(properties),
            waived_by: None,
            baseline: None,
        });
    }
    apply_levels(policy, &mut findings);
    Some(PluginRun {
        id: "portcullis".into(),
        origin: "builtin:host".into(),
        sha256: None,
        info: Some(PluginInfo {
            name: "portcullis".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            rules: rules.clone(),
            reads: Vec::new(),
        }),
        rules,
        findings,
        logs: Vec::new(),
        failure: None,
        started: std::time::SystemTime::now(),
        duration: std::time::Duration::ZERO,
        evaluate_duration: std::time::Duration::ZERO,
        compiled_from_cache: false,
    })
}

/// The policy file's repository-relative path, when it lies in the repository.
pub fn policy_location(policy: &Policy, root: &Path) -> Option<String> {
    let real = Path::new(&policy.origin).canonicalize().ok()?;
    let rel = real.strip_prefix(root).ok()?;
    rel.to_str().map(|s| s.replace('\\', "/"))
}

/// Compare the plugins' findings with a baseline: each finding is `new` or
/// `unchanged` (then it does not count); returns the baseline entries no
/// finding matched (fixed since), for SARIF's `absent` results.
pub fn apply_baseline<'b>(baseline: &'b Baseline, runs: &mut [PluginRun]) -> Vec<&'b Entry> {
    let keys = baseline.keys();
    let mut seen = std::collections::HashSet::new();
    for f in runs
        .iter_mut()
        .filter(|r| !r.is_host())
        .flat_map(|r| r.findings.iter_mut())
    {
        let key = (f.rule_id.as_str(), f.fingerprint.as_str());
        if keys.contains(&key) {
            f.baseline = Some(BaselineState::Unchanged);
            seen.insert((f.rule_id.clone(), f.fingerprint.clone()));
        } else {
            f.baseline = Some(BaselineState::New);
        }
    }
    baseline
        .findings
        .iter()
        .filter(|e| !seen.contains(&(e.rule_id.clone(), e.fingerprint.clone())))
        .collect()
}

/// `--changed-since`: drop plugin findings located in files that did not
/// change; findings with no location (dependencies, approvals, budgets)
/// stay. Returns how many were dropped.
pub fn keep_changed(runs: &mut [PluginRun], changed: &std::collections::BTreeSet<String>) -> usize {
    let mut dropped = 0;
    for run in runs.iter_mut() {
        let before = run.findings.len();
        run.findings.retain(|f| {
            f.locations
                .first()
                .is_none_or(|l| changed.contains(&l.path))
        });
        dropped += before - run.findings.len();
    }
    dropped
}
