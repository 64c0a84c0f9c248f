//! The policy file (`portcullis.toml`): which plugins run, with which limits,
//! grants and config, which reports they read, and when the gate fails.
//!
//! Parsing is strict: an unknown key, a wrong type or a bad value is an error
//! naming `file:line:col`, never silently ignored.

pub mod baseline;
pub mod date;

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Error, Level, line_col};

/// The built-in default policy, used when the repository has no
/// `portcullis.toml` and no `--policy` is given.
pub const DEFAULT_POLICY: &str = include_str!("../../policies/default.toml");
pub const DEFAULT_POLICY_NAME: &str = "builtin:default";

pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_MEMORY_MB: u64 = 256;

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Where it came from: a path, or `builtin:default`.
    pub origin: String,
    pub fail_at: Level,
    /// Plugins by id, in id order.
    pub plugins: Vec<PluginSpec>,
    /// Report files by name, in name order.
    pub reports: Vec<ReportSpec>,
    /// `[rules]` level overrides, in pattern order.
    pub rules: Vec<RuleOverride>,
    /// `[[waivers]]`, in file order.
    pub waivers: Vec<Waiver>,
    /// A waiver expiring within this many days is reported.
    pub waiver_expiring_days: i64,
    /// Which gate settings this file set itself (for `extends`).
    explicit: Explicit,
}

#[derive(Debug, Clone, Copy, Default)]
struct Explicit {
    fail_at: bool,
    waiver_expiring_days: bool,
}

/// One `[[waivers]]` entry: findings it matches do not count toward the
/// gate until it expires.
#[derive(Debug, Clone)]
pub struct Waiver {
    /// Rule id or glob.
    pub rule: String,
    rule_matcher: globset::GlobMatcher,
    /// Path globs; empty = any path.
    pub paths: Vec<String>,
    path_matcher: Option<globset::GlobSet>,
    /// One exact finding (`partialFingerprints["portcullis/v1"]`).
    pub fingerprint: Option<String>,
    pub reason: String,
    pub owner: String,
    pub expires: date::Date,
    /// `file:line` of the waiver.
    pub at: String,
    /// Repository-relative location of the waiver for SARIF (policy path, line).
    pub line: usize,
}

impl Waiver {
    /// Whether the waiver covers a finding (expiry aside).
    pub fn matches(&self, rule_id: &str, path: Option<&str>, fingerprint: &str) -> bool {
        (self.rule == rule_id || self.rule_matcher.is_match(rule_id))
            && self.fingerprint.as_deref().is_none_or(|f| f == fingerprint)
            && match &self.path_matcher {
                None => true,
                Some(set) => path.is_some_and(|p| set.is_match(p)),
            }
    }
}

/// One `[rules]` entry: a rule id or glob and the level it sets.
#[derive(Debug, Clone)]
pub struct RuleOverride {
    pub pattern: String,
    matcher: globset::GlobMatcher,
    /// `None` turns the rule off.
    pub level: Option<Level>,
    /// An extending policy may not lower or disable a locked rule, nor
    /// waive it.
    pub locked: bool,
    /// `file:line:col` of the entry.
    pub at: String,
}

impl RuleOverride {
    pub fn matches(&self, rule_id: &str) -> bool {
        self.pattern == rule_id || self.matcher.is_match(rule_id)
    }

    /// Whether two patterns can match a common rule id (one covers the other).
    fn overlaps(&self, pattern: &str, matcher: &globset::GlobMatcher) -> bool {
        self.matches(pattern) || matcher.is_match(&self.pattern)
    }

    fn is_exact(&self) -> bool {
        !self.pattern.contains(['*', '?', '[', '{'])
    }
}

impl Policy {
    /// The level a finding of `rule_id` gets: the most specific `[rules]`
    /// entry wins (an exact id, else the longest matching pattern, ties
    /// broken by pattern order); `None` means the rule is off.
    pub fn level_for(&self, rule_id: &str, reported: Level) -> Option<Level> {
        let best = self
            .rules
            .iter()
            .filter(|r| r.matches(rule_id))
            .max_by(|a, b| {
                (a.is_exact(), a.pattern.len())
                    .cmp(&(b.is_exact(), b.pattern.len()))
                    .then_with(|| b.pattern.cmp(&a.pattern))
            });
        match best {
            Some(r) => r.level,
            None => Some(reported),
        }
    }
}

