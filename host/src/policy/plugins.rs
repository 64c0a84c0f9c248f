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
    /// The Prometheus-compatible server the plugin may query through the
    /// host (`[plugins.<id>.prometheus]`).
    pub prometheus: Option<crate::evidence::metrics::Grant>,
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
    /// Pinned by the manifest's digest (the reader refuses a bare tag).
    Oci(crate::oci::OciRef),
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
    /// Pull-request (or deployment) context: read by plugins, and by the
    /// host for the pull request's base commit (the contract's
    /// `changed-lines`).
    pub fn is_pull_request(self) -> bool {
        matches!(
            self,
            ReportFormat::PrContext | ReportFormat::GithubEvent | ReportFormat::GhPr
        )
    }

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
            "`gh pr view --json author,labels,baseRefName,baseRefOid,headRefName,headRefOid,files,commits,reviews`",
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
/// `.wasm` sources and mounts). `base` is the same plugin as the policies
/// this file extends define it: the table is then merged into it — each
/// key written here replaces the parent's, `mounts` by name and `config`
/// key by key (tables merged, other values replaced) — so extending a
/// policy to add one config key takes one key. Without a `base`, `source`
/// is required.
pub fn read_plugin(
    id: Spanned<String>,
    node: Node<'_>,
    dir: Option<&Path>,
    base: Option<&PluginSpec>,
    tags: Option<&mut super::Tags>,
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
    let source = match base {
        Some(_) => t.get("source"),
        None => t.required("source", d),
    }
    .and_then(|n| n.str(d));
    let sha256 = t.get("sha256").and_then(|n| n.str(d));
    let timeout_ms = t.get("timeout-ms").and_then(|n| n.u64(d));
    let memory_mb = t.get("memory-mb").and_then(|n| n.u64(d));
    let read = t.get("read").map(|n| n.strings(d));
    let mounts = t.get("mounts");
    let prometheus = t.get("prometheus");
    let config = t.get("config");
    t.finish(d);
    // A child's table replaces the parent's whole.
    let prometheus = match prometheus {
        Some(n) => read_prometheus(n, dir, d),
        None => base.and_then(|b| b.prometheus.clone()),
    };

    // A pin goes with its source: a new source drops the parent's pin.
    let inherits_source = source.is_none();
    let pinned = sha256.is_some() || (inherits_source && base.is_some_and(|b| b.sha256.is_some()));
    let source = match source {
        Some(s) => read_source(&id.value, s, pinned, dir, tags, d),
        None => base.map(|b| b.source.clone()),
    };
    let sha256 = match sha256 {
        Some(s) => {
            let v = s.value.to_ascii_lowercase();
            if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
                Some(v)
            } else {
                d.push(s.at, "sha256 must be 64 hexadecimal digits");
                None
            }
        }
        None if inherits_source => base.and_then(|b| b.sha256.clone()),
        None => None,
    };
    let inherited = |f: fn(&PluginSpec) -> u64, default| base.map_or(default, f);
    let timeout_ms = bounded(
        timeout_ms,
        inherited(|b| b.timeout_ms, DEFAULT_TIMEOUT_MS),
        1..=600_000,
        "timeout-ms",
        d,
    );
    let memory_mb = bounded(
        memory_mb,
        inherited(|b| b.memory_mb, DEFAULT_MEMORY_MB),
        1..=4_096,
        "memory-mb",
        d,
    );
    let (grants, read_places) = match read {
        Some(read) => read_grants(read, d),
        None => base.map_or_else(Default::default, |b| {
            (b.read.clone(), b.read_places.clone())
        }),
    };
    let mut all_mounts: Vec<Mount> = base.map(|b| b.mounts.clone()).unwrap_or_default();
    if let Some(mut table) = mounts.and_then(|n| n.table(d)) {
        for m in table
            .entries()
            .into_iter()
            .filter_map(|(name, n)| read_mount(name.value, n, dir, d))
        {
            all_mounts.retain(|x| x.name != m.name);
            all_mounts.push(m);
        }
    }
    all_mounts.sort_by(|a, b| a.name.cmp(&b.name));
    let (config, config_places) = match (config, base) {
        (Some(n), base) => {
            n.table(d)?;
            let (mut config, mut places) = match base {
                Some(b) => (b.config.clone(), b.config_places.clone()),
                None => (serde_json::json!({}), super::read::Places::new()),
            };
            let own_places = n.places();
            merge_config(&mut config, n.to_json(), "", &places, &own_places, d);
            places.extend(own_places);
            (config, places)
        }
        (None, Some(b)) => (b.config.clone(), b.config_places.clone()),
        (None, None) => {
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
        mounts: all_mounts,
        config,
        config_places,
        reports_from: None,
        prometheus,
        at: table_at,
    })
}

