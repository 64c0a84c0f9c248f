//! `[rules]`: a level (or `off`) per rule id or glob, optionally locked
//! against extending policies; and the one function that says which level
//! a rule gets.

use super::read::{Diags, Node, Spanned};
use crate::diag::At;
use crate::diag::Level;

/// One `[rules]` entry: a rule id or glob and the level it sets.
#[derive(Debug, Clone)]
pub struct RuleOverride {
    pub pattern: String,
    pub(super) matcher: RuleMatcher,
    /// `None` turns the rule off.
    pub level: Option<Level>,
    /// An extending policy may not lower or disable a locked rule, nor
    /// waive it.
    pub locked: bool,
    /// For a locked entry: what the locking policy trusts.
    pub scope: Option<std::sync::Arc<LockScope>>,
    /// Where the entry is written.
    pub at: At,
}

/// What a lock trusts: the locking policy and the files it extends (the
/// only files that may define the plugins it locks and the reports those
/// plugins read), the plugins defined there, and the files whose waivers
/// may waive the locked rules (the locking policy and its
/// `locked-waivers`).
#[derive(Debug, Default)]
pub struct LockScope {
    pub files: Vec<String>,
    pub plugins: Vec<String>,
    pub waiver_files: Vec<String>,
}

impl LockScope {
    /// Whether the lock covers plugin `id`: the pattern names it and the
    /// locking policy defines it (a plugin only an extending policy
    /// defines is that policy's own).
    pub fn covers_plugin(&self, pattern: &str, id: &str) -> bool {
        self.plugins.iter().any(|p| p == id) && locks_plugin(pattern, id)
    }
}

impl RuleOverride {
    pub fn matches(&self, rule_id: &str) -> bool {
        self.pattern == rule_id || self.matcher.is_match(rule_id)
    }

    /// Whether two patterns can match a common rule id (one covers the other).
    pub fn overlaps(&self, pattern: &str, matcher: &RuleMatcher) -> bool {
        self.matches(pattern) || matcher.is_match(&self.pattern)
    }

    pub(super) fn matcher(&self) -> &RuleMatcher {
        &self.matcher
    }

    fn is_exact(&self) -> bool {
        !self.pattern.contains(['*', '?', '[', '{'])
    }
}

/// The level a finding of `rule_id` gets: the most specific entry wins (an
/// exact id, else the longest matching pattern, ties broken by pattern
/// order); `None` means the rule is off. A locked entry is a floor: no
/// more specific entry, from whichever layer, takes a rule it matches
/// below the locked level.
pub fn level_for(rules: &[RuleOverride], rule_id: &str, reported: Level) -> Option<Level> {
    let best = rules.iter().filter(|r| r.matches(rule_id)).max_by(|a, b| {
        (a.is_exact(), a.pattern.len())
            .cmp(&(b.is_exact(), b.pattern.len()))
            .then_with(|| b.pattern.cmp(&a.pattern))
    });
    let chosen = match best {
        Some(r) => r.level,
        None => Some(reported),
    };
    rules
        .iter()
        .filter(|r| r.locked && r.matches(rule_id))
        .map(|r| r.level)
        .fold(chosen, Ord::max)
}

/// Whether a locked pattern covers plugin `id`'s rules: its first segment
/// (before the first `/`), as a glob, matches the id.
pub fn locks_plugin(pattern: &str, id: &str) -> bool {
    let first = pattern.split('/').next().unwrap_or(pattern);
    globset::Glob::new(first)
        .map(|g| g.compile_matcher().is_match(id))
        .unwrap_or(first == id)
}

/// A compiled rule or waiver pattern. Most patterns are an exact id or an
/// id prefix ending in `*` (`lint/*`, `secrets/private-*`), matched without
/// a regex: a policy with thousands of entries loads in milliseconds.
#[derive(Debug, Clone)]
pub enum RuleMatcher {
    Exact(String),
    Prefix(String),
    Glob(globset::GlobMatcher),
}

