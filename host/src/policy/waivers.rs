//! `[[waivers]]`: findings a waiver matches do not count toward the gate
//! until it expires. Each needs a reason, an owner and an expiry.

use super::date::Date;
use super::read::{Diags, Spanned, Table};
use super::rules::{RuleMatcher, rule_glob};
use crate::diag::At;

/// One `[[waivers]]` entry.
#[derive(Debug, Clone)]
pub struct Waiver {
    /// Rule id or glob.
    pub rule: String,
    pub(super) rule_matcher: RuleMatcher,
    /// Path globs; empty = any path.
    pub paths: Vec<String>,
    /// The path globs, checked when read and compiled the first time a
    /// finding of the waiver's rule meets them (most waivers never do).
    path_globs: Vec<globset::Glob>,
    path_matcher: std::sync::OnceLock<globset::GlobSet>,
    /// One exact finding (`partialFingerprints["portcullis/v1"]`).
    pub fingerprint: Option<String>,
    pub reason: String,
    pub owner: String,
    pub expires: Date,
    /// Where the waiver's `rule` is written.
    pub at: At,
}

impl Waiver {
    /// `file:line` of the waiver, as messages and reports name it.
    pub fn place(&self) -> String {
        self.at.file_line()
    }

    /// Whether the waiver covers a finding (expiry aside).
    pub fn matches(&self, rule_id: &str, path: Option<&str>, fingerprint: &str) -> bool {
        (self.rule == rule_id || self.rule_matcher.is_match(rule_id))
            && self.fingerprint.as_deref().is_none_or(|f| f == fingerprint)
            && (self.path_globs.is_empty() || path.is_some_and(|p| self.path_set().is_match(p)))
    }

    fn path_set(&self) -> &globset::GlobSet {
        self.path_matcher.get_or_init(|| {
            // Globs that could outgrow the regex size limit were built when
            // the policy was read (`needs_building_now`); these cannot.
            path_set(&self.path_globs).unwrap_or_else(|_| globset::GlobSet::empty())
        })
    }
}

fn path_set(globs: &[globset::Glob]) -> Result<globset::GlobSet, globset::Error> {
    let mut set = globset::GlobSetBuilder::new();
    for g in globs {
        set.add(g.clone());
    }
    set.build()
}

/// Whether a path glob's regex could be large enough to fail to build:
/// alternatives, classes, or a long pattern. Such a set is built when the
/// policy is read, so a failure is a policy error at its line; the rest
/// (literals, `*`, `**`, `?` in short patterns) are built on first use.
fn needs_building_now(glob: &globset::Glob) -> bool {
    let text = glob.glob();
    text.len() > 256 || text.contains(['{', '['])
}

/// Read one `[[waivers]]` table; every problem is reported.
pub fn read_waiver(mut t: Table<'_>, d: &mut Diags) -> Option<Waiver> {
    let rule = t.required("rule", d).and_then(|n| n.str(d));
    let paths = t.get("paths").map(|n| n.strings(d)).unwrap_or_default();
    let fingerprint = t.get("fingerprint").and_then(|n| n.str(d));
    let reason = t.required("reason", d).and_then(|n| n.str(d));
    let owner = t.required("owner", d).and_then(|n| n.str(d));
    let expires = t.required("expires", d);
    let t_at = t.at.clone();
    t.finish(d);

    let mut required = |v: Option<Spanned<String>>, key: &str| -> Option<Spanned<String>> {
        let v = v?;
        let trimmed = v.value.trim().to_string();
        if trimmed.is_empty() {
            d.push(v.at, format!("waiver `{key}` must not be empty"));
            return None;
        }
        Some(Spanned {
            value: trimmed,
            at: v.at,
        })
    };
    let rule = required(rule, "rule");
    let fingerprint_given = fingerprint.is_some();
    let fingerprint = required(fingerprint, "fingerprint").map(|f| f.value);
    let reason = required(reason, "reason");
    let owner = required(owner, "owner");
    let rule_matcher = rule.as_ref().and_then(|r| rule_glob(r, d));
    let mut globs = Vec::new();
    let mut path_globs = Vec::new();
    for p in paths {
        match globset::GlobBuilder::new(&p.value)
            .literal_separator(true)
            .build()
        {
            Ok(g) => {
                path_globs.push(g);
                globs.push(p.value);
            }
            Err(e) => d.push(p.at, format!("bad path glob `{}`: {}", p.value, e.kind())),
        }
    }
    let path_matcher = std::sync::OnceLock::new();
    if path_globs.iter().any(needs_building_now) {
        match path_set(&path_globs) {
            Ok(set) => {
                let _ = path_matcher.set(set);
            }
            Err(e) => {
                let at = rule.as_ref().map_or_else(|| t_at.clone(), |r| r.at.clone());
                d.push(at, format!("bad path globs: {e}"));
                return None;
            }
        }
    }
    let expires = expires.and_then(|n| {
        let text = match n.item.as_value() {
            Some(toml_edit::Value::String(s)) => s.value().clone(),
            Some(toml_edit::Value::Datetime(dt)) => dt.value().to_string(),
            Some(other) => other.to_string().trim().to_string(),
            None => n.item.to_string().trim().to_string(),
        };
        let date = Date::parse(&text);
        if date.is_none() {
            d.push(
                n.at(),
                format!("expires `{text}` is not a date (YYYY-MM-DD)"),
            );
        }
        date
    });
    if fingerprint_given && fingerprint.is_none() {
        return None;
    }
    let rule = rule?;
    Some(Waiver {
        rule: rule.value.clone(),
        rule_matcher: rule_matcher?,
        paths: globs,
        path_globs,
        path_matcher,
        fingerprint,
        reason: reason?.value,
        owner: owner?.value,
        expires: expires?,
        at: rule.at,
    })
}

/// The `[[waivers]]` of a file a policy names in `locked-waivers` (relative
/// to the policy's directory): waivers that may waive the rules that
/// policy locks. The file holds nothing but `[[waivers]]`.
pub(super) fn read_waiver_file(
    file: &Spanned<String>,
    dir: Option<&std::path::Path>,
    d: &mut Diags,
) -> (String, Vec<Waiver>) {
    let path = match dir {
        Some(dir) if std::path::Path::new(&file.value).is_relative() => dir.join(&file.value),
        _ => std::path::PathBuf::from(&file.value),
    };
    let name = path.display().to_string();
    let text = match crate::files::read_to_string(&path, crate::files::MAX_POLICY_BYTES) {
        Ok(t) => t,
        Err(e) => {
            d.push(
                file.at.clone(),
                format!("locked-waivers `{}`: {e}", file.value),
            );
            return (name, Vec::new());
        }
    };
    let doc = match super::read::Doc::parse(&name, &text) {
        Ok(doc) => doc,
        Err(e) => {
            d.list.push(e);
            return (name, Vec::new());
        }
    };
    let mut root = doc.root();
    let waivers = root.get("waivers");
    root.finish(d);
    let list = waivers
        .map(|n| n.tables(d))
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| read_waiver(t, d))
        .collect();
    (name, list)
}
