//! The `max-warnings` rule: declared, and documented, in [`MAX_WARNINGS`].

use portcullis_sdk::{Evaluation, declare_rule};

declare_rule! {
    /// ## What it checks
    /// The number of warnings imported from reports against `max-warnings`,
    /// like eslint's `--max-warnings`: the budget lets a team ratchet warnings
    /// down.
    ///
    /// ## Why it matters
    /// Warnings that nobody has to fix only grow; a budget that shrinks over
    /// time turns them into work that gets done.
    ///
    /// ## How to fix
    /// Fix warnings until the count is within `max-warnings`, or raise the
    /// budget.
    ///
    /// ## How to waive
    /// Leave `max-warnings` out of the lint plugin's config: no budget, no
    /// finding.
    pub MAX_WARNINGS = "max-warnings" {
        name: "MaxWarnings",
        level: Error,
        short: "Imported reports hold more warnings than the budget allows.",
        tags: ["budget"],
    }
}

pub fn check(warnings: u64, budget: u64, out: &mut Evaluation) {
    if warnings > budget {
        out.push(
            MAX_WARNINGS
                .finding(format!(
                    "{warnings} warnings in imported reports, over the budget of {budget}"
                ))
                .fingerprint(MAX_WARNINGS.id())
                .properties(serde_json::json!({ "warnings": warnings, "budget": budget })),
        );
    }
}
