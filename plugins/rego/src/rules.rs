//! The rego plugin's own rules, each declared once; the doc comment of a
//! declaration is the rule's help. The policies' rules are discovered per
//! run (`evaluate`).

use portcullis_sdk::{RuleDecl, declare_rule};

/// The plugin's own rules, in the order `portcullis rules` lists them; the
/// policies' rules are discovered per run as `<package>/<rule>` (e.g.
/// `rego/main/deny_privileged`).
pub const RULES: &[&RuleDecl] = &[&EXCEPTION];

declare_rule! {
    /// Nothing to do; the finding records that an exception applied.
    pub EXCEPTION = "exception" {
        name: "RegoException",
        level: Note,
        short: "A result a policy's `exception` rule exempted for this input.",
        full: "conftest's exceptions: `exception contains rules if …` names rules (without their `deny_`/`violation_`/`warn_` prefix) that do not apply to an input.",
        tags: ["rego"],
    }
}
