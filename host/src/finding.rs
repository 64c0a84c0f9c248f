//! What plugins return, checked before anything downstream sees it, and the
//! host's one `Finding` type.
//!
//! A plugin's output is untrusted: every rule id must be declared, every
//! path repository-relative, every region sane, properties a JSON object,
//! and the totals within the caps. Anything else is malformed data, and the
//! gate fails closed.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use crate::digest::sha256_hex;

use crate::diag::Level;
use crate::evidence::Kind;

/// A rule as a plugin declares it (id without the plugin prefix).
#[derive(Debug, Clone)]
pub struct RuleInfo {
    pub id: String,
    pub name: String,
    pub short_description: String,
    pub full_description: String,
    pub help_markdown: String,
    pub default_level: Level,
    pub tags: Vec<String>,
    pub security_severity: Option<f32>,
}

#[derive(Debug, Clone)]
pub struct PluginInfo {
    pub name: String,
    pub version: String,
    pub rules: Vec<RuleInfo>,
    pub reads: Vec<Kind>,
    /// Whether `run-tests` has tests to run (`portcullis test`).
    pub has_tests: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Region {
    pub start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_column: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_column: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
}

/// A finding as the plugin returned it.
#[derive(Debug, Clone)]
pub struct RawFinding {
    pub rule_id: String,
    pub level: Option<Level>,
    pub message: String,
    pub locations: Vec<Location>,
    pub fingerprint: Option<String>,
    pub properties: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RawEvaluation {
    pub findings: Vec<RawFinding>,
    pub rules: Vec<RuleInfo>,
}

/// A validated finding.
#[derive(Debug, Clone)]
pub struct Finding {
    /// The plugin's id in the policy.
    pub plugin: String,
    /// `<plugin-id>/<rule-id>`.
    pub rule_id: String,
    /// Index of the rule in the plugin run's `rules`.
    pub rule_index: usize,
    pub level: Level,
    pub message: String,
    pub locations: Vec<Location>,
    /// Stable across runs and unrelated line shifts.
    pub fingerprint: String,
    pub properties: Option<serde_json::Map<String, serde_json::Value>>,
    /// Index of the policy waiver that covers this finding; a waived
    /// finding does not count toward the gate.
    pub waived_by: Option<usize>,
    /// With `--baseline`: whether the baseline holds this finding (then it
    /// does not count toward the gate).
    pub baseline: Option<BaselineState>,
}

impl Finding {
    /// Whether the finding counts toward the gate: not waived, not already
    /// in the baseline.
    pub fn counts(&self) -> bool {
        self.waived_by.is_none() && self.baseline != Some(BaselineState::Unchanged)
    }
}

/// SARIF's `baselineState` for a finding compared with a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    New,
    Unchanged,
}

/// Caps on what one evaluation may return.
#[derive(Debug, Clone, Copy)]
pub struct OutputCaps {
    pub max_findings: usize,
    pub max_bytes: usize,
}

impl Default for OutputCaps {
    fn default() -> Self {
        OutputCaps {
            max_findings: 10_000,
            max_bytes: 16 << 20,
        }
    }
}

/// Check a plugin's output; returns every rule (declared, then discovered)
/// and the findings, or why the output is malformed.
pub fn validate(
    plugin: &str,
    declared: &[RuleInfo],
    eval: RawEvaluation,
    caps: OutputCaps,
    root: &Path,
) -> Result<(Vec<RuleInfo>, Vec<Finding>), String> {
    if eval.findings.len() > caps.max_findings {
        return Err(format!(
            "returned {} findings, over the limit of {}",
            eval.findings.len(),
            caps.max_findings
        ));
    }
    let bytes: usize = eval
        .findings
        .iter()
        .map(|f| {
            f.rule_id.len()
                + f.message.len()
                + f.fingerprint.as_ref().map_or(0, String::len)
                + f.properties.as_ref().map_or(0, String::len)
                + f.locations.iter().map(|l| l.path.len() + 16).sum::<usize>()
        })
        .sum::<usize>()
        + eval
            .rules
            .iter()
            .map(|r| r.full_description.len() + r.help_markdown.len() + r.short_description.len())
            .sum::<usize>();
    if bytes > caps.max_bytes {
        return Err(format!(
            "returned {} MiB of findings, over the limit of {} MiB",
            bytes >> 20,
            caps.max_bytes >> 20
        ));
    }

    let mut rules: Vec<RuleInfo> = declared.to_vec();
    let mut index: HashMap<String, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, r)| (r.id.clone(), i))
        .collect();
    if declared.len() + eval.rules.len() > MAX_RULES {
        return Err(format!(
            "declares and discovers {} rules, over the limit of {MAX_RULES}",
            declared.len() + eval.rules.len()
        ));
    }
    for rule in eval.rules {
        check_rule_id(&rule.id)?;
        check_rule_text(
            &rule.id,
            &[
                &rule.name,
                &rule.short_description,
                &rule.full_description,
                &rule.help_markdown,
            ],
        )?;
        if index.contains_key(&rule.id) {
            return Err(format!(
                "discovered rule `{}` clashes with a declared rule",
                rule.id
            ));
        }
        index.insert(rule.id.clone(), rules.len());
        rules.push(rule);
    }

    let mut lines = LineCache::new(root);
    let mut seen: HashMap<String, u32> = HashMap::new();
    let mut out = Vec::with_capacity(eval.findings.len());
    for (i, f) in eval.findings.into_iter().enumerate() {
        let Some(&rule_index) = index.get(&f.rule_id) else {
            return Err(format!(
                "finding {i} names rule `{}`, which the plugin did not declare",
                f.rule_id
            ));
        };
        if f.message.trim().is_empty() {
            return Err(format!(
                "finding {i} (rule `{}`) has an empty message",
                f.rule_id
            ));
        }
        for loc in &f.locations {
            check_location(loc).map_err(|e| format!("finding {i} (rule `{}`): {e}", f.rule_id))?;
        }
        let properties = match f.properties {
            None => None,
            Some(text) => match serde_json::from_str::<serde_json::Value>(&text) {
                Ok(serde_json::Value::Object(map)) => Some(map),
                _ => {
                    return Err(format!(
                        "finding {i} (rule `{}`): properties are not a JSON object",
                        f.rule_id
                    ));
                }
            },
        };
        let message = printable(&f.message);
        let rule_id = format!("{plugin}/{}", f.rule_id);
        let basis = match &f.fingerprint {
            Some(fp) => format!("plugin\0{fp}"),
            None => content_basis(&f.message, f.locations.first(), &mut lines),
        };
        let key = format!("{rule_id}\0{basis}");
        let n = seen.entry(key.clone()).or_insert(0);
        *n += 1;
        let fingerprint = sha256_hex(format!("{key}\0{n}").as_bytes())[..32].to_string();
        out.push(Finding {
            plugin: plugin.to_string(),
            rule_id,
            rule_index,
            level: f.level.unwrap_or(rules[rule_index].default_level),
            message,
            locations: f.locations,
            fingerprint,
            properties,
            waived_by: None,
            baseline: None,
        });
    }
    Ok((rules, out))
}

