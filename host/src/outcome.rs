//! What a gate run produced: each plugin's run and the verdict. Below both
//! the gate (which fills it in) and the reports (which render it), so
//! neither imports the other.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::baseline::Entry;
use crate::diag::{Exit, Level};
use crate::failure::PluginFailure;
use crate::finding::{Finding, PluginInfo, RuleInfo};
use crate::policy::Policy;
use crate::sandbox::LogLine;

/// The id, and the `origin`, of the host's own run of rules.
pub use crate::builtins::HOST_ID;
pub const HOST_ORIGIN: &str = "builtin:host";

/// One plugin's part of the run (or the host's own rules).
#[derive(Debug)]
pub struct PluginRun {
    /// The plugin's id in the policy.
    pub id: String,
    /// `builtin:lint` or the .wasm path.
    pub origin: String,
    pub sha256: Option<String>,
    /// From `describe` (`None` when the plugin failed before describing).
    pub info: Option<PluginInfo>,
    /// Declared and discovered rules; findings index into this.
    pub rules: Vec<RuleInfo>,
    pub findings: Vec<Finding>,
    pub logs: Vec<LogLine>,
    /// Why the plugin could not be evaluated (the gate then fails closed).
    pub failure: Option<PluginFailure>,
    pub started: SystemTime,
    pub duration: Duration,
    /// Of `duration`, the time in the plugin's `evaluate` call.
    pub evaluate_duration: Duration,
    /// Of `duration`, resolving and loading the component (compiled or
    /// from the cache), and its `describe` call.
    pub load_duration: Duration,
    pub describe_duration: Duration,
    /// When `evaluate` began (after the evidence was collected).
    pub evaluate_started: Option<SystemTime>,
    pub compiled_from_cache: bool,
    /// Of those, loaded from the artifacts precompiled into the binary.
    pub precompiled: bool,
}

impl PluginRun {
    /// A run that has not started: no origin, rules or findings yet.
    pub fn new(id: &str) -> PluginRun {
        PluginRun {
            id: id.to_string(),
            origin: String::new(),
            sha256: None,
            info: None,
            rules: Vec::new(),
            findings: Vec::new(),
            logs: Vec::new(),
            failure: None,
            started: SystemTime::now(),
            duration: Duration::ZERO,
            evaluate_duration: Duration::ZERO,
            load_duration: Duration::ZERO,
            describe_duration: Duration::ZERO,
            evaluate_started: None,
            compiled_from_cache: false,
            precompiled: false,
        }
    }

    /// The run of the host's own rules (waiver diagnostics), not a plugin.
    pub fn is_host(&self) -> bool {
        self.origin == HOST_ORIGIN
    }

    pub fn name(&self) -> &str {
        self.info.as_ref().map_or(&self.id, |i| &i.name)
    }
}

/// Findings by level, and those that did not count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
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

    /// Counts of the findings that count toward the gate.
    pub fn of<'f>(findings: impl IntoIterator<Item = &'f Finding>) -> Counts {
        let mut counts = Counts::default();
        for f in findings.into_iter().filter(|f| f.counts()) {
            counts.add(f.level);
        }
        counts
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

/// Everything a report needs.
#[derive(Debug)]
pub struct Outcome {
    /// The repository's canonical path.
    pub root: PathBuf,
    pub policy: Policy,
    pub fail_at: Level,
    pub runs: Vec<PluginRun>,
    /// Things the user should know that did not fail the gate.
    pub notices: Vec<String>,
    pub verdict: Verdict,
    pub elapsed: Duration,
    /// With `--baseline`: recorded findings no longer reported (fixed).
    pub absent: Vec<Entry>,
    /// When the run and its host-side phases happened.
    pub timeline: Timeline,
}

/// When a run's phases began and how long each took (plugins keep their
/// own in [`PluginRun`]): what a trace of the run shows.
#[derive(Debug, Clone, Copy)]
pub struct Timeline {
    pub started: SystemTime,
    /// Collecting the evidence the plugins read.
    pub evidence: (SystemTime, Duration),
    /// Judging the findings: levels, waivers, baseline, verdict.
    pub gate: (SystemTime, Duration),
}

impl Outcome {
    /// One line per reason the gate could not be evaluated.
    pub fn failures(&self) -> Vec<String> {
        self.runs
            .iter()
            .filter_map(|r| r.failure.as_ref().map(|f| format!("plugin {}: {f}", r.id)))
            .collect()
    }

    /// Every finding, waived ones included.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.runs.iter().flat_map(|r| r.findings.iter())
    }

    /// The findings that count toward the gate ([`Finding::counts`]).
    pub fn counted(&self) -> impl Iterator<Item = &Finding> {
        self.findings().filter(|f| f.counts())
    }

    /// The policy file's repository-relative path, when it lies in the
    /// repository: where findings without a location point in SARIF.
    pub fn policy_location(&self) -> Option<String> {
        self.policy.location_in(&self.root)
    }

    /// A host path as reports show it ([`shown`]).
    pub fn shown(&self, name: &str) -> String {
        shown(&self.root, name)
    }
}

/// A host path (or `path:line`) as files written for CI show it:
/// repository-relative when it lies in the repository `root`, else only
/// its file name, so no report carries the host's absolute paths. Names
/// that are not absolute paths (`builtin:default`) are kept.
pub fn shown(root: &std::path::Path, name: &str) -> String {
    let (path, line) = match name.rsplit_once(':') {
        Some((p, l)) if !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()) => (p, Some(l)),
        _ => (name, None),
    };
    let p = std::path::Path::new(path);
    if !p.is_absolute() {
        return name.to_string();
    }
    let shown = crate::files::relative_to(root, p).unwrap_or_else(|| {
        p.file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    });
    match line {
        Some(l) => format!("{shown}:{l}"),
        None => shown,
    }
}
