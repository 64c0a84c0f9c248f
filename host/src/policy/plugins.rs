//! `[plugins.<id>]` (source, pin, limits, read grants, mounts, config) and
//! `[reports.<name>]`.

use std::path::{Component, Path, PathBuf};

use super::read::{Diags, Node, Spanned};
use super::{DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT_MS};
use crate::diag::At;

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
    /// Where the policy names each grant in `read` (`file:line:col`), for
    /// messages about a grant that turns out not to be there.
    pub read_places: super::read::Places,
    /// Directories outside the repository the plugin may read, mounted at
    /// `/mnt/<name>` (`[plugins.<id>.mounts]`).
    pub mounts: Vec<Mount>,
    /// The plugin's `config` table as JSON.
    pub config: serde_json::Value,
    /// Where each key of `config` is written (see [`PluginSpec::locate`]).
    pub config_places: super::read::Places,
    /// For a plugin whose rules a policy locks: the policy files whose
    /// `[reports.*]` it may read (the locking policy's chain); `None` = all.
    pub reports_from: Option<Vec<String>>,
    /// Where the plugin's table is named, for messages.
    pub at: At,
}

/// A read-only directory outside the repository granted to one plugin.
#[derive(Debug, Clone)]
pub struct Mount {
    pub name: String,
    /// The host path, with `~` and `$CARGO_HOME` expanded and relative paths
    /// taken from the policy's directory.
    pub path: PathBuf,
    /// Where the entry is written, for messages.
    pub at: At,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Builtin(String),
    File(PathBuf),
}

/// The formats a `[reports.<name>]` file may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    ClippyJson,
    Sarif,
    PrContext,
    GithubEvent,
    GhPr,
}

impl ReportFormat {
    /// Every format with its policy name and what produces it, in the
    /// order the README lists them.
    pub const ALL: [(ReportFormat, &'static str, &'static str); 5] = [
        (
            ReportFormat::ClippyJson,
            "clippy-json",
            "`cargo clippy --message-format=json` (or `cargo build`) output, one JSON object per line",
        ),
        (
            ReportFormat::Sarif,
            "sarif",
            "a SARIF 2.1.0 log from any tool",
        ),
        (
            ReportFormat::PrContext,
            "pr-context",
            "pull-request context in portcullis's own JSON (author, labels, branches, head SHA, files, commits, reviews)",
        ),
        (
            ReportFormat::GithubEvent,
            "github-event",
            "a GitHub `pull_request` event payload (the file at `$GITHUB_EVENT_PATH`)",
        ),
        (
            ReportFormat::GhPr,
            "gh-pr",
            "`gh pr view --json author,labels,baseRefName,headRefName,headRefOid,files,commits,reviews`",
        ),
    ];

    pub fn as_str(self) -> &'static str {
        ReportFormat::ALL
            .iter()
            .find(|(f, _, _)| *f == self)
            .map_or("", |(_, name, _)| name)
    }
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
    pub at: At,
}

/// `[plugins.<id>]`; `dir` is the policy file's directory (for relative
/// `.wasm` sources and mounts).
pub fn read_plugin(
    id: Spanned<String>,
    node: Node<'_>,
    dir: Option<&Path>,
    d: &mut Diags,
) -> Option<PluginSpec> {
    if check_name("plugin id", &id, d) && id.value == crate::builtins::HOST_ID {
        d.push(
            id.at.clone(),
            format!(
                "plugin id `{}` is reserved for the host's own rules",
                id.value
            ),
        );
    }
    let table_at = node.at();
    let mut t = node.table(d)?;
    let source = t.required("source", d).and_then(|n| n.str(d));
    let sha256 = t.get("sha256").and_then(|n| n.str(d));
    let timeout_ms = t.get("timeout-ms").and_then(|n| n.u64(d));
    let memory_mb = t.get("memory-mb").and_then(|n| n.u64(d));
    let read = t.get("read").map(|n| n.strings(d)).unwrap_or_default();
    let mounts = t.get("mounts");
    let config = t.get("config");
    t.finish(d);

    let source = source.and_then(|s| read_source(&id.value, s, sha256.is_some(), dir, d));
    let sha256 = sha256.and_then(|s| {
        let v = s.value.to_ascii_lowercase();
        if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
            Some(v)
        } else {
            d.push(s.at, "sha256 must be 64 hexadecimal digits");
            None
        }
    });
    let timeout_ms = bounded(timeout_ms, DEFAULT_TIMEOUT_MS, 1..=600_000, "timeout-ms", d);
    let memory_mb = bounded(memory_mb, DEFAULT_MEMORY_MB, 1..=4_096, "memory-mb", d);
    let mut grants = Vec::new();
    let mut read_places = std::collections::BTreeMap::new();
    for g in read {
        match normalize_grant(&g.value) {
            Some(n) => {
                read_places.entry(n.clone()).or_insert(g.at);
                grants.push(n);
            }
            None => d.push(
                g.at,
                format!(
                    "read grant `{}` must be a path inside the repository (relative, no `..`)",
                    g.value
                ),
            ),
        }
    }
    grants.sort();
    grants.dedup();
    let mounts = match mounts.and_then(|n| n.table(d)) {
        Some(mut table) => table
            .entries()
            .into_iter()
            .filter_map(|(name, n)| read_mount(name.value, n, dir, d))
            .collect(),
        None => Vec::new(),
    };
    let (config, config_places) = match config {
        Some(n) => {
            n.table(d)?;
            (n.to_json(), n.places())
        }
        None => {
            let mut places = super::read::Places::new();
            places.insert(String::new(), table_at.clone());
            (serde_json::json!({}), places)
        }
    };
    Some(PluginSpec {
        id: id.value,
        source: source?,
        sha256,
        timeout_ms,
        memory_mb,
        read: grants,
        read_places,
        mounts,
        config,
        config_places,
        reports_from: None,
        at: table_at,
    })
}

