//! The verdict: the one place levels meet `fail-at`. Plugins report facts;
//! only this module decides whether the change may merge.

use crate::check::PluginRun;
use crate::diag::{Exit, Level};
use crate::finding::Finding;
use crate::policy::Policy;

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
