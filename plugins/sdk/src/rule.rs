//! Rules declared once, and findings only of declared (or discovered) rules.
//!
//! A plugin declares each of its rules as a `const` with
//! [`declare_rule!`](crate::declare_rule): id, name, default level,
//! descriptions, tags and security-severity, with the item's doc comment as
//! the rule's help (markdown). It lists them once,
//! in order, in a `RULES: &[&RuleDecl]` slice that
//! [`PluginInfo::rules`](crate::PluginInfo::rules) reports, and makes
//! findings with [`RuleDecl::finding`], so a finding can only name a rule
//! the plugin declared.
//!
//! Rules a plugin learns while evaluating (the rules of an imported SARIF
//! log, the rules of a policy) take the other, explicit path:
//! [`Evaluation::discover`](crate::Evaluation::discover) registers the
//! [`Rule`] in the evaluation and returns a [`Discovered`] handle whose
//! [`finding`](Discovered::finding) makes findings of it.

use crate::{Finding, Level, Rule};

/// A rule's metadata, declared once as a `const` with
/// [`declare_rule!`](crate::declare_rule).
///
/// The doc comment on the declaration is the rule's help: what it checks,
/// why it matters, how to fix or waive it. The host shows it as SARIF's
/// `help.markdown` and in the generated rule reference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleDecl {
    id: &'static str,
    name: &'static str,
    level: Level,
    short: &'static str,
    full: Option<&'static str>,
    doc: &'static str,
    tags: &'static [&'static str],
    security_severity: Option<f32>,
}

impl RuleDecl {
    /// Used by [`declare_rule!`](crate::declare_rule); declare rules with the macro.
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)]
    pub const fn __declare(
        id: &'static str,
        name: &'static str,
        level: Level,
        short: &'static str,
        full: Option<&'static str>,
        doc: &'static str,
        tags: &'static [&'static str],
        security_severity: Option<f32>,
    ) -> RuleDecl {
        RuleDecl {
            id,
            name,
            level,
            short,
            full,
            doc,
            tags,
            security_severity,
        }
    }

    /// The rule's id within the plugin (kebab-case).
    pub const fn id(&self) -> &'static str {
        self.id
    }

    /// The rule's human name, e.g. `LargeFile`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The level of its findings unless a finding or the policy says otherwise.
    pub const fn default_level(&self) -> Level {
        self.level
    }

    /// One sentence.
    pub const fn short_description(&self) -> &'static str {
        self.short
    }

    /// A paragraph; the short description when none was declared.
    pub const fn full_description(&self) -> &'static str {
        match self.full {
            Some(full) => full,
            None => self.short,
        }
    }

    pub const fn tags(&self) -> &'static [&'static str] {
        self.tags
    }

    /// GitHub's security-severity (0.0 to 10.0), for security rules.
    pub const fn security_severity(&self) -> Option<f32> {
        self.security_severity
    }

    /// The help markdown: the declaration's doc comment, with the one space
    /// after each `///` removed and leading and trailing blank lines
    /// dropped. Lines, paragraphs and code blocks are kept as written.
    pub fn help_markdown(&self) -> String {
        let lines: Vec<&str> = self
            .doc
            .lines()
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .collect();
        let start = lines.iter().position(|l| !l.trim().is_empty());
        let end = lines.iter().rposition(|l| !l.trim().is_empty());
        match (start, end) {
            (Some(s), Some(e)) => lines[s..=e].join("\n"),
            _ => self.full_description().to_string(),
        }
    }

    /// The rule record `describe` reports.
    pub fn rule(&self) -> Rule {
        Rule {
            id: self.id.into(),
            name: self.name.into(),
            short_description: self.short.into(),
            full_description: self.full_description().into(),
            help_markdown: self.help_markdown(),
            default_level: self.level,
            tags: self.tags.iter().map(|t| (*t).to_string()).collect(),
            security_severity: self.security_severity,
        }
    }

    /// A finding of this rule, at the rule's default level and with no
    /// location yet (add one with [`Finding::at_line`], [`Finding::in_file`]
    /// or [`Finding::location`]).
    pub fn finding(&self, message: impl Into<String>) -> Finding {
        Finding::of(self.id, message)
    }
}