/// `[plugins.<id>.prometheus]`: where the host sends the plugin's PromQL
/// queries, and how.
fn read_prometheus(
    node: Node<'_>,
    dir: Option<&Path>,
    d: &mut Diags,
) -> Option<crate::evidence::metrics::Grant> {
    use crate::evidence::metrics::{self, Auth, Grant, Secret, Setting};
    let at = node.at();
    let mut t = node.table(d)?;
    let url = t.get("url").and_then(|n| n.str(d));
    let url_env = t.get("url-env").and_then(|n| n.str(d));
    let token_file = t.get("bearer-token-file").and_then(|n| n.str(d));
    let token_env = t.get("bearer-token-env").and_then(|n| n.str(d));
    let username = t.get("username").and_then(|n| n.str(d));
    let password_file = t.get("password-file").and_then(|n| n.str(d));
    let password_env = t.get("password-env").and_then(|n| n.str(d));
    let ca_file = t.get("ca-file").and_then(|n| n.str(d));
    let tenant = t.get("tenant").and_then(|n| n.str(d));
    let mut duration = |key: &'static str, default, d: &mut Diags| {
        let Some(s) = t.get(key).and_then(|n| n.str(d)) else {
            return Some(default);
        };
        metrics::parse_duration(&s.value)
            .map_err(|e| d.push(s.at, format!("{key}: {e}")))
            .ok()
    };
    let timeout = duration("timeout", metrics::DEFAULT_TIMEOUT, d);
    let window = duration("window", metrics::DEFAULT_WINDOW, d);
    let step = duration("step", metrics::DEFAULT_STEP, d);
    let retries = match t.get("retries").and_then(|n| n.u64(d)) {
        Some(r) if r.value > 10 => {
            d.push(r.at, "retries must be at most 10");
            None
        }
        Some(r) => Some(r.value as u32),
        None => Some(metrics::DEFAULT_RETRIES),
    };
    t.finish(d);
    let file = |s: Spanned<String>, d: &mut Diags| match expand_home(&s.value) {
        Ok(p) => Some(from_dir(dir, p)),
        Err(e) => {
            d.push(s.at, e);
            None
        }
    };
    let url = match (url, url_env) {
        (Some(u), None) => Some(Setting::Literal(u.value)),
        (None, Some(v)) => Some(Setting::Env(v.value)),
        (Some(u), Some(_)) => {
            d.push(u.at, "give the server as `url` or as `url-env`, not both");
            None
        }
        (None, None) => {
            d.push(at.clone(), "missing field `url` (or `url-env`)");
            None
        }
    };
    // A secret from a file (relative to the policy) or from a variable.
    let mut secret =
        |f: Option<Spanned<String>>, e: Option<Spanned<String>>, what: &str| match (f, e) {
            (Some(f), Some(_)) => {
                d.push(
                    f.at,
                    format!("give the {what} from a file or from the environment, not both"),
                );
                Err(())
            }
            (Some(f), None) => file(f, d).map(|p| Some(Secret::File(p))).ok_or(()),
            (None, Some(e)) => Ok(Some(Secret::Env(e.value))),
            (None, None) => Ok(None),
        };
    let token = secret(token_file, token_env, "bearer token").ok()?;
    let password = secret(password_file, password_env, "password").ok()?;
    let auth = match (token, username, password) {
        (None, None, None) => Auth::None,
        (Some(t), None, None) => Auth::Bearer(t),
        (None, Some(u), Some(p)) => Auth::Basic {
            username: u.value,
            password: p,
        },
        (None, Some(u), None) => {
            d.push(u.at, "username needs `password-file` or `password-env`");
            return None;
        }
        (None, None, Some(_)) => {
            d.push(at, "a password needs `username`");
            return None;
        }
        (Some(_), _, _) => {
            d.push(
                at,
                "give a bearer token or a username and password, not both",
            );
            return None;
        }
    };
    let ca_file = match ca_file {
        Some(c) => Some(file(c, d)?),
        None => None,
    };
    Some(Grant {
        url: url?,
        auth,
        ca_file,
        tenant: tenant.map(|t| t.value),
        timeout: timeout?,
        retries: retries?,
        window: window?,
        step: step?,
        at: at.to_string(),
    })
}