/// A `[rules]` value: `"level"` or `{ level = "level", locked = true }`.
fn rule_value(v: &toml::Value) -> Result<(Option<Level>, bool), String> {
    let level = |s: &str| match s {
        "off" => Ok(None),
        "note" => Ok(Some(Level::Note)),
        "warning" => Ok(Some(Level::Warning)),
        "error" => Ok(Some(Level::Error)),
        _ => Err(format!(
            "unknown level `{s}`, expected one of `off`, `note`, `warning`, `error`"
        )),
    };
    match v {
        toml::Value::String(s) => Ok((level(s)?, false)),
        toml::Value::Table(t) => {
            if let Some(k) = t.keys().find(|k| *k != "level" && *k != "locked") {
                return Err(format!(
                    "unknown key `{k}` in a rule entry, expected `level` or `locked`"
                ));
            }
            let l = match t.get("level") {
                Some(toml::Value::String(s)) => level(s)?,
                Some(_) => return Err("`level` must be a string".into()),
                None => return Err("a rule entry table needs `level`".into()),
            };
            let locked = match t.get("locked") {
                Some(toml::Value::Boolean(b)) => *b,
                Some(_) => return Err("`locked` must be true or false".into()),
                None => false,
            };
            Ok((l, locked))
        }
        other => Err(format!(
            "invalid type: {}, expected a level string or a table",
            other.type_str()
        )),
    }
}

#[derive(Debug, Clone)]
pub struct PluginSpec {
    /// The key under `[plugins]`; prefixes every rule id it reports.
    pub id: String,
    pub source: Source,
    pub sha256: Option<String>,
    pub timeout_ms: u64,
    pub memory_mb: u64,
    /// Repository-relative directories the plugin may read (`.` = all).
    pub read: Vec<String>,
    /// Directories outside the repository the plugin may read, mounted at
    /// `/mnt/<name>` (`[plugins.<id>.mounts]`).
    pub mounts: Vec<Mount>,
    /// The plugin's `config` table as JSON.
    pub config: serde_json::Value,
    /// `file:line:col` of the plugin's table, for messages.
    pub at: String,
}

