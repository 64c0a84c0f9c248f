//! Run a plugin natively on a fixture directory, as the host would run it in
//! the sandbox, so its rules are tested with plain `cargo test`.

pub mod mutants;

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use crate::{
    Context, Evaluation, Evidence, FileEntry, FileKind, LogLevel, Plugin, Report, ReportFormat,
    RuleDecl,
};

thread_local! {
    static LOGS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
    static CACHE: RefCell<std::collections::HashMap<String, Vec<u8>>> =
        RefCell::new(std::collections::HashMap::new());
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn cache_get(key: &str) -> Option<Vec<u8>> {
    CACHE.with(|c| c.borrow().get(key).cloned())
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn cache_put(key: &str, value: &[u8]) {
    CACHE.with(|c| c.borrow_mut().insert(key.to_string(), value.to_vec()));
}

/// Empty this thread's native plugin cache (see [`crate::cache`]).
pub fn clear_cache() {
    CACHE.with(|c| c.borrow_mut().clear());
}

/// The keys in this thread's native plugin cache.
pub fn cache_keys() -> Vec<String> {
    CACHE.with(|c| c.borrow().keys().cloned().collect())
}

#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
pub(crate) fn record_log(level: LogLevel, message: &str) {
    LOGS.with(|l| l.borrow_mut().push(format!("{level:?}: {message}")));
}

/// Log lines written by the plugin on this thread since the last call.
pub fn take_logs() -> Vec<String> {
    LOGS.with(|l| std::mem::take(&mut *l.borrow_mut()))
}

/// A fixture repository and the evidence built from it.
pub struct Harness {
    root: PathBuf,
    config: serde_json::Value,
    reports: Vec<Report>,
    cargo_metadata: Option<String>,
    mounts: Vec<crate::Mount>,
    changed: Option<Vec<String>>,
    lines: Option<crate::ChangedLines>,
    metrics: Option<crate::NativeMetrics>,
}

impl Harness {
    /// Evidence for the directory `root`: every file under it except `.git/`.
    pub fn new(root: impl AsRef<Path>) -> Self {
        Harness {
            root: root.as_ref().to_path_buf(),
            config: serde_json::json!({}),
            reports: Vec::new(),
            cargo_metadata: None,
            mounts: Vec::new(),
            changed: None,
            lines: None,
            metrics: None,
        }
    }

    /// Answer the plugin's `query-metrics` calls as a server granted by
    /// the policy would: over `window`, `answers` for the queries listed
    /// (any other query fails).
    pub fn metrics(mut self, metrics: crate::NativeMetrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Run as the host does under `--changed-since` when these lines
    /// changed (the contract's `changed-lines`): `(path, [(first, last)])`.
    pub fn changed_lines(mut self, files: &[(&str, &[(u32, u32)])]) -> Self {
        self.lines = Some(
            files
                .iter()
                .map(|(p, r)| (p.to_string(), r.to_vec()))
                .collect(),
        );
        self
    }

    /// Run as the host does when findings count only in `paths` (the
    /// contract's `changed-files`).
    pub fn changed(mut self, paths: &[&str]) -> Self {
        self.changed = Some(paths.iter().map(|p| p.to_string()).collect());
        self
    }

    pub fn config(mut self, config: serde_json::Value) -> Self {
        self.config = config;
        self
    }

    /// Add a report file (path relative to the fixture root).
    pub fn report(mut self, name: &str, format: ReportFormat, path: &str) -> Self {
        let content = std::fs::read_to_string(self.root.join(path))
            .unwrap_or_else(|e| panic!("fixture report {path}: {e}"));
        self.reports.push(Report {
            name: name.into(),
            format,
            path: path.into(),
            content,
        });
        self
    }

    /// Mount a host directory as the policy's `[plugins.<id>.mounts]` would
    /// (a path that does not exist is passed as absent).
    pub fn mount(mut self, name: &str, dir: impl AsRef<Path>) -> Self {
        let dir = dir.as_ref();
        self.mounts.push(crate::Mount {
            name: name.into(),
            host_path: dir.to_string_lossy().into_owned(),
            present: dir.is_dir(),
        });
        self
    }

    pub fn cargo_metadata(mut self, json: String) -> Self {
        self.cargo_metadata = Some(json);
        self
    }

    /// The evidence the host would pass for this fixture.
    pub fn evidence(&self) -> Evidence {
        let mut files = Vec::new();
        walk(&self.root, &self.root, &mut files);
        files.sort_by(|a, b| a.path.cmp(&b.path));
        Evidence {
            root: self.root.to_string_lossy().into_owned(),
            host_root: self.root.to_string_lossy().into_owned(),
            files,
            cargo_metadata: self.cargo_metadata.clone(),
            reports: self.reports.clone(),
            mounts: self.mounts.clone(),
        }
    }

    /// Run `P::evaluate` natively.
    ///
    /// Panics when the evaluation breaks the contract the host enforces:
    /// a finding whose rule is neither declared by `P::describe` nor
    /// discovered in the evaluation, or a discovered rule that reuses a
    /// declared id.
    /// Run `P::run_tests` natively, as `portcullis test` would.
    pub fn run_tests<P: Plugin>(&self, coverage: bool) -> Result<crate::TestRun, String> {
        let ctx = Context::new(&self.config.to_string(), self.evidence(), self.root.clone())?;
        P::run_tests(&ctx, coverage)
    }

    pub fn run<P: Plugin>(&self) -> Result<Evaluation, String> {
        let ctx = Context::new(&self.config.to_string(), self.evidence(), self.root.clone())?
            .with_changed(self.changed.clone())
            .with_changed_lines(self.lines.clone())
            .with_metrics(self.metrics.clone());
        let eval = P::evaluate(&ctx)?;
        let info = P::describe();
        let declared = |id: &str| info.rules.iter().any(|r| r.id == id);
        for rule in &eval.rules {
            assert!(
                !declared(&rule.id),
                "discovered rule `{}` reuses the id of a declared rule",
                rule.id
            );
        }
        for f in &eval.findings {
            assert!(
                declared(&f.rule_id) || eval.rules.iter().any(|r| r.id == f.rule_id),
                "finding of undeclared rule `{}`: {}",
                f.rule_id,
                f.message
            );
        }
        Ok(eval)
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<FileEntry>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let rel = path
            .strip_prefix(root)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default();
        if rel == ".git" {
            continue;
        }
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path)
                .ok()
                .map(|t| t.to_string_lossy().into_owned());
            out.push(FileEntry {
                path: rel,
                size: meta.len(),
                kind: FileKind::Symlink,
                link_target: target,
                link_resolves: std::fs::metadata(&path).is_ok(),
            });
        } else if meta.is_dir() {
            walk(root, &path, out);
        } else {
            out.push(FileEntry {
                path: rel,
                size: meta.len(),
                kind: FileKind::File,
                link_target: None,
                link_resolves: false,
            });
        }
    }
}

/// Assert that a plugin's rule list is well-formed: ids unique and
/// kebab-case (lowercase letters, digits and single `-`, no `-` at either
/// end), every rule named, described and documented (a non-empty help), and
/// security-severities between 0 and 10. Call it on the plugin's `RULES`.
pub fn assert_rules_well_formed(rules: &[&RuleDecl]) {
    let mut seen = std::collections::BTreeSet::new();
    for rule in rules {
        let id = rule.id();
        assert!(seen.insert(id), "rule `{id}` is declared twice");
        assert!(
            crate::__is_kebab_case(id),
            "rule id `{id}` is not kebab-case (lowercase letters, digits, `-`)"
        );
        assert!(!rule.name().is_empty(), "rule `{id}` has a name");
        assert!(
            !rule.short_description().is_empty() && !rule.full_description().is_empty(),
            "rule `{id}` has a description"
        );
        assert!(
            !rule.help_markdown().trim().is_empty(),
            "rule `{id}` is documented"
        );
        if let Some(s) = rule.security_severity() {
            assert!(
                (0.0..=10.0).contains(&s),
                "rule `{id}`: security-severity {s} is not between 0 and 10"
            );
        }
    }
}

/// Assert that the README at `readme` documents each of a plugin's rules
/// with a row ``| `<prefix>/<id>` | <level>`` in its rules table. (The
/// rules themselves are checked by [`assert_rules_well_formed`].)
pub fn assert_rules_documented(info: &crate::PluginInfo, prefix: &str, readme: &Path) {
    let text = std::fs::read_to_string(readme)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", readme.display()));
    for rule in &info.rules {
        let row = format!("| `{prefix}/{}` | {}", rule.id, rule.default_level.as_str());
        assert!(text.contains(&row), "the README's table lists `{row}`");
    }
}

/// Write `files` (repository-relative path, content) under `root`, creating
/// directories: a fixture tree for [`Harness`].
pub fn write_tree<C: AsRef<[u8]>>(root: &Path, files: &[(&str, C)]) {
    for (path, content) in files {
        let p = root.join(path);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("cannot create {}: {e}", parent.display()));
        }
        std::fs::write(&p, content).unwrap_or_else(|e| panic!("cannot write {}: {e}", p.display()));
    }
}

/// (rule id, path, start line) of each finding's primary location, sorted
/// (0 for a finding without a location or region): what rule tests compare.
pub fn found(eval: &Evaluation) -> Vec<(String, String, u32)> {
    let mut v: Vec<_> = eval
        .findings
        .iter()
        .map(|f| {
            let loc = f.locations.first();
            (
                f.rule_id.clone(),
                loc.map_or(String::new(), |l| l.path.clone()),
                loc.and_then(|l| l.region.as_ref())
                    .map_or(0, |r| r.start_line),
            )
        })
        .collect();
    v.sort();
    v
}