/// `read = [...]`: normalised grants and where each is written.
fn read_grants(read: Vec<Spanned<String>>, d: &mut Diags) -> (Vec<String>, super::read::Places) {
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
    (grants, read_places)
}

/// Merge a child's `config` into the parent's, key by key: a table into a
/// table, any other value replaces. A table on one side and another value
/// on the other cannot be merged: reported at the child's key, naming the
/// parent's.
fn merge_config(
    into: &mut serde_json::Value,
    child: serde_json::Value,
    path: &str,
    parent_places: &super::read::Places,
    child_places: &super::read::Places,
    d: &mut Diags,
) {
    use serde_json::Value;
    let (Value::Object(parent), Value::Object(child)) = (into, child) else {
        return;
    };
    for (key, value) in child {
        let sub = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match parent.get_mut(&key) {
            Some(old @ Value::Object(_)) if value.is_object() => {
                merge_config(old, value, &sub, parent_places, child_places, d);
            }
            Some(old) if old.is_object() != value.is_object() => {
                let kind = |v: &Value| if v.is_object() { "a table" } else { "a value" };
                let here = child_places.get(&sub).or_else(|| child_places.get(""));
                let there = parent_places
                    .get(&sub)
                    .map_or_else(|| "the policy it extends".to_string(), ToString::to_string);
                if let Some(here) = here {
                    d.push(
                        here.clone(),
                        format!(
                            "config.{sub} is {} here and {} at {there}: a child's config merges into its parent's key by key, so both must be tables or neither",
                            kind(&value),
                            kind(old)
                        ),
                    );
                }
            }
            Some(old) => *old = value,
            None => {
                parent.insert(key, value);
            }
        }
    }
}

/// `tags` is there when the file allows OCI tags (`allow-oci-tags`).
fn read_source(
    id: &str,
    source: Spanned<String>,
    pinned: bool,
    dir: Option<&Path>,
    tags: Option<&mut super::Tags>,
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
    if text.starts_with(crate::oci::reference::SCHEME) {
        let r = match crate::oci::OciRef::parse(text) {
            Ok(r) => r,
            Err(e) => {
                d.push(source.at, format!("plugin `{id}`: {e}"));
                return None;
            }
        };
        if r.digest.is_some() {
            return Some(Source::Oci(r));
        }
        return match tags {
            None => {
                d.push(
                    source.at,
                    format!("plugin `{id}`: {}", super::oci_tags::unpinned(text)),
                );
                None
            }
            Some(tags) => match tags.pin(&r, crate::oci::PLUGIN) {
                Ok(pinned) => Some(Source::Oci(pinned)),
                Err(e) => {
                    d.push(source.at, format!("plugin `{id}`: {e}"));
                    None
                }
            },
        };
    }
    if !text.ends_with(".wasm") {
        d.push(
            source.at,
            format!(
                "source `{text}` is neither `builtin:<name>`, `oci://…@sha256:…` nor a path to a .wasm file"
            ),
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
    Some(Source::File(from_dir(dir, PathBuf::from(text))))
}

/// `path` taken from the policy's directory when relative (`./x` shown as
/// `x` when that directory is the working directory).
fn from_dir(dir: Option<&Path>, path: PathBuf) -> PathBuf {
    match dir {
        Some(dir) if path.is_relative() && dir != Path::new(".") => dir.join(path),
        _ => path,
    }
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
    Some(Mount {
        name,
        path: from_dir(dir, expanded),
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
