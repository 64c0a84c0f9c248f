//! The rules the perf plugin reports, each declared once; the doc comment
//! of a declaration is the rule's help.

use portcullis_sdk::{RuleDecl, declare_rule};

/// Every rule, in the order `portcullis rules` lists them.
pub const RULES: &[&RuleDecl] = &[
    &REGRESSION,
    &COUNT_REGRESSION,
    &IMPROVEMENT,
    &OVER_BUDGET,
    &SIZE_BUDGET,
    &SIZE_INCREASE,
    &MISSING,
    &INCONCLUSIVE,
    &SUMMARY,
];

declare_rule! {
    /// Profile the change; if the slowdown is intended, waive the finding with a reason. Raise the level with `[rules] "perf/regression" = "error"` to block merges on it.
    pub REGRESSION = "regression" {
        name: "PerformanceRegression",
        level: Warning,
        short: "A benchmark is significantly slower than its baseline, beyond the noise floor.",
        tags: ["performance"],
    }

    /// Deterministic metrics do not vary between runs, so any growth past `count-threshold` is real.
    pub COUNT_REGRESSION = "count-regression" {
        name: "DeterministicMetricRegression",
        level: Error,
        short: "A deterministic metric (instructions, allocations, bytes) grew beyond its threshold.",
        tags: ["performance"],
    }

    /// Nothing to do; the finding records the gain.
    pub IMPROVEMENT = "improvement" {
        name: "PerformanceImprovement",
        level: Note,
        short: "A benchmark is significantly faster (or smaller) than its baseline.",
        tags: ["performance"],
    }

    /// Make the benchmark fit its budget or raise `max` in the override.
    pub OVER_BUDGET = "over-budget" {
        name: "BenchmarkOverBudget",
        level: Error,
        short: "A benchmark's median exceeds its absolute budget (`max`).",
        tags: ["performance"],
    }

    /// Shrink the artifact (features, opt-level, strip, LTO) or raise the limit.
    pub SIZE_BUDGET = "size-budget" {
        name: "ArtifactOverBudget",
        level: Error,
        short: "A build artifact is larger than its absolute limit.",
        tags: ["performance"],
    }

    /// Find what added the weight (e.g. `cargo bloat`) or raise `max-increase`.
    pub SIZE_INCREASE = "size-increase" {
        name: "ArtifactGrew",
        level: Error,
        short: "A build artifact grew against the baseline build beyond `max-increase`.",
        tags: ["performance"],
    }

    /// A removed or renamed benchmark can hide a regression; skip it in `overrides` when the removal is intended.
    pub MISSING = "missing" {
        name: "BenchmarkMissing",
        level: Warning,
        short: "A benchmark of the baseline has no result in this run.",
        tags: ["performance"],
    }

    /// Collect more samples or runs; the finding says what is missing.
    pub INCONCLUSIVE = "inconclusive" {
        name: "PerformanceInconclusive",
        level: Note,
        short: "A benchmark could not be judged (too few samples or past runs, or no baseline).",
        tags: ["performance"],
    }

    /// Informational.
    pub SUMMARY = "summary" {
        name: "PerformanceSummary",
        level: Note,
        short: "The table of every compared benchmark.",
        tags: ["performance"],
    }
}