/// A read-only directory outside the repository granted to one plugin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub name: String,
    /// The host path, with `~` and `$CARGO_HOME` expanded and relative paths
    /// taken from the policy's directory.
    pub path: PathBuf,
    /// `file:line:col` of the entry, for messages.
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Builtin(String),
    File(PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportFormat {
    ClippyJson,
    Sarif,
    PrContext,
    GithubEvent,
    GhPr,
}

#[derive(Debug, Clone)]
pub struct ReportSpec {
    pub name: String,
    /// Relative to the checked repository, normalised; never outside it.
    pub path: String,
    pub format: ReportFormat,
    /// A missing optional report is skipped with a notice; a missing
    /// required one is an error.
    pub optional: bool,
    pub at: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    #[serde(default)]
    gate: RawGate,
    #[serde(default)]
    plugins: BTreeMap<Spanned<String>, Spanned<RawPlugin>>,
    #[serde(default)]
    reports: BTreeMap<Spanned<String>, Spanned<RawReport>>,
    #[serde(default)]
    extends: Vec<Spanned<String>>,
    #[serde(default)]
    rules: BTreeMap<Spanned<String>, Spanned<toml::Value>>,
    #[serde(default)]
    waivers: Vec<Spanned<RawWaiver>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawWaiver {
    rule: Spanned<String>,
    #[serde(default)]
    paths: Vec<Spanned<String>>,
    fingerprint: Option<Spanned<String>>,
    reason: Spanned<String>,
    owner: Spanned<String>,
    expires: Spanned<toml::Value>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawGate {
    fail_at: Option<Level>,
    waiver_expiring_days: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPlugin {
    source: Spanned<String>,
    sha256: Option<Spanned<String>>,
    timeout_ms: Option<Spanned<u64>>,
    memory_mb: Option<Spanned<u64>>,
    #[serde(default)]
    read: Vec<Spanned<String>>,
    #[serde(default)]
    mounts: BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    config: toml::Table,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawReport {
    path: Spanned<String>,
    format: ReportFormat,
    #[serde(default)]
    optional: bool,
}

impl Policy {
    /// The built-in default policy.
    pub fn builtin_default() -> Result<Policy, Error> {
        Policy::parse(DEFAULT_POLICY, DEFAULT_POLICY_NAME, None)
    }

    /// Read and validate a policy file.
    pub fn load(path: &Path) -> Result<Policy, Error> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(path, format!("cannot read policy: {e}")))?;
        let dir = path.parent().map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        });
        Policy::parse(&text, &path.display().to_string(), dir)
    }

    /// Parse and validate policy text; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str, dir: Option<PathBuf>) -> Result<Policy, Error> {
        let mut chain = vec![match &dir {
            Some(d) => d
                .join(origin)
                .canonicalize()
                .map_or_else(|_| origin.to_string(), |p| p.display().to_string()),
            None => origin.to_string(),
        }];
        let policy = Policy::parse_chain(text, origin, dir, &mut chain)?;
        if policy.plugins.is_empty() {
            return Err(Error::Policy {
                path: origin.to_string(),
                message:
                    "no plugins: add a [plugins.<id>] table (or `extends` a policy that has some)"
                        .into(),
            });
        }
        Ok(policy)
    }

    /// Parse one file and the policies it extends; `chain` holds the files
    /// being parsed, to detect cycles.
    fn parse_chain(
        text: &str,
        origin: &str,
        dir: Option<PathBuf>,
        chain: &mut Vec<String>,
    ) -> Result<Policy, Error> {
        let at = |span: Range<usize>| {
            let (l, c) = line_col(text, span.start);
            format!("{origin}:{l}:{c}")
        };
        let fail = |span: Range<usize>, message: String| Error::Policy {
            path: at(span),
            message,
        };
        let raw: RawPolicy = toml::from_str(text).map_err(|e| {
            let message = did_you_mean(&e.message().trim().replace('\n', " "));
            match e.span() {
                Some(span) => fail(span, message),
                None => Error::Policy {
                    path: origin.to_string(),
                    message,
                },
            }
        })?;

        let mut plugins = Vec::new();
        for (id, spec) in raw.plugins {
            let id_span = id.span();
            let id = id.into_inner();
            if !is_id(&id) {
                return Err(fail(
                    id_span,
                    format!("plugin id `{id}` must be lowercase letters, digits and `-`"),
                ));
            }
            let table_at = at(spec.span());
            let spec = spec.into_inner();
            let source_span = spec.source.span();
            let source_text = spec.source.into_inner();
            let source = if let Some(name) = source_text.strip_prefix("builtin:") {
                if !crate::plugins::is_builtin(name) {
                    return Err(fail(
                        source_span,
                        format!(
                            "unknown built-in plugin `{name}` (built in: {})",
                            crate::plugins::builtin_names().join(", ")
                        ),
                    ));
                }
                Source::Builtin(name.to_string())
            } else if source_text.ends_with(".wasm") {
                // Relative to the file that names it (policies extend others).
                match &dir {
                    Some(d) if Path::new(&source_text).is_relative() => {
                        Source::File(d.join(&source_text))
                    }
                    _ => Source::File(PathBuf::from(&source_text)),
                }
            } else {
                return Err(fail(
                    source_span,
                    format!(
                        "source `{source_text}` is neither `builtin:<name>` nor a path to a .wasm file"
                    ),
                ));
            };
            let sha256 = match spec.sha256 {
                Some(s) => {
                    let span = s.span();
                    let v = s.into_inner().to_ascii_lowercase();
                    if v.len() != 64 || !v.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(fail(span, "sha256 must be 64 hexadecimal digits".into()));
                    }
                    Some(v)
                }
                None if matches!(source, Source::File(_)) => {
                    return Err(fail(
                        source_span,
                        format!(
                            "plugin `{id}` loads a .wasm file, so `sha256` is required to pin it"
                        ),
                    ));
                }
                None => None,
            };
            let timeout_ms = bounded(
                spec.timeout_ms,
                DEFAULT_TIMEOUT_MS,
                1..=600_000,
                "timeout-ms",
                &fail,
            )?;
            let memory_mb = bounded(
                spec.memory_mb,
                DEFAULT_MEMORY_MB,
                1..=4_096,
                "memory-mb",
                &fail,
            )?;
            let mut read = Vec::new();
            for grant in spec.read {
                let span = grant.span();
                let g = grant.into_inner();
                match normalize_grant(&g) {
                    Some(n) => read.push(n),
                    None => {
                        return Err(fail(
                            span,
                            format!(
                                "read grant `{g}` must be a path inside the repository (relative, no `..`)"
                            ),
                        ));
                    }
                }
            }
            read.sort();
            read.dedup();
            let mut mounts = Vec::new();
            for (name, path) in spec.mounts {
                let span = path.span();
                let valid_name = !name.is_empty()
                    && name.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
                    });
                if !valid_name {
                    return Err(fail(
                        span,
                        format!(
                            "mount name `{name}` must be lowercase letters, digits, `-` or `_`"
                        ),
                    ));
                }
                let written = path.into_inner();
                let path = expand_home(&written)
                    .map_err(|e| fail(span.clone(), format!("mount `{name}`: {e}")))?;
                let path = match &dir {
                    Some(d) if path.is_relative() => d.join(path),
                    _ => path,
                };
                mounts.push(Mount {
                    name,
                    path,
                    at: at(span),
                });
            }
            plugins.push(PluginSpec {
                id,
                source,
                sha256,
                timeout_ms,
                memory_mb,
                read,
                mounts,
                config: toml_to_json(toml::Value::Table(spec.config)),
                at: table_at,
            });
        }

        let mut reports = Vec::new();
        for (name, spec) in raw.reports {
            let name_span = name.span();
            let name = name.into_inner();
            if !is_id(&name) {
                return Err(fail(
                    name_span,
                    format!("report name `{name}` must be lowercase letters, digits and `-`"),
                ));
            }
            let table_at = at(spec.span());
            let spec = spec.into_inner();
            let path_span = spec.path.span();
            let path = match normalize_grant(spec.path.get_ref()) {
                Some(p) if p != "." => p,
                _ => {
                    return Err(fail(
                        path_span,
                        format!(
                            "report path `{}` must be a file inside the repository (relative, no `..`)",
                            spec.path.get_ref()
                        ),
                    ));
                }
            };
            reports.push(ReportSpec {
                name,
                path,
                format: spec.format,
                optional: spec.optional,
                at: table_at,
            });
        }

        let mut rules = Vec::new();
        for (pattern, value) in raw.rules {
            let span = pattern.span();
            let (level, locked) = rule_value(value.get_ref()).map_err(|m| fail(value.span(), m))?;
            let pattern = pattern.into_inner();
            if pattern.is_empty() || pattern.chars().any(char::is_whitespace) {
                return Err(fail(
                    span,
                    format!("rule pattern `{pattern}` is empty or contains whitespace"),
                ));
            }
            let matcher = globset::GlobBuilder::new(&pattern)
                .literal_separator(false)
                .build()
                .map_err(|e| {
                    fail(
                        span.clone(),
                        format!("bad rule pattern `{pattern}`: {}", e.kind()),
                    )
                })?
                .compile_matcher();
            rules.push(RuleOverride {
                pattern,
                matcher,
                level,
                locked,
                at: at(span),
            });
        }
        let mut waivers = Vec::new();
        for w in raw.waivers {
            let w_at = w.span();
            let w = w.into_inner();
            let (line, _) = line_col(text, w.rule.span().start);
            let required = |v: Spanned<String>, key: &str| -> Result<String, Error> {
                let t = v.get_ref().trim().to_string();
                if t.is_empty() {
                    return Err(fail(v.span(), format!("waiver `{key}` must not be empty")));
                }
                Ok(t)
            };
            let rule_span = w.rule.span();
            let rule = required(w.rule, "rule")?;
            let rule_matcher = globset::GlobBuilder::new(&rule)
                .literal_separator(false)
                .build()
                .map_err(|e| {
                    fail(
                        rule_span.clone(),
                        format!("bad rule pattern `{rule}`: {}", e.kind()),
                    )
                })?
                .compile_matcher();
            let mut paths = Vec::new();
            let mut set = globset::GlobSetBuilder::new();
            for p in w.paths {
                let span = p.span();
                let p = p.into_inner();
                let glob = globset::GlobBuilder::new(&p)
                    .literal_separator(true)
                    .build()
                    .map_err(|e| fail(span, format!("bad path glob `{p}`: {}", e.kind())))?;
                set.add(glob);
                paths.push(p);
            }
            let path_matcher = if paths.is_empty() {
                None
            } else {
                Some(
                    set.build()
                        .map_err(|e| fail(w_at.clone(), format!("bad path globs: {e}")))?,
                )
            };
            let fingerprint = match w.fingerprint {
                Some(f) => Some(required(f, "fingerprint")?),
                None => None,
            };
            let reason = required(w.reason, "reason")?;
            let owner = required(w.owner, "owner")?;
            let exp_span = w.expires.span();
            let exp_text = match w.expires.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Datetime(d) => d.to_string(),
                other => other.to_string(),
            };
            let expires = date::Date::parse(&exp_text).ok_or_else(|| {
                fail(
                    exp_span,
                    format!("expires `{exp_text}` is not a date (YYYY-MM-DD)"),
                )
            })?;
            waivers.push(Waiver {
                rule,
                rule_matcher,
                paths,
                path_matcher,
                fingerprint,
                reason,
                owner,
                expires,
                at: format!("{origin}:{line}"),
                line,
            });
        }
        let waiver_expiring_days = match &raw.gate.waiver_expiring_days {
            None => 14,
            Some(v) if *v.get_ref() <= 3650 => *v.get_ref() as i64,
            Some(v) => {
                return Err(fail(
                    v.span(),
                    "waiver-expiring-days must be between 0 and 3650".into(),
                ));
            }
        };
        let own = Policy {
            origin: origin.to_string(),
            fail_at: raw.gate.fail_at.unwrap_or(Level::Error),
            plugins,
            reports,
            rules,
            waivers,
            waiver_expiring_days,
            explicit: Explicit {
                fail_at: raw.gate.fail_at.is_some(),
                waiver_expiring_days: raw.gate.waiver_expiring_days.is_some(),
            },
        };

        // `extends`: parents in order, then this file on top.
        let mut base: Option<Policy> = None;
        for parent in raw.extends {
            let span = parent.span();
            let name = parent.into_inner();
            if chain.len() >= 16 {
                return Err(fail(
                    span,
                    "extends nests more than 16 policies deep".into(),
                ));
            }
            let loaded = if name == DEFAULT_POLICY_NAME {
                if chain.iter().any(|c| c == DEFAULT_POLICY_NAME) {
                    return Err(fail(span, format!("extends cycle through {name}")));
                }
                chain.push(name.clone());
                let p = Policy::parse_chain(DEFAULT_POLICY, DEFAULT_POLICY_NAME, None, chain);
                chain.pop();
                p?
            } else {
                let path = match &dir {
                    Some(d) if Path::new(&name).is_relative() => d.join(&name),
                    _ => PathBuf::from(&name),
                };
                let key = path
                    .canonicalize()
                    .map_err(|e| fail(span.clone(), format!("extends `{name}`: {e}")))?;
                let key = key.display().to_string();
                if chain.contains(&key) {
                    return Err(fail(span, format!("extends cycle through {name}")));
                }
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| fail(span.clone(), format!("extends `{name}`: {e}")))?;
                let parent_dir = path.parent().map(Path::to_path_buf);
                chain.push(key);
                let p = Policy::parse_chain(&text, &path.display().to_string(), parent_dir, chain);
                chain.pop();
                p?
            };
            base = Some(match base {
                None => loaded,
                Some(b) => b.extended_by(loaded)?,
            });
        }
        match base {
            None => Ok(own),
            Some(b) => b.extended_by(own),
        }
    }

    /// This policy with `child` on top: the child's gate settings, plugins,
    /// reports and rules replace the parent's of the same name; waivers
    /// add up. A child may not lower or disable a rule the parent locked,
    /// nor waive it.
    fn extended_by(self, child: Policy) -> Result<Policy, Error> {
        let locked: Vec<&RuleOverride> = self.rules.iter().filter(|r| r.locked).collect();
        for c in &child.rules {
            for l in locked.iter().filter(|l| l.overlaps(&c.pattern, &c.matcher)) {
                if c.level < l.level {
                    return Err(Error::Policy {
                        path: c.at.clone(),
                        message: format!(
                            "`{}` = {} lowers rule `{}`, locked at {} as {}",
                            c.pattern,
                            c.level.map_or("off", Level::as_str),
                            l.pattern,
                            l.at,
                            l.level.map_or("off", Level::as_str)
                        ),
                    });
                }
            }
        }
        for w in &child.waivers {
            if let Some(l) = locked.iter().find(|l| l.overlaps(&w.rule, &w.rule_matcher)) {
                return Err(Error::Policy {
                    path: w.at.clone(),
                    message: format!(
                        "waiver for `{}` touches rule `{}`, locked at {}: only that policy may waive it",
                        w.rule, l.pattern, l.at
                    ),
                });
            }
        }
        let mut plugins = self.plugins;
        for p in child.plugins {
            plugins.retain(|x| x.id != p.id);
            plugins.push(p);
        }
        plugins.sort_by(|a, b| a.id.cmp(&b.id));
        let mut reports = self.reports;
        for r in child.reports {
            reports.retain(|x| x.name != r.name);
            reports.push(r);
        }
        reports.sort_by(|a, b| a.name.cmp(&b.name));
        let mut rules = self.rules;
        for r in child.rules {
            let keep_lock = rules.iter().any(|x| x.pattern == r.pattern && x.locked);
            rules.retain(|x| x.pattern != r.pattern);
            rules.push(RuleOverride {
                locked: r.locked || keep_lock,
                ..r
            });
        }
        let mut waivers = self.waivers;
        waivers.extend(child.waivers);
        Ok(Policy {
            origin: child.origin,
            fail_at: if child.explicit.fail_at {
                child.fail_at
            } else {
                self.fail_at
            },
            plugins,
            reports,
            rules,
            waivers,
            waiver_expiring_days: if child.explicit.waiver_expiring_days {
                child.waiver_expiring_days
            } else {
                self.waiver_expiring_days
            },
            explicit: Explicit {
                fail_at: child.explicit.fail_at || self.explicit.fail_at,
                waiver_expiring_days: child.explicit.waiver_expiring_days
                    || self.explicit.waiver_expiring_days,
            },
        })
    }
}

