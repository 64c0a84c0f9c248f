//! `max-warnings`
//!
//! ## What it checks
//! The number of warnings imported from reports against `max-warnings`, like
//! eslint's `--max-warnings`: the budget lets a team ratchet warnings down.

use portcullis_sdk::{Evaluation, Finding, Level, Rule};

pub const ID: &str = "max-warnings";

pub fn rule() -> Rule {
    Rule::new(
        ID,
        "MaxWarnings",
        Level::Error,
        "Imported reports hold more warnings than the budget allows.",
    )
    .help("Fix warnings until the count is within `max-warnings`, or raise the budget.")
    .tags(&["budget"])
}

pub fn check(warnings: u64, budget: u64, out: &mut Evaluation) {
    if warnings > budget {
        out.push(
            Finding::new(
                ID,
                format!("{warnings} warnings in imported reports, over the budget of {budget}"),
            )
            .fingerprint("max-warnings")
            .properties(serde_json::json!({ "warnings": warnings, "budget": budget })),
        );
    }
}
