//! The verdict. After the plugins ran, [`judge`] is the one call that
//! decides: policy levels and `off`, the baseline, waivers, `--changed-since`
//! and `fail-at`, each applied once, in that order. Plugins report facts;
//! only this module decides whether the change may merge.

pub mod host_rules;
mod waivers;

use std::collections::{BTreeSet, HashSet};
use std::path::Path;

use crate::baseline::{Baseline, Entry};
use crate::diag::{Exit, Level};
use crate::finding::BaselineState;
use crate::outcome::{Counts, PluginRun, Verdict};
use crate::policy::Policy;
use crate::policy::date::Date;

/// What the gate weighs besides the policy and the plugins' findings.
#[derive(Debug, Clone, Copy)]
pub struct GateInputs<'a> {
    /// `--baseline`: findings recorded there do not count.
    pub baseline: Option<&'a Baseline>,
    /// `--changed-since REV`: the revision and the files changed since it;
    /// only findings in those files (or with no location) are kept.
    pub changed: Option<(&'a str, &'a BTreeSet<String>)>,
    /// For waiver expiry.
    pub today: Date,
    pub fail_at: Level,
    /// The repository, to place waiver diagnostics in the policy file.
    pub root: &'a Path,
}

/// The gate's decision and everything it changed on the way.
#[derive(Debug)]
pub struct Judgement {
    /// The plugins' runs with levels, waivers and baseline states applied,
    /// then the host's own run (waiver diagnostics) when there is one.
    pub runs: Vec<PluginRun>,
    pub notices: Vec<String>,
    pub verdict: Verdict,
    /// With a baseline: recorded findings no longer reported (fixed).
    pub absent: Vec<Entry>,
}

/// Judge the plugins' runs under `policy`.
pub fn judge(policy: &Policy, mut runs: Vec<PluginRun>, inputs: GateInputs<'_>) -> Judgement {
    for run in &mut runs {
        apply_levels(policy, run);
    }
    // Baseline and waivers see every finding, so that narrowing to changed
    // files below cannot make entries look fixed or waivers look unused.
    // Plugins told which files changed do not look at the others at all:
    // then a baseline entry elsewhere is not known to be fixed, nor a
    // waiver to be unused.
    let mut absent = match inputs.baseline {
        Some(b) => apply_baseline(policy, b, &mut runs),
        None => Vec::new(),
    };
    if let Some((_, changed)) = inputs.changed {
        absent.retain(|e| e.path.as_ref().is_some_and(|p| changed.contains(p)));
    }
    let host = waivers::apply(
        policy,
        &mut runs,
        inputs.today,
        inputs.root,
        inputs.changed.is_none(),
    );
    let mut notices = Vec::new();
    if let Some((rev, changed)) = inputs.changed {
        let dropped = keep_changed(&mut runs, changed);
        if dropped > 0 {
            notices.push(format!(
                "{dropped} findings in files unchanged since {rev} are not shown"
            ));
        }
    }
    // The host's waiver diagnostics concern the policy, not changed files.
    if let Some(mut host) = host {
        apply_levels(policy, &mut host);
        runs.push(host);
    }
    if runs.iter().all(|r| r.failure.is_none()) {
        notices.extend(unmatched_rule_patterns(policy, &runs));
    }
    let verdict = decide(&runs, inputs.fail_at);
    Judgement {
        runs,
        notices,
        verdict,
        absent,
    }
}

/// The policy's `[rules]` levels: the only place a finding's level changes
/// after its plugin reported it. Findings of rules that are `off` are
/// dropped.
fn apply_levels(policy: &Policy, run: &mut PluginRun) {
    run.findings
        .retain_mut(|f| match policy.level_for(&f.rule_id, f.level) {
            Some(level) => {
                f.level = level;
                true
            }
            None => false,
        });
}

/// `[rules]` entries that match no rule of any plugin in the run, as
/// notices (a misspelt id would otherwise silently do nothing).
fn unmatched_rule_patterns(policy: &Policy, runs: &[PluginRun]) -> Vec<String> {
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

/// Any plugin failure → could not evaluate (exit 2, never a pass); else
/// any counted finding at or above `fail_at` → fail; else pass.
fn decide(runs: &[PluginRun], fail_at: Level) -> Verdict {
    let findings = || runs.iter().flat_map(|r| r.findings.iter());
    let mut counts = Counts::of(findings());
    for f in findings().filter(|f| !f.counts()) {
        if f.waived_by.is_some() {
            counts.waived += 1;
        } else {
            counts.baselined += 1;
        }
    }
    let failing = findings()
        .filter(|f| f.counts() && f.level >= fail_at)
        .count();
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

/// Mark each plugin finding `new` or `unchanged` (then it does not count);
/// returns the baseline entries no finding matched (fixed since), for
/// SARIF's `absent` results.
/// A locked rule's findings count whatever the baseline says: the
/// baseline file is the repository's, the lock is not.
fn apply_baseline(policy: &Policy, baseline: &Baseline, runs: &mut [PluginRun]) -> Vec<Entry> {
    let keys = baseline.keys();
    let mut seen = HashSet::new();
    for f in runs
        .iter_mut()
        .filter(|r| !r.is_host())
        .flat_map(|r| r.findings.iter_mut())
    {
        let key = (f.rule_id.as_str(), f.fingerprint.as_str());
        if keys.contains(&key) {
            f.baseline = Some(if policy.is_locked(&f.rule_id) {
                BaselineState::New
            } else {
                BaselineState::Unchanged
            });
            seen.insert((f.rule_id.clone(), f.fingerprint.clone()));
        } else {
            f.baseline = Some(BaselineState::New);
        }
    }
    baseline
        .findings
        .iter()
        .filter(|e| !seen.contains(&(e.rule_id.clone(), e.fingerprint.clone())))
        .cloned()
        .collect()
}

/// Drop findings none of whose places changed; findings with no location
/// (dependencies, approvals, budgets) stay. A place is changed when the
/// change touched that file or, for a directory (a case collision between
/// directories), a file under it. Returns how many were dropped.
fn keep_changed(runs: &mut [PluginRun], changed: &BTreeSet<String>) -> usize {
    let touched = |path: &str| {
        changed.contains(path) || {
            let dir = format!("{path}/");
            changed
                .range(dir.clone()..)
                .next()
                .is_some_and(|c| c.starts_with(&dir))
        }
    };
    let mut dropped = 0;
    for run in runs.iter_mut() {
        let before = run.findings.len();
        run.findings
            .retain(|f| f.locations.is_empty() || f.locations.iter().any(|l| touched(&l.path)));
        dropped += before - run.findings.len();
    }
    dropped
}

#[cfg(test)]
mod tests;