/// Add "did you mean `x`?" to serde's unknown-field and unknown-variant
/// messages when an expected name is within two edits of the given one.
fn did_you_mean(message: &str) -> String {
    let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
    else {
        return message.to_string();
    };
    let Some((given, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let best = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|cand| (edit_distance(given, cand), cand))
        .filter(|(d, _)| *d <= 2)
        .min();
    match best {
        Some((_, cand)) => format!("{message}; did you mean `{cand}`?"),
        None => message.to_string(),
    }
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

fn bounded(
    value: Option<Spanned<u64>>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    key: &str,
    fail: &dyn Fn(Range<usize>, String) -> Error,
) -> Result<u64, Error> {
    match value {
        None => Ok(default),
        Some(v) if range.contains(v.get_ref()) => Ok(v.into_inner()),
        Some(v) => Err(fail(
            v.span(),
            format!(
                "{key} must be between {} and {}",
                range.start(),
                range.end()
            ),
        )),
    }
}

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// `./src/` → `src`; `.` → `.`; absolute or `..` → None.
fn normalize_grant(g: &str) -> Option<String> {
    let mut parts = Vec::new();
    for c in Path::new(g).components() {
        match c {
            Component::Normal(s) => parts.push(s.to_str()?.to_string()),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    })
}

/// TOML to JSON, with datetimes as RFC 3339 strings.
/// Expand a leading `~` (the home directory) or `$CARGO_HOME` (default
/// `~/.cargo`) in a mount path.
fn expand_home(path: &str) -> Result<PathBuf, String> {
    let home = || {
        std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .ok_or_else(|| format!("`{path}` needs $HOME, which is not set"))
    };
    if let Some(rest) = path
        .strip_prefix("$CARGO_HOME")
        .or(path.strip_prefix("${CARGO_HOME}"))
    {
        let cargo_home = match std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
            Some(h) => PathBuf::from(h),
            None => home()?.join(".cargo"),
        };
        return Ok(cargo_home.join(rest.trim_start_matches('/')));
    }
    if path == "~" {
        return home();
    }
    if let Some(rest) = path.strip_prefix("~/") {
        return Ok(home()?.join(rest));
    }
    Ok(PathBuf::from(path))
}

fn toml_to_json(v: toml::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        toml::Value::String(s) => J::String(s),
        toml::Value::Integer(i) => J::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
        toml::Value::Boolean(b) => J::Bool(b),
        toml::Value::Datetime(d) => J::String(d.to_string()),
        toml::Value::Array(a) => J::Array(a.into_iter().map(toml_to_json).collect()),
        toml::Value::Table(t) => {
            J::Object(t.into_iter().map(|(k, v)| (k, toml_to_json(v))).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        Policy::parse(text, "p.toml", None)
            .expect_err("policy should be rejected")
            .to_string()
    }

    #[test]
    fn default_policy_is_valid() {
        let p = Policy::builtin_default().expect("default policy");
        assert_eq!(p.fail_at, Level::Error);
        assert!(
            p.plugins
                .iter()
                .any(|p| p.source == Source::Builtin("lint".into()))
        );
    }

    #[test]
    fn unknown_key_names_line_and_column() {
        let e = err("[plugins.lint]\nsource = \"builtin:lint\"\ntimeout = 5\n");
        assert!(e.starts_with("p.toml:3:1: unknown field `timeout`"), "{e}");
        assert!(e.contains("timeout-ms"), "lists the expected keys: {e}");
        let e = err("[plugins.lint]\nsource = \"builtin:lint\"\ntimout-ms = 5\n");
        assert!(e.ends_with("; did you mean `timeout-ms`?"), "{e}");
        let e = err("[gate]\nfail-at = \"eror\"\n[plugins.l]\nsource=\"builtin:lint\"\n");
        assert!(e.ends_with("did you mean `error`?"), "{e}");
        let e = err("[plugins.lint]\nsource = \"builtin:lint\"\nzzz = 5\n");
        assert!(!e.contains("did you mean"), "no far-fetched guesses: {e}");
    }

    #[test]
    fn wasm_file_needs_sha256() {
        let e = err("[plugins.x]\nsource = \"x.wasm\"\n");
        assert_eq!(
            e,
            "p.toml:2:10: plugin `x` loads a .wasm file, so `sha256` is required to pin it"
        );
    }

    #[test]
    fn bad_values_are_located() {
        assert!(
            err("[gate]\nfail-at = \"fatal\"\n[plugins.l]\nsource=\"builtin:lint\"\n")
                .starts_with("p.toml:2:11: unknown variant `fatal`")
        );
        assert!(
            err("[plugins.l]\nsource=\"builtin:nope\"\n")
                .contains("unknown built-in plugin `nope`")
        );
        assert!(
            err("[plugins.l]\nsource=\"builtin:lint\"\ntimeout-ms = 0\n")
                .starts_with("p.toml:3:14: timeout-ms must be between")
        );
        assert!(
            err("[plugins.l]\nsource=\"builtin:lint\"\nread = [\"../x\"]\n")
                .starts_with("p.toml:3:9: read grant `../x`")
        );
        assert!(
            err("[plugins.l]\nsource=\"builtin:lint\"\nread = [\"/etc\"]\n")
                .contains("inside the repository")
        );
        assert!(err("[plugins.Lint]\nsource=\"builtin:lint\"\n").contains("plugin id `Lint`"));
        let report = |path: &str| {
            err(&format!(
                "[plugins.l]\nsource=\"builtin:lint\"\n[reports.r]\npath=\"{path}\"\nformat=\"sarif\"\n"
            ))
        };
        assert!(report("/etc/passwd").starts_with(
            "p.toml:4:6: report path `/etc/passwd` must be a file inside the repository"
        ));
        assert!(report("../x.sarif").contains("inside the repository"));
        assert!(report("").contains("inside the repository"));
        assert!(err("[gate]\n").contains("no plugins"));
        assert!(err("[plugins.l]\nsource=\"builtin:lint\"\n[reports.c]\npath=\"c.json\"\nformat=\"xml\"\n").contains("unknown variant `xml`"));
    }

    #[test]
    fn rule_levels_most_specific_wins() {
        let p = Policy::parse(
            "[plugins.l]\nsource=\"builtin:lint\"\n[rules]\n\"lint/*\" = \"note\"\n\"lint/clippy/*\" = \"off\"\n\"lint/clippy/len_zero\" = \"error\"\n\"*/large-file\" = \"warning\"\n",
            "p.toml",
            None,
        )
        .expect("valid");
        let level = |id: &str| p.level_for(id, Level::Warning);
        assert_eq!(level("lint/merge-conflict"), Some(Level::Note), "glob");
        assert_eq!(
            level("lint/clippy/needless_return"),
            None,
            "longer glob turns it off"
        );
        assert_eq!(
            level("lint/clippy/len_zero"),
            Some(Level::Error),
            "exact id beats globs"
        );
        assert_eq!(
            level("lint/large-file"),
            Some(Level::Warning),
            "longest pattern wins"
        );
        assert_eq!(
            level("other/thing"),
            Some(Level::Warning),
            "no entry: the reported level"
        );
    }

    #[test]
    fn bad_rule_entries_are_located() {
        let base = "[plugins.l]\nsource=\"builtin:lint\"\n[rules]\n";
        assert!(err(&format!("{base}\"lint/x\" = \"fatal\"\n")).starts_with(
            "p.toml:4:12: unknown level `fatal`, expected one of `off`, `note`, `warning`, `error`"
        ));
        assert!(
            err(&format!("{base}\"lint/[x\" = \"off\"\n"))
                .starts_with("p.toml:4:1: bad rule pattern `lint/[x`")
        );
        assert!(
            err(&format!("{base}\"lint/x\" = 3\n")).starts_with(
                "p.toml:4:12: invalid type: integer, expected a level string or a table"
            )
        );
        assert!(
            err(&format!(
                "{base}\"lint/x\" = {{ level = \"error\", lock = true }}\n"
            ))
            .contains("unknown key `lock` in a rule entry")
        );
    }

    #[test]
    fn waivers_are_parsed_and_checked() {
        let base = "[plugins.l]\nsource=\"builtin:lint\"\n";
        let p = Policy::parse(
            &format!("{base}[[waivers]]\nrule = \"lint/*\"\npaths = [\"tests/**\"]\nreason = \"fixtures\"\nowner = \"sec@example.com\"\nexpires = 2027-03-31\n"),
            "p.toml",
            None,
        )
        .expect("valid");
        let w = &p.waivers[0];
        assert_eq!(
            (w.at.as_str(), w.expires.to_string().as_str()),
            ("p.toml:4", "2027-03-31")
        );
        assert!(w.matches("lint/large-file", Some("tests/a/b.bin"), "fp"));
        assert!(!w.matches("lint/large-file", Some("src/b.bin"), "fp"));
        assert!(
            !w.matches("lint/large-file", None, "fp"),
            "a path-scoped waiver needs a location"
        );
        assert!(!w.matches("other/x", Some("tests/a"), "fp"));
        let waiver = |body: &str| err(&format!("{base}[[waivers]]\n{body}"));
        let ok = "rule = \"x\"\nreason = \"r\"\nowner = \"o\"\n";
        assert!(
            waiver(ok).contains("missing field `expires`"),
            "{}",
            waiver(ok)
        );
        assert!(
            waiver(&format!("{ok}expires = \"2027-02-30\"\n"))
                .starts_with("p.toml:7:11: expires `2027-02-30` is not a date")
        );
        assert!(
            waiver(&format!("{ok}expires = 2027-03-31\nowners = \"x\"\n"))
                .starts_with("p.toml:8:1: unknown field `owners`")
        );
        assert!(
            waiver("rule = \"x\"\nreason = \" \"\nowner = \"o\"\nexpires = 2027-01-01\n")
                .contains("waiver `reason` must not be empty")
        );
        assert!(
            waiver("rule = \"x\"\nreason = \"r\"\nexpires = 2027-01-01\n")
                .contains("missing field `owner`")
        );
        assert!(waiver("rule = \"x\"\npaths = [\"a/[\"]\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n").contains("bad path glob `a/[`"));
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn extends_merges_and_guards_locked_rules() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        write(
            d,
            "org/policy.toml",
            "[gate]\nfail-at = \"warning\"\n[plugins.custom]\nsource = \"plugins/custom.wasm\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n\
             [rules]\n\"lint/private-key\" = { level = \"error\", locked = true }\n\"lint/large-file\" = \"note\"\n",
        );
        let repo = write(
            d,
            "repo/portcullis.toml",
            "extends = [\"builtin:default\", \"../org/policy.toml\"]\n[rules]\n\"lint/large-file\" = \"error\"\n\"lint/private-key\" = \"error\"\n",
        );
        let p = Policy::load(&repo).expect("merged");
        assert_eq!(p.fail_at, Level::Warning, "from the org policy");
        let ids: Vec<&str> = p.plugins.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(
            ids,
            ["custom", "deps", "lint", "secrets"],
            "builtin default's plugins + the org's plugin"
        );
        assert_eq!(
            p.plugins[0].source,
            Source::File(d.join("repo/../org/plugins/custom.wasm")),
            "relative to the org policy"
        );
        assert_eq!(
            p.level_for("lint/large-file", Level::Warning),
            Some(Level::Error),
            "the repo overrides"
        );
        assert!(
            p.rules
                .iter()
                .any(|r| r.pattern == "lint/private-key" && r.locked),
            "raising keeps the lock"
        );

        // Lowering or disabling a locked rule, directly or by a glob, names both files.
        for rules in [
            "\"lint/private-key\" = \"warning\"",
            "\"lint/*\" = \"off\"",
            "\"*\" = \"note\"",
        ] {
            let repo = write(
                d,
                "repo/portcullis.toml",
                &format!("extends = [\"../org/policy.toml\"]\n[rules]\n{rules}\n"),
            );
            let e = Policy::load(&repo).expect_err(rules).to_string();
            assert!(
                e.contains("repo/portcullis.toml:3:1: ")
                    && e.contains("lowers rule `lint/private-key`, locked at ")
                    && e.contains("org/policy.toml:7:1"),
                "{e}"
            );
        }
        // Only the locking policy may waive it.
        let repo = write(
            d,
            "repo/portcullis.toml",
            "extends = [\"../org/policy.toml\"]\n[[waivers]]\nrule = \"lint/private-key\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2030-01-01\n",
        );
        let e = Policy::load(&repo).expect_err("waiver").to_string();
        assert!(
            e.contains("waiver for `lint/private-key` touches rule `lint/private-key`, locked at"),
            "{e}"
        );
    }

    #[test]
    fn extends_cycles_and_missing_files_are_errors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        write(d, "a.toml", "extends = [\"b.toml\"]\n");
        let b = write(d, "b.toml", "extends = [\"a.toml\"]\n");
        let e = Policy::load(&b).expect_err("cycle").to_string();
        assert!(e.contains("extends cycle through b.toml"), "{e}");
        let c = write(d, "c.toml", "extends = [\"missing.toml\"]\n");
        let e = Policy::load(&c).expect_err("missing").to_string();
        assert!(e.contains("c.toml:1:12: extends `missing.toml`"), "{e}");
        let only_rules = write(d, "r.toml", "[rules]\n\"lint/*\" = \"note\"\n");
        assert!(
            Policy::load(&only_rules)
                .expect_err("no plugins")
                .to_string()
                .contains("no plugins")
        );
    }

    #[test]
    fn config_becomes_json() {
        let p = Policy::parse(
            "[plugins.l]\nsource=\"builtin:lint\"\nread=[\"./src/\", \".\"]\n[plugins.l.config]\nmax-file-kb = 10\nexclude = [\"a/**\"]\n",
            "p.toml",
            None,
        )
        .expect("valid");
        assert_eq!(
            p.plugins[0].config,
            serde_json::json!({"max-file-kb": 10, "exclude": ["a/**"]})
        );
        assert_eq!(p.plugins[0].read, vec![".".to_string(), "src".to_string()]);
        assert_eq!(p.plugins[0].timeout_ms, DEFAULT_TIMEOUT_MS);
    }
}