/// The message with control characters (terminal escapes among them)
/// replaced by U+FFFD; newlines and tabs are kept.
fn printable(message: &str) -> String {
    message
        .trim_end()
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// The most rules one plugin may declare and discover together.
pub const MAX_RULES: usize = 5_000;
/// The longest text of one rule field (name, descriptions, help).
pub const MAX_RULE_TEXT: usize = 64 << 10;

/// A rule's texts are each at most [`MAX_RULE_TEXT`] bytes.
pub fn check_rule_text(id: &str, texts: &[&str]) -> Result<(), String> {
    match texts.iter().find(|t| t.len() > MAX_RULE_TEXT) {
        Some(t) => Err(format!(
            "rule `{id}`: a description of {} KiB, over the limit of {} KiB",
            t.len() >> 10,
            MAX_RULE_TEXT >> 10
        )),
        None => Ok(()),
    }
}

/// A rule id a plugin may declare or discover: 1–200 bytes of letters,
/// digits, `-`, `_`, `.` and `:`, in `/`-separated segments none of which
/// is empty, `.` or `..`. Nothing else reaches a terminal, a workflow
/// command, markdown or XML: no control, format (bidi, zero-width) or
/// white-space characters, no globs.
pub fn check_rule_id(id: &str) -> Result<(), String> {
    let ok = !id.is_empty()
        && id.len() <= 200
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '/'))
        && id
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "rule id `{}` is not 1–200 letters, digits, `-`, `_`, `.` or `:` in `/`-separated segments",
            id.escape_debug()
        ))
    }
}