fn read_source(
    id: &str,
    source: Spanned<String>,
    pinned: bool,
    dir: Option<&Path>,
    d: &mut Diags,
) -> Option<Source> {
    let text = &source.value;
    if let Some(name) = text.strip_prefix("builtin:") {
        if !crate::builtins::is_builtin(name) {
            d.push(
                source.at,
                format!(
                    "unknown built-in plugin `{name}` (built in: {})",
                    crate::builtins::names().join(", ")
                ),
            );
            return None;
        }
        return Some(Source::Builtin(name.to_string()));
    }
    if !text.ends_with(".wasm") {
        d.push(
            source.at,
            format!("source `{text}` is neither `builtin:<name>` nor a path to a .wasm file"),
        );
        return None;
    }
    if !pinned {
        d.push(
            source.at.clone(),
            format!("plugin `{id}` loads a .wasm file, so `sha256` is required to pin it"),
        );
    }
    // Relative to the file that names it (policies extend others).
    Some(match dir {
        Some(d) if Path::new(text).is_relative() => Source::File(d.join(text)),
        _ => Source::File(PathBuf::from(text)),
    })
}

fn read_mount(name: String, node: Node<'_>, dir: Option<&Path>, d: &mut Diags) -> Option<Mount> {
    let path = node.str(d)?;
    let valid_name = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if !valid_name {
        d.push(
            path.at,
            format!("mount name `{name}` must be lowercase letters, digits, `-` or `_`"),
        );
        return None;
    }
    let expanded = match expand_home(&path.value) {
        Ok(p) => p,
        Err(e) => {
            d.push(path.at, format!("mount `{name}`: {e}"));
            return None;
        }
    };
    let full = match dir {
        Some(dir) if expanded.is_relative() => dir.join(expanded),
        _ => expanded,
    };
    Some(Mount {
        name,
        path: full,
        at: path.at,
    })
}

/// `[reports.<name>]`.
pub fn read_report(name: Spanned<String>, node: Node<'_>, d: &mut Diags) -> Option<ReportSpec> {
    check_name("report name", &name, d);
    let table_at = node.at();
    let mut t = node.table(d)?;
    let path = t.required("path", d).and_then(|n| n.str(d));
    let names: Vec<&'static str> = ReportFormat::ALL.iter().map(|(_, n, _)| *n).collect();
    let format = t
        .required("format", d)
        .and_then(|n| n.variant(&names, d))
        .and_then(|v| ReportFormat::ALL.iter().find(|(_, n, _)| *n == v))
        .map(|(f, _, _)| *f);
    let optional = t.get("optional").and_then(|n| n.bool(d)).unwrap_or(false);
    t.finish(d);
    let path = path?;
    let normalized = match normalize_grant(&path.value) {
        Some(p) if p != "." => p,
        _ => {
            d.push(
                path.at,
                format!(
                    "report path `{}` must be a file inside the repository (relative, no `..`)",
                    path.value
                ),
            );
            return None;
        }
    };
    Some(ReportSpec {
        name: name.value,
        path: normalized,
        format: format?,
        optional,
        at: table_at,
    })
}

pub fn bounded(
    value: Option<Spanned<u64>>,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
    key: &str,
    d: &mut Diags,
) -> u64 {
    match value {
        None => default,
        Some(v) if range.contains(&v.value) => v.value,
        Some(v) => {
            d.push(
                v.at,
                format!(
                    "{key} must be between {} and {}",
                    range.start(),
                    range.end()
                ),
            );
            default
        }
    }
}

/// A plugin id or report name: lowercase letters, digits and `-`. Says so
/// when it is not; returns whether it is.
fn check_name(what: &str, name: &Spanned<String>, d: &mut Diags) -> bool {
    let ok = !name.value.is_empty()
        && name
            .value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !ok {
        d.push(
            name.at.clone(),
            format!(
                "{what} `{}` must be lowercase letters, digits and `-`",
                name.value
            ),
        );
    }
    ok
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

impl PluginSpec {
    /// A plugin's error about its config (`config.<path>: …`, as the SDK
    /// writes them) with the policy's `file:line:col` of that key in front,
    /// or of the nearest enclosing key the policy writes; other messages as
    /// they are.
    pub fn locate(&self, message: &str) -> String {
        let Some(rest) = message.strip_prefix("config") else {
            return message.to_string();
        };
        let path = match rest.chars().next() {
            Some(':') => "",
            Some('.') => rest[1..].split([':', ' ']).next().unwrap_or(""),
            Some('[') => rest.split([':', ' ']).next().unwrap_or(""),
            _ => return message.to_string(),
        };
        let mut path = path;
        loop {
            if let Some(place) = self.config_places.get(path) {
                return format!("{place}: {message}");
            }
            match path.rfind(['.', '[']) {
                Some(at) => path = &path[..at],
                None if !path.is_empty() => path = "",
                None => return message.to_string(),
            }
        }
    }
}
