//! The rules the approvals plugin reports, each declared once; the doc
//! comment of a declaration is the rule's help. (The approval rules of the
//! plugin's config are in `rules`.)

use portcullis_sdk::{RuleDecl, declare_rule};

/// Every rule, in the order `portcullis rules` lists them.
pub const RULES: &[&RuleDecl] = &[
    &RULE_PENDING,
    &CHANGES_REQUESTED,
    &CODEOWNERS_PENDING,
    &CODEOWNERS_INVALID,
    &UNKNOWN_TEAM,
    &NO_CONTEXT,
];

declare_rule! {
    /// Ask one of the reviewers the finding names for an approval.
    pub RULE_PENDING = "rule-pending" {
        name: "ApprovalRulePending",
        level: Error,
        short: "An approval rule that applies to the pull request is not satisfied.",
        tags: ["approvals"],
    }

    /// Address the review; the request blocks until that reviewer approves or the review is dismissed.
    pub CHANGES_REQUESTED = "changes-requested" {
        name: "ChangesRequested",
        level: Error,
        short: "A required reviewer requested changes.",
        tags: ["approvals"],
    }

    /// Ask one of the owners on the CODEOWNERS line the finding points at for a review.
    pub CODEOWNERS_PENDING = "codeowners-pending" {
        name: "CodeOwnerApprovalPending",
        level: Error,
        short: "Changed files lack an approval from their code owners.",
        tags: ["approvals"],
    }

    /// Fix the pattern or the owners; GitHub does not support `!`, `[ ]` or `\#`.
    pub CODEOWNERS_INVALID = "codeowners-invalid" {
        name: "InvalidCodeownersLine",
        level: Warning,
        short: "A CODEOWNERS line is invalid; GitHub ignores it silently.",
        tags: ["approvals"],
    }

    /// List the team's members in the plugin's `teams` or `teams-file`.
    pub UNKNOWN_TEAM = "unknown-team" {
        name: "UnknownTeam",
        level: Warning,
        short: "CODEOWNERS names a team whose members are not known.",
        tags: ["approvals"],
    }

    /// Name a `pr-context`, `github-event` or `gh-pr` report in the policy.
    pub NO_CONTEXT = "no-context" {
        name: "NoPullRequestContext",
        level: Note,
        short: "No pull-request context was given; approvals were not checked.",
        tags: ["approvals"],
    }
}