/// A normalised repository-relative path: not empty, not absolute, no
/// `\\`, no drive prefix, no `.`/`..`/empty segments, no control characters.
pub fn is_repo_relative(p: &str) -> bool {
    !(p.is_empty()
        || p.starts_with('/')
        || p.contains('\\')
        || p.split('/').next().is_some_and(|s| s.ends_with(':'))
        || p.split('/').any(|s| s == ".." || s == "." || s.is_empty())
        || p.chars().any(char::is_control))
}

fn check_location(loc: &Location) -> Result<(), String> {
    let p = &loc.path;
    if !is_repo_relative(p) {
        return Err(format!(
            "path `{}` is not a repository-relative path",
            p.escape_debug()
        ));
    }
    if let Some(r) = &loc.region {
        if r.start_line == 0 || r.start_column == Some(0) || r.end_column == Some(0) {
            return Err(format!("{p}: lines and columns are 1-based"));
        }
        if r.end_line.is_some_and(|e| e < r.start_line) {
            return Err(format!("{p}: region ends before it starts"));
        }
    }
    Ok(())
}

/// What a finding's identity rests on when the plugin gives none: the
/// flagged line's text (trimmed), not its number, so unrelated edits that
/// shift lines keep the fingerprint; the path for whole-file findings; the
/// message when there is nothing else.
fn content_basis(message: &str, loc: Option<&Location>, lines: &mut LineCache) -> String {
    match loc {
        None => format!("msg\0{message}"),
        // A whole-file finding is about the file, whatever the message says
        // today (a size, a count): its identity is the path.
        Some(Location { path, region: None }) => format!("file\0{path}"),
        Some(Location {
            path,
            region: Some(r),
        }) => match lines.line(path, r.start_line) {
            Some(text) => format!("line\0{path}\0{}", text.trim()),
            None => format!("region\0{path}\0{message}"),
        },
    }
}

/// Reads each file once, only when a finding needs its line text.
struct LineCache<'a> {
    root: &'a Path,
    files: BTreeMap<String, Option<Vec<String>>>,
    skip: HashSet<String>,
}

impl<'a> LineCache<'a> {
    fn new(root: &'a Path) -> Self {
        LineCache {
            root,
            files: BTreeMap::new(),
            skip: HashSet::new(),
        }
    }