/// A rule discovered while evaluating, registered in the evaluation's
/// `rules` by [`Evaluation::discover`](crate::Evaluation::discover): the
/// only way to make findings of a rule that `describe` does not declare.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Discovered {
    id: String,
}

impl Discovered {
    pub(crate) fn new(id: String) -> Self {
        Discovered { id }
    }

    /// The rule's id, as registered in the evaluation.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A finding of this rule, at the rule's default level and with no
    /// location yet.
    pub fn finding(&self, message: impl Into<String>) -> Finding {
        Finding::of(&self.id, message)
    }
}

/// Whether `id` is a kebab-case rule id: lowercase ASCII letters, digits and
/// single `-`, no `-` at either end. [`declare_rule!`](crate::declare_rule)
/// checks it at compile time.
#[doc(hidden)]
pub const fn __is_kebab_case(id: &str) -> bool {
    let b = id.as_bytes();
    if b.is_empty() || b[0] == b'-' || b[b.len() - 1] == b'-' {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        let ok = b[i].is_ascii_lowercase()
            || b[i].is_ascii_digit()
            || (b[i] == b'-' && b[i + 1] != b'-');
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

/// Declare rules: each becomes a `const` [`RuleDecl`] whose doc comment is
/// the rule's help markdown.
///
/// ```
/// use portcullis_sdk::{Level, RuleDecl, declare_rule};
///
/// declare_rule! {
///     /// ## What it checks
///     /// Files larger than `max-file-kb` (default 500 KiB).
///     ///
///     /// ## Why it matters
///     /// Large blobs bloat every clone forever.
///     pub LARGE_FILE = "large-file" {
///         name: "LargeFile",
///         level: Warning,
///         short: "A file is larger than the configured limit.",
///         // Optional; defaults to `short`.
///         full: "Files larger than `max-file-kb` bloat every clone of the repository.",
///         tags: ["hygiene"],
///         // Optional: GitHub's security-severity, for security rules.
///         security_severity: 2.0,
///     }
///
///     /// A TODO comment was left in the code.
///     pub TODO_COMMENT = "todo-comment" {
///         name: "TodoComment",
///         level: Note,
///         short: "A TODO was left in the code.",
///         tags: [],
///     }
/// }
///
/// /// Every rule, in the order `portcullis rules` lists them.
/// pub const RULES: &[&RuleDecl] = &[&LARGE_FILE, &TODO_COMMENT];
///
/// assert_eq!(LARGE_FILE.id(), "large-file");
/// assert_eq!(LARGE_FILE.default_level(), Level::Warning);
/// // The doc comment, without the space after each `///`.
/// let help = LARGE_FILE.help_markdown();
/// assert!(help.starts_with("## What it checks\nFiles larger than `max-file-kb`"));
/// assert!(help.ends_with("KiB).\n\n## Why it matters\nLarge blobs bloat every clone forever."));
/// assert_eq!(TODO_COMMENT.full_description(), "A TODO was left in the code.");
/// let finding = LARGE_FILE.finding("big.bin is 900 KiB").in_file("big.bin");
/// assert_eq!(finding.rule_id, "large-file");
/// ```
///
/// The fields come in this order; `full` and `security_severity` may be
/// left out, and `level` is a [`Level`](crate::Level) variant. The doc
/// comment is required: a rule without documentation does not compile, and
/// neither does one whose id is not kebab-case:
///
/// ```compile_fail
/// portcullis_sdk::declare_rule! {
///     /// Help.
///     pub BAD = "Bad_Id" { name: "Bad", level: Note, short: "Bad.", tags: [] }
/// }
/// assert_eq!(BAD.id(), "Bad_Id");
/// ```
#[macro_export]
macro_rules! declare_rule {
    ($(
        $(#[doc = $doc:expr])+
        $vis:vis $konst:ident = $id:literal {
            name: $name:expr,
            level: $level:ident,
            short: $short:expr
            $(, full: $full:expr)?
            , tags: [$($tag:expr),* $(,)?]
            $(, security_severity: $severity:expr)?
            $(,)?
        }
    )+) => {$(
        $(#[doc = $doc])+
        $vis const $konst: $crate::RuleDecl = {
            ::core::assert!(
                $crate::__is_kebab_case($id),
                ::core::concat!("rule id `", $id, "` is not kebab-case"),
            );
            $crate::RuleDecl::__declare(
                $id,
                $name,
                $crate::Level::$level,
                $short,
                $crate::__declare_rule_opt!($($full)?),
                ::core::concat!($($doc, "\n"),+),
                &[$($tag),*],
                $crate::__declare_rule_opt!($($severity)?),
            )
        };
    )+};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __declare_rule_opt {
    () => {
        ::core::option::Option::None
    };
    ($value:expr) => {
        ::core::option::Option::Some($value)
    };
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use crate::{Evaluation, Level, PluginInfo, RuleDecl};

    crate::declare_rule! {
        /// ## What it checks
        /// Something.
        ///
        /// ## How to waive
        /// ```text
        ///     indented code
        /// ```
        pub(crate) FULL = "full-rule" {
            name: "FullRule",
            level: Error,
            short: "Short.",
            full: "Full.",
            tags: ["a", "b"],
            security_severity: 7.5,
        }

        ///Plain help without a space.
        MINIMAL = "minimal" {
            name: "Minimal",
            level: Note,
            short: "Only short.",
            tags: []
        }
    }

    const RULES: &[&RuleDecl] = &[&FULL, &MINIMAL];

    #[test]
    fn a_declaration_is_the_rule_record() {
        let r = FULL.rule();
        assert_eq!(r.id, "full-rule");
        assert_eq!(r.name, "FullRule");
        assert_eq!(r.short_description, "Short.");
        assert_eq!(r.full_description, "Full.");
        assert_eq!(r.default_level, Level::Error);
        assert_eq!(r.tags, ["a", "b"]);
        assert_eq!(r.security_severity, Some(7.5));
        let m = MINIMAL.rule();
        assert_eq!(m.full_description, "Only short.", "full defaults to short");
        assert!(m.tags.is_empty());
        assert_eq!(m.security_severity, None);
        assert_eq!(m.default_level, Level::Note);
    }

    #[test]
    fn the_doc_comment_is_the_help() {
        assert_eq!(
            FULL.help_markdown(),
            "## What it checks\nSomething.\n\n## How to waive\n```text\n    indented code\n```"
        );
        assert_eq!(MINIMAL.help_markdown(), "Plain help without a space.");
        assert_eq!(FULL.rule().help_markdown, FULL.help_markdown());
    }

    #[test]
    fn plugin_info_lists_declared_rules_in_order() {
        let info = PluginInfo::new("p", "0").rules(RULES);
        let ids: Vec<&str> = info.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["full-rule", "minimal"]);
        crate::testing::assert_rules_well_formed(RULES);
    }

    #[test]
    fn findings_of_declared_rules() {
        let f = FULL.finding("msg").at_line("a.rs", 3).level(Level::Warning);
        assert_eq!(f.rule_id, "full-rule");
        assert_eq!(f.message, "msg");
        assert_eq!(f.level, Some(Level::Warning));
        assert_eq!(f.locations[0].path, "a.rs");
    }

    #[test]
    fn discovered_rules_are_registered_once() {
        let mut eval = Evaluation::default();
        let a = eval.discover(crate::Rule::new("tool/a", "A", Level::Warning, "First."));
        let again = eval.discover(crate::Rule::new("tool/a", "A2", Level::Error, "Second."));
        let b = eval.discover(crate::Rule::new("tool/b", "B", Level::Note, "B."));
        assert_eq!(a, again);
        assert_eq!(a.id(), "tool/a");
        let ids: Vec<&str> = eval.rules.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["tool/a", "tool/b"]);
        assert_eq!(eval.rules[0].name, "A", "the first registration wins");
        eval.push(b.finding("found").in_file("x"));
        assert_eq!(eval.findings[0].rule_id, "tool/b");
    }

    #[test]
    fn kebab_case_ids() {
        for ok in ["a", "large-file", "x509-cert", "a-b-c"] {
            assert!(crate::__is_kebab_case(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "Bad", "a_b", "a b", "a/b", "é"] {
            assert!(!crate::__is_kebab_case(bad), "{bad}");
        }
    }

    #[test]
    #[should_panic(expected = "declared twice")]
    fn ids_must_be_unique() {
        crate::testing::assert_rules_well_formed(&[&FULL, &MINIMAL, &FULL]);
    }
}
