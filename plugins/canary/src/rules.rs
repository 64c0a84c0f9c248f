//! The rules the canary plugin reports, each declared once; the doc comment
//! of a declaration is the rule's help. Every metric gets exactly one
//! finding a run: its verdict.

use portcullis_sdk::{RuleDecl, declare_rule};

/// Every rule, in the order `portcullis rules` lists them.
pub const RULES: &[&RuleDecl] = &[&THRESHOLD, &REGRESSION, &INCONCLUSIVE, &HEALTHY];

declare_rule! {
    /// The metric's value over the analysis window (its `aggregate`: the mean by default) is past the metric's absolute limit (`max` or `min`), whatever the baseline does. Roll back; the finding's properties hold the samples' numbers and the query.
    pub THRESHOLD = "threshold" {
        name: "CanaryThreshold",
        level: Error,
        short: "A canary metric is past its absolute limit.",
        tags: ["deploy", "canary"],
    }

    /// The canary is worse than the baseline by more than the metric allows (`max-increase` or `max-decrease`, relative to the baseline's median, and at least `min-difference`), and the Mann-Whitney U test on the two sets of samples says the difference is not noise (p below `alpha`). The effect is the Hodges-Lehmann estimate of the shift, as Kayenta judges canaries. Roll back.
    pub REGRESSION = "regression" {
        name: "CanaryRegression",
        level: Error,
        short: "A canary metric is significantly worse than the baseline.",
        tags: ["deploy", "canary"],
    }

    /// Too little to judge: fewer requests than `min-traffic`, fewer samples than `min-samples` in the window (NaN samples, as 0/0 gives without traffic, do not count), no data for a metric that is not `required`, values that are not finite numbers, or samples too few for any test at `alpha`. An error by default, so a canary nobody could judge is never promoted (in an analysis over time it is a failed measurement, which `--failure-limit` may tolerate while traffic ramps up). A policy that would rather promote it sets `[rules] "canary/inconclusive" = "warning"`.
    pub INCONCLUSIVE = "inconclusive" {
        name: "CanaryInconclusive",
        level: Error,
        short: "A canary metric has too little data to judge.",
        tags: ["deploy", "canary"],
    }

    /// The metric was judged and passed: within its limits and not significantly worse than the baseline. Reported so the run records every metric's numbers.
    pub HEALTHY = "healthy" {
        name: "CanaryHealthy",
        level: Note,
        short: "A canary metric passed.",
        tags: ["deploy", "canary"],
    }
}