    fn line(&mut self, path: &str, n: u32) -> Option<String> {
        if self.skip.contains(path) {
            return None;
        }
        let root = self.root;
        let entry = self.files.entry(path.to_string()).or_insert_with(|| {
            let full = root.join(path);
            let meta = std::fs::symlink_metadata(&full).ok()?;
            if !meta.is_file() || meta.len() > 32 << 20 {
                return None;
            }
            let text = std::fs::read(&full).ok()?;
            Some(
                String::from_utf8_lossy(&text)
                    .lines()
                    .map(str::to_string)
                    .collect(),
            )
        });
        match entry {
            Some(lines) => lines.get(n as usize - 1).cloned(),
            None => {
                self.skip.insert(path.to_string());
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(id: &str) -> RuleInfo {
        RuleInfo {
            id: id.into(),
            name: id.into(),
            short_description: "s".into(),
            full_description: "f".into(),
            help_markdown: "h".into(),
            default_level: Level::Warning,
            tags: vec![],
            security_severity: None,
        }
    }

    fn finding(path: &str, line: u32) -> RawFinding {
        RawFinding {
            rule_id: "r".into(),
            level: None,
            message: "m".into(),
            locations: vec![Location {
                path: path.into(),
                region: Some(Region {
                    start_line: line,
                    start_column: None,
                    end_line: None,
                    end_column: None,
                }),
            }],
            fingerprint: None,
            properties: None,
        }
    }

    fn run(root: &Path, findings: Vec<RawFinding>) -> Result<Vec<Finding>, String> {
        validate(
            "p",
            &[rule("r")],
            RawEvaluation {
                findings,
                rules: vec![],
            },
            OutputCaps::default(),
            root,
        )
        .map(|(_, f)| f)
    }

    #[test]
    fn fingerprints_survive_line_shifts_and_tell_duplicates_apart() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("a.txt"), "x\nsecret\nsecret\n").expect("write");
        let before =
            run(dir.path(), vec![finding("a.txt", 2), finding("a.txt", 3)]).expect("valid");
        std::fs::write(dir.path().join("a.txt"), "new line\nx\nsecret\nsecret\n").expect("write");
        let after = run(dir.path(), vec![finding("a.txt", 3), finding("a.txt", 4)]).expect("valid");
        assert_eq!(before[0].fingerprint, after[0].fingerprint);
        assert_eq!(before[1].fingerprint, after[1].fingerprint);
        assert_ne!(before[0].fingerprint, before[1].fingerprint);
        assert_eq!(
            before[0].level,
            Level::Warning,
            "defaults to the rule's level"
        );
    }

    #[test]
    fn rule_ids_are_narrow() {
        for good in [
            "large-file",
            "clippy/needless_return",
            "rustc/E0308",
            "a.b:c/über",
        ] {
            assert!(check_rule_id(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a b",
            "\u{1b}[2J",
            "a\rb",
            "a\0b",
            "a//b",
            "/a",
            "a/",
            "a/../b",
            "./a",
            "lint/*",
            "a\u{202e}b",
            "a\u{200b}b",
            &"x".repeat(201),
        ] {
            assert!(check_rule_id(bad).is_err(), "{}", bad.escape_debug());
        }
    }

    #[test]
    fn malformed_output_is_rejected() {
        let root = Path::new("/nonexistent");
        for bad in [
            "/etc/passwd",
            "../x",
            "a/../b",
            "a//b",
            "C:/x",
            "a\\b",
            "./a",
            "",
        ] {
            let e = run(root, vec![finding(bad, 1)]).expect_err(bad);
            assert!(e.contains("not a repository-relative path"), "{bad}: {e}");
        }
        assert!(
            run(root, vec![finding("a", 0)])
                .expect_err("line 0")
                .contains("1-based")
        );
        let mut f = finding("a", 1);
        f.rule_id = "nope".into();
        assert!(
            run(root, vec![f])
                .expect_err("rule")
                .contains("did not declare")
        );
        let mut f = finding("a", 1);
        f.properties = Some("[1]".into());
        assert!(
            run(root, vec![f])
                .expect_err("props")
                .contains("JSON object")
        );
        let many = (0..11).map(|_| finding("a", 1)).collect();
        let e = validate(
            "p",
            &[rule("r")],
            RawEvaluation {
                findings: many,
                rules: vec![],
            },
            OutputCaps {
                max_findings: 10,
                max_bytes: 1 << 20,
            },
            root,
        )
        .expect_err("too many");
        assert_eq!(e, "returned 11 findings, over the limit of 10");
    }
}