impl RuleMatcher {
    pub fn is_match(&self, id: &str) -> bool {
        match self {
            RuleMatcher::Exact(e) => e == id,
            RuleMatcher::Prefix(p) => id.starts_with(p.as_str()),
            RuleMatcher::Glob(g) => g.is_match(id),
        }
    }
}

/// Whether `text` has a character a glob gives meaning to.
fn is_glob_syntax(c: char) -> bool {
    matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\')
}

/// A rule or waiver pattern: a glob where `*` crosses `/`.
pub fn rule_glob(pattern: &Spanned<String>, d: &mut Diags) -> Option<RuleMatcher> {
    let text = pattern.value.as_str();
    if !text.contains(is_glob_syntax) {
        return Some(RuleMatcher::Exact(text.to_string()));
    }
    if let Some(prefix) = text.strip_suffix('*')
        && !prefix.contains(is_glob_syntax)
    {
        return Some(RuleMatcher::Prefix(prefix.to_string()));
    }
    match globset::GlobBuilder::new(text)
        .literal_separator(false)
        .build()
    {
        Ok(g) => Some(RuleMatcher::Glob(g.compile_matcher())),
        Err(e) => {
            d.push(
                pattern.at.clone(),
                format!("bad rule pattern `{}`: {}", pattern.value, e.kind()),
            );
            None
        }
    }
}

const LEVELS: [&str; 4] = ["off", "note", "warning", "error"];

fn level(word: &'static str) -> Option<Level> {
    match word {
        "note" => Some(Level::Note),
        "warning" => Some(Level::Warning),
        "error" => Some(Level::Error),
        _ => None,
    }
}

/// One `[rules]` entry: `"level"` or `{ level = "level", locked = true }`.
pub fn read_rule(pattern: Spanned<String>, node: Node<'_>, d: &mut Diags) -> Option<RuleOverride> {
    if pattern.value.is_empty() || pattern.value.chars().any(char::is_whitespace) {
        d.push(
            pattern.at.clone(),
            format!(
                "rule pattern `{}` is empty or contains whitespace",
                pattern.value
            ),
        );
        return None;
    }
    let matcher = rule_glob(&pattern, d);
    let unknown_level =
        |s: &str| format!("unknown level `{s}`, expected one of `off`, `note`, `warning`, `error`");
    let (lvl, locked) = if let Some(s) = node.item.as_str() {
        match LEVELS.iter().find(|l| **l == s) {
            Some(l) => (level(l), false),
            None => {
                d.push(node.at(), unknown_level(s));
                return None;
            }
        }
    } else if node.item.as_table_like().is_some() {
        let mut t = node.table(d)?;
        let level_node = t.get("level");
        let locked = t.get("locked");
        if let Some(other) = t_unknown(&node) {
            d.push(
                node.at(),
                format!("unknown key `{other}` in a rule entry, expected `level` or `locked`"),
            );
            return None;
        }
        let Some(level_node) = level_node else {
            d.push(node.at(), "a rule entry table needs `level`");
            return None;
        };
        let Some(word) = level_node.item.as_str() else {
            d.push(level_node.at(), "`level` must be a string");
            return None;
        };
        let Some(l) = LEVELS.iter().find(|l| **l == word) else {
            d.push(level_node.at(), unknown_level(word));
            return None;
        };
        let locked = match locked {
            None => false,
            Some(n) => match n.item.as_bool() {
                Some(b) => b,
                None => {
                    d.push(n.at(), "`locked` must be true or false");
                    return None;
                }
            },
        };
        (level(l), locked)
    } else {
        d.push(
            node.at(),
            format!(
                "invalid type: {}, expected a level string or a table",
                node.item.type_name()
            ),
        );
        return None;
    };
    Some(RuleOverride {
        pattern: pattern.value,
        matcher: matcher?,
        level: lvl,
        locked,
        scope: None,
        at: pattern.at,
    })
}

/// The first key of a rule-entry table that is neither `level` nor `locked`.
fn t_unknown(node: &Node<'_>) -> Option<String> {
    let t = node.item.as_table_like()?;
    t.iter()
        .map(|(k, _)| k)
        .find(|k| *k != "level" && *k != "locked")
        .map(str::to_string)
}
