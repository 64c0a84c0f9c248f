//! What a plugin sees during `evaluate`: its config and the evidence.

use std::collections::HashSet;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::{Evidence, FileEntry, Report};

/// The plugin's view of one evaluation.
pub struct Context {
    config: serde_json::Value,
    /// The evidence, its file list taken out into `files`.
    evidence: Evidence,
    /// The evidence with its file list, made when first asked for.
    whole: std::sync::OnceLock<Evidence>,
    /// The file list: given in the evidence, or asked of the host (the
    /// contract's `file-list`) when first needed.
    files: std::sync::OnceLock<Vec<FileEntry>>,
    /// The whole file list as the host gives it, in columns (the
    /// contract's `file-list`), asked for once.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    columns: std::sync::OnceLock<FileColumns>,
    /// The entries of the changed files alone, when they were asked for
    /// before the whole list.
    to_read: std::sync::OnceLock<Vec<FileEntry>>,
    root: PathBuf,
    /// The host's `changed-files`, asked once.
    changed: std::sync::OnceLock<Option<HashSet<String>>>,
    /// The host's `cargo-metadata`, without and with dependencies, asked
    /// once each.
    cargo: [std::sync::OnceLock<Result<Option<String>, String>>; 2],
    /// The host's `changed-lines`, asked once.
    lines: std::sync::OnceLock<Result<Option<ChangedLines>, String>>,
    /// Under the native harness: the answers `query-metrics` gives.
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    metrics: Option<NativeMetrics>,
}

/// What `query-metrics` answers under the native harness: the window, and
/// each query's result (a query not listed fails, as a server would).
#[derive(Debug, Clone)]
pub struct NativeMetrics {
    pub window: crate::MetricsWindow,
    pub answers: Vec<(
        crate::MetricsQuery,
        Result<Vec<crate::MetricSeries>, String>,
    )>,
}

/// The lines a change adds or modifies, by repository-relative path:
/// 1-based inclusive ranges in order ([`Context::changed_lines`]).
pub type ChangedLines = std::collections::BTreeMap<String, Vec<(u32, u32)>>;

impl Context {
    /// `root` is where repository paths are read from: `/repo` in the
    /// sandbox, the fixture directory under the native harness.
    pub fn new(config: &str, evidence: Evidence, root: PathBuf) -> Result<Self, String> {
        Self::with_files(config, evidence, root, false)
    }

    /// As the host's call gives it: in the sandbox, an empty file list is
    /// asked for when needed (the host leaves it empty for a plugin that
    /// said so during `describe`, as every plugin built with this SDK
    /// does).
    #[doc(hidden)]
    pub fn from_host(config: &str, evidence: Evidence, root: PathBuf) -> Result<Self, String> {
        Self::with_files(config, evidence, root, cfg!(target_arch = "wasm32"))
    }

    fn with_files(
        config: &str,
        mut evidence: Evidence,
        root: PathBuf,
        lazy: bool,
    ) -> Result<Self, String> {
        let config = if config.trim().is_empty() {
            serde_json::Value::Object(Default::default())
        } else {
            serde_json::from_str(config).map_err(|e| format!("config is not valid JSON: {e}"))?
        };
        let files = std::sync::OnceLock::new();
        let given = std::mem::take(&mut evidence.files);
        if !given.is_empty() || !lazy {
            let _ = files.set(given);
        }
        Ok(Context {
            config,
            evidence,
            whole: std::sync::OnceLock::new(),
            files,
            columns: std::sync::OnceLock::new(),
            to_read: std::sync::OnceLock::new(),
            root,
            changed: std::sync::OnceLock::new(),
            cargo: Default::default(),
            lines: std::sync::OnceLock::new(),
            metrics: None,
        })
    }

    /// As the host would answer `query-metrics` (the native harness; in the
    /// sandbox the host runs the queries).
    pub fn with_metrics(mut self, metrics: Option<NativeMetrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Run PromQL range queries through the host, against the server the
    /// policy grants this plugin (`[plugins.<id>.prometheus]`), over the
    /// run's analysis window; one result per query, in order. The host
    /// fails the evaluation when any query fails, whatever the plugin makes
    /// of it. `Err`: no server is granted, or more than 256 queries.
    pub fn query_metrics(
        &self,
        queries: &[crate::MetricsQuery],
    ) -> Result<crate::MetricsAnswer, String> {
        #[cfg(target_arch = "wasm32")]
        {
            crate::bindings::portcullis::plugin::host::query_metrics(queries)
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            let Some(m) = &self.metrics else {
                return Err(
                    "no metrics server is granted to this plugin: add [plugins.<id>.prometheus] to the policy"
                        .into(),
                );
            };
            let results = queries
                .iter()
                .map(|q| {
                    m.answers
                        .iter()
                        .find(|(a, _)| a.promql == q.promql && a.shift_seconds == q.shift_seconds)
                        .map(|(_, r)| r.clone())
                        .unwrap_or_else(|| Err(format!("no answer for `{}`", q.promql)))
                })
                .collect();
            Ok(crate::MetricsAnswer {
                window: m.window,
                results,
            })
        }
    }

    /// As the host would call the plugin with `changed` as its
    /// `changed-files` (the native harness; in the sandbox the host says).
    pub fn with_changed(self, changed: Option<Vec<String>>) -> Self {
        let _ = self.changed.set(changed.map(|c| c.into_iter().collect()));
        self
    }

    /// As the host would answer `changed-lines` with `lines` (the native
    /// harness; in the sandbox the host says).
    pub fn with_changed_lines(self, lines: Option<ChangedLines>) -> Self {
        let _ = self.lines.set(Ok(lines));
        self
    }

    /// The lines the change under review adds or modifies, per file, when
    /// the gate knows the change's base (`--changed-since`, a push,
    /// `--staged`, or a pull request's context naming its base); `None`
    /// otherwise. A file git does not track yet is one range ending at
    /// `u32::MAX`. Asked of the host once (it runs git the first time any
    /// plugin asks). An error means git failed or the base is not in the
    /// clone: fail the evaluation when the new lines are required.
    pub fn changed_lines(&self) -> Result<Option<&ChangedLines>, String> {
        let answer = self.lines.get_or_init(|| {
            #[cfg(target_arch = "wasm32")]
            {
                crate::bindings::portcullis::plugin::host::changed_lines().map(|files| {
                    files.map(|files| files.into_iter().map(|f| (f.path, f.ranges)).collect())
                })
            }
            #[cfg(not(target_arch = "wasm32"))]
            {
                Ok(None)
            }
        });
        match answer {
            Ok(lines) => Ok(lines.as_ref()),
            Err(e) => Err(format!("the changed lines: {e}")),
        }
    }

    /// The files the change under review adds or modifies, when the gate
    /// counts findings only in those (`--changed-since`, a push,
    /// `--staged`); `None` when every file counts. A rule about each file's
    /// content reads only these ([`Context::is_changed`]); a rule about the
    /// whole tree still uses [`Context::files`].
    pub fn changed_files(&self) -> Option<&HashSet<String>> {
        self.changed
            .get_or_init(|| {
                #[cfg(target_arch = "wasm32")]
                {
                    crate::bindings::portcullis::plugin::host::changed_files()
                        .map(|c| c.into_iter().collect())
                }
                #[cfg(not(target_arch = "wasm32"))]
                {
                    None
                }
            })
            .as_ref()
    }

    /// Whether a content rule needs to read `path`: it changed, or every
    /// file counts.
    pub fn is_changed(&self, path: &str) -> bool {
        self.changed_files().is_none_or(|c| c.contains(path))
    }

    /// The plugin's `config` table, deserialized. Use
    /// `#[serde(deny_unknown_fields)]` so a misspelt key is an error. An
    /// error names the key it is about (`config.benchmarks[0].format: …`),
    /// which the host turns into the policy's file and line.
    pub fn config<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_path_to_error::deserialize(self.config.clone()).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            match path.as_str() {
                "." => format!("config: {inner}"),
                _ => format!("config.{path}: {inner}"),
            }
        })
    }

    pub fn raw_config(&self) -> &serde_json::Value {
        &self.config
    }

    /// The evidence, its file list included (asked of the host the first
    /// time; [`Context::files`], [`Context::reports`] and
    /// [`Context::mounts`] give one part without the rest).
    pub fn evidence(&self) -> &Evidence {
        self.whole.get_or_init(|| Evidence {
            files: self.files().to_vec(),
            ..self.evidence.clone()
        })
    }

    /// The policy's mounts for this plugin.
    pub fn mounts(&self) -> &[crate::Mount] {
        &self.evidence.mounts
    }

    /// The repository's file list, sorted by path (for a plugin that reads
    /// `files`).
    pub fn files(&self) -> &[FileEntry] {
        self.files.get_or_init(|| {
            #[cfg(target_arch = "wasm32")]
            {
                from_columns(self.whole_columns())
            }
            #[cfg(not(target_arch = "wasm32"))]
            {
                Vec::new()
            }
        })
    }

    /// Every path of [`Context::files`], in its order, without an entry
    /// (and a string) made for each: for rules that need only the names of
    /// the whole tree, such as case collisions, where the tree is large
    /// and the change small.
    pub fn paths(&self) -> Paths<'_> {
        if let Some(files) = self.files.get() {
            return Paths::entries(files);
        }
        #[cfg(target_arch = "wasm32")]
        {
            let columns = self.whole_columns();
            Paths {
                left: columns.sizes.len(),
                inner: PathsInner::Column(columns.paths.split_terminator('\0')),
            }
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            Paths::entries(self.files())
        }
    }

    /// The host's whole file list, checked once.
    #[cfg(target_arch = "wasm32")]
    fn whole_columns(&self) -> &FileColumns {
        self.columns.get_or_init(|| {
            let columns = crate::bindings::portcullis::plugin::host::file_list(false);
            check_columns(&columns);
            columns
        })
    }

    /// The entries a rule about each file's content reads: those of the
    /// changed files when the gate counts findings only there
    /// ([`Context::changed_files`]), else every file. Without the whole
    /// list, only these entries are asked of the host.
    pub fn files_to_read(&self) -> Vec<&FileEntry> {
        let Some(changed) = self.changed_files() else {
            return self.files().iter().collect();
        };
        if let Some(all) = self.files.get() {
            // The list is sorted (the host sorts it): each changed path is
            // looked up rather than every path hashed.
            if all.is_sorted_by(|a, b| a.path <= b.path) {
                let mut found: Vec<&FileEntry> = changed
                    .iter()
                    .filter_map(|p| {
                        all.binary_search_by(|f| f.path.as_str().cmp(p))
                            .ok()
                            .map(|i| &all[i])
                    })
                    .collect();
                found.sort_by(|a, b| a.path.cmp(&b.path));
                return found;
            }
            return all.iter().filter(|f| changed.contains(&f.path)).collect();
        }
        self.to_read
            .get_or_init(|| {
                #[cfg(target_arch = "wasm32")]
                {
                    from_columns(&crate::bindings::portcullis::plugin::host::file_list(true))
                }
                #[cfg(not(target_arch = "wasm32"))]
                {
                    Vec::new()
                }
            })
            .iter()
            .collect()
    }

    pub fn reports(&self) -> &[Report] {
        &self.evidence.reports
    }

    /// The `cargo-metadata` evidence, for a plugin that lists it in its
    /// `reads`.
    pub fn cargo_metadata(&self) -> Option<&str> {
        self.evidence.cargo_metadata.as_deref()
    }

    /// `cargo metadata` asked of the host when the plugin needs it (the
    /// contract's `cargo-metadata`), for a plugin that does not list it in
    /// its `reads`: with `dependencies` every package the lockfile names
    /// (slow: cargo resolves them all), else the workspace's own packages
    /// (`--no-deps`: fast). `Ok(None)`: no root Cargo.toml. The evidence,
    /// when the plugin reads it, answers first; under the native harness
    /// it is all there is.
    pub fn cargo_metadata_on_demand(&self, dependencies: bool) -> Result<Option<&str>, String> {
        if let Some(json) = self.cargo_metadata() {
            return Ok(Some(json));
        }
        let answer = self.cargo[usize::from(dependencies)]
            .get_or_init(|| crate::cargo_metadata(dependencies));
        match answer {
            Ok(json) => Ok(json.as_deref()),
            Err(e) => Err(format!("cargo metadata: {e}")),
        }
    }

    /// The directory the policy mounts as `name`, when it exists: readable at
    /// `/mnt/<name>` in the sandbox (natively, at its host path). `None`
    /// when the policy has no such mount; `Some((path, false))` when the
    /// mount's host path does not exist.
    pub fn mount(&self, name: &str) -> Option<(PathBuf, &crate::Mount)> {
        let m = self.evidence.mounts.iter().find(|m| m.name == name)?;
        #[cfg(target_arch = "wasm32")]
        let path = Path::new(crate::MOUNT_ROOT).join(name);
        #[cfg(not(target_arch = "wasm32"))]
        let path = PathBuf::from(&m.host_path);
        Some((path, m))
    }

    /// Where a path from the plugin's config is read: a repository-relative
    /// path (no `..`, not absolute), or `/mnt/<name>/…` under one of the
    /// policy's mounts. The error names the problem (unknown or absent
    /// mount, a path leaving the repository).
    pub fn locate(&self, path: &str) -> Result<PathBuf, String> {
        if let Some(rest) = path
            .strip_prefix(crate::MOUNT_ROOT)
            .and_then(|r| r.strip_prefix('/'))
        {
            let (name, inner) = rest.split_once('/').unwrap_or((rest, ""));
            let Some((dir, m)) = self.mount(name) else {
                return Err(format!(
                    "`{path}`: the policy mounts nothing as `{name}` (add it under [plugins.<id>.mounts])"
                ));
            };
            if !m.present {
                return Err(format!(
                    "`{path}`: mount `{name}` ({}) does not exist",
                    m.host_path
                ));
            }
            if Path::new(inner)
                .components()
                .any(|c| !matches!(c, std::path::Component::Normal(_)))
            {
                return Err(format!("`{path}`: must not contain `..`"));
            }
            return Ok(if inner.is_empty() {
                dir
            } else {
                dir.join(inner)
            });
        }
        let p = Path::new(path);
        if p.is_absolute()
            || p.components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(format!(
                "`{path}`: must be repository-relative without `..`, or under a mount (/mnt/<name>/…)"
            ));
        }
        Ok(self.path(path))
    }

    /// The repository's absolute path on the host (not readable here).
    pub fn host_root(&self) -> &str {
        &self.evidence.host_root
    }

    /// Where a repository-relative path is read from.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn open(&self, rel: &str) -> io::Result<File> {
        File::open(self.path(rel))
    }

    pub fn read(&self, rel: &str) -> io::Result<Vec<u8>> {
        std::fs::read(self.path(rel))
    }

    pub fn read_to_string(&self, rel: &str) -> io::Result<String> {
        std::fs::read_to_string(self.path(rel))
    }

    /// Read many repository files at once. In the sandbox the host reads
    /// them in parallel in one call (much faster than one `read` per file);
    /// natively they are read from the fixture root. One result per path.
    /// Keep a batch under 64 MiB in total (see [`Context::batches`]).
    pub fn read_many(&self, paths: &[String]) -> Vec<Result<Vec<u8>, String>> {
        #[cfg(target_arch = "wasm32")]
        {
            crate::bindings::portcullis::plugin::host::read_files(paths)
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            paths
                .iter()
                .map(|p| self.read(p).map_err(|e| e.to_string()))
                .collect()
        }
    }

    /// The BLAKE3 digest of each repository file's content (64 hex digits),
    /// one result per path: in the sandbox the host reads and hashes them
    /// in one call, copying nothing in (the contract's `file-digests`);
    /// natively they are hashed from the fixture root. Equal digests mean
    /// equal content: see [`crate::memo`].
    pub fn digests(&self, paths: &[String]) -> Vec<Result<String, String>> {
        #[cfg(target_arch = "wasm32")]
        {
            crate::bindings::portcullis::plugin::host::file_digests(paths)
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            paths
                .iter()
                .map(|p| {
                    self.read(p)
                        .map(|b| blake3::hash(&b).to_hex().to_string())
                        .map_err(|e| e.to_string())
                })
                .collect()
        }
    }

    /// The host's key for its cached `cargo metadata` with dependencies
    /// (the contract's `cargo-metadata-key`): what the plugin derives from
    /// the metadata may be kept under it; `None`: keep nothing. Natively,
    /// the digest of the fixture root's path, the harness's metadata and
    /// the listed `Cargo.toml` and `Cargo.lock` files, when the root has
    /// both.
    pub fn cargo_metadata_key(&self) -> Option<String> {
        #[cfg(target_arch = "wasm32")]
        {
            crate::cargo_metadata_key()
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            if !self.path("Cargo.toml").is_file() || !self.path("Cargo.lock").is_file() {
                return None;
            }
            let mut h = blake3::Hasher::new();
            h.update(self.evidence.host_root.as_bytes());
            // The harness's metadata stands for what cargo would print.
            h.update(
                self.evidence
                    .cargo_metadata
                    .as_deref()
                    .unwrap_or("")
                    .as_bytes(),
            );
            for f in self.files() {
                let name = f.path.rsplit('/').next().unwrap_or(&f.path);
                if matches!(name, "Cargo.toml" | "Cargo.lock") {
                    h.update(f.path.as_bytes());
                    h.update(&self.read(&f.path).ok()?);
                }
            }
            Some(h.finalize().to_hex().to_string())
        }
    }

    /// The plugin's `config` table as JSON text, keys in order: what its
    /// results depend on besides the evidence (for [`crate::memo`]).
    pub fn config_json(&self) -> String {
        self.config.to_string()
    }

    /// The error for a repository file [`Context::read_many`] could not
    /// read. When the host refused it for want of a read grant, the message
    /// says which grant `plugin` needs; for any other reason (a symlink, a
    /// file that changed while read) it is the host's reason alone, since a
    /// hint to add a grant the policy already has would mislead.
    pub fn cannot_read(plugin: &str, path: &str, error: &str) -> String {
        if error.contains("outside the policy's read grants") {
            format!(
                "cannot read {path}: {error} (the {plugin} plugin needs `read = [\".\"]` in its policy table)"
            )
        } else {
            format!("cannot read {path}: {error}")
        }
    }

    /// Split files into batches for [`Context::read_many`]: at most
    /// `max_bytes` (by listed size) and 4096 files each.
    pub fn batches<'a>(&self, files: &[&'a FileEntry], max_bytes: u64) -> Vec<Vec<&'a FileEntry>> {
        let mut out: Vec<Vec<&FileEntry>> = Vec::new();
        let mut size = 0;
        for f in files {
            let full = out
                .last()
                .is_none_or(|b| b.len() >= 4096 || size + f.size > max_bytes);
            if full {
                out.push(Vec::new());
                size = 0;
            }
            size += f.size;
            if let Some(b) = out.last_mut() {
                b.push(f);
            }
        }
        out
    }

    /// Make a path found in a report repository-relative: strips the host
    /// root from absolute paths and a leading `./`, and normalises `\` to
    /// `/`. Returns `None` for paths outside the repository.
    pub fn repo_relative(&self, path: &str) -> Option<String> {
        crate::text::repo_relative(Path::new(&self.evidence.host_root), path)
    }
}

/// Compile the globs of a config key (`exclude`, `allow-paths`, …) into one
/// set; a bad glob is an error naming the key and the glob.
pub fn globset(key: &str, globs: &[String]) -> Result<globset::GlobSet, String> {
    let mut b = globset::GlobSetBuilder::new();
    for g in globs {
        b.add(globset::Glob::new(g).map_err(|e| format!("config.{key}: bad glob `{g}`: {e}"))?);
    }
    b.build().map_err(|e| format!("config.{key}: {e}"))
}

type FileColumns = crate::bindings::portcullis::plugin::types::FileColumns;

/// The paths of a file list ([`Context::paths`]).
pub struct Paths<'a> {
    inner: PathsInner<'a>,
    left: usize,
}

enum PathsInner<'a> {
    Entries(std::slice::Iter<'a, FileEntry>),
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    Column(std::str::SplitTerminator<'a, char>),
}

impl<'a> Paths<'a> {
    fn entries(files: &'a [FileEntry]) -> Self {
        Paths {
            left: files.len(),
            inner: PathsInner::Entries(files.iter()),
        }
    }
}

impl<'a> Iterator for Paths<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let next = match &mut self.inner {
            PathsInner::Entries(files) => files.next().map(|f| f.path.as_str()),
            PathsInner::Column(paths) => paths.next(),
        };
        self.left = self.left.saturating_sub(1);
        next
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.left, Some(self.left))
    }
}

impl ExactSizeIterator for Paths<'_> {}

/// How many entries the contract's columns (`file-list`) hold. Columns
/// that do not line up are the host's fault: stop (the host fails the
/// plugin) rather than judge a list that is not the tree's.
#[cfg_attr(not(any(test, target_arch = "wasm32")), allow(dead_code))]
fn check_columns(columns: &FileColumns) -> usize {
    let count = columns.paths.bytes().filter(|b| *b == 0).count();
    let symlinks = columns
        .kinds
        .iter()
        .filter(|k| matches!(k, crate::FileKind::Symlink))
        .count();
    assert!(
        columns.sizes.len() == count
            && columns.kinds.len() == count
            && columns.links.len() == symlinks
            && (columns.paths.is_empty() || columns.paths.ends_with('\0')),
        "the host's file-list columns do not line up"
    );
    count
}

/// The file list from the contract's columns (`file-list`).
#[cfg_attr(not(any(test, target_arch = "wasm32")), allow(dead_code))]
fn from_columns(columns: &FileColumns) -> Vec<FileEntry> {
    let count = check_columns(columns);
    let mut links = columns.links.iter();
    // Sized up front: the paths' iterator cannot say how many there are,
    // and growing a list of 100 000 entries copies it again and again.
    let mut out = Vec::with_capacity(count);
    out.extend(
        columns
            .paths
            .split_terminator('\0')
            .zip(&columns.sizes)
            .zip(&columns.kinds)
            .map(|((path, size), kind)| {
                let (link_target, link_resolves) = match kind {
                    crate::FileKind::Symlink => match links.next() {
                        Some((target, resolves)) if !target.is_empty() => {
                            (Some(target.clone()), *resolves)
                        }
                        _ => (None, false),
                    },
                    crate::FileKind::File => (None, false),
                };
                FileEntry {
                    path: path.to_string(),
                    size: *size,
                    kind: *kind,
                    link_target,
                    link_resolves,
                }
            }),
    );
    out
}

#[cfg(test)]
mod read_hint_tests {
    use super::Context;

    /// The grant hint only when the host refused the read for want of a
    /// grant: a policy that has `read = ["."]` is not told to add it.
    #[test]
    fn the_grant_hint_is_given_only_when_a_grant_is_missing() {
        assert_eq!(
            Context::cannot_read(
                "lint",
                "a.json",
                "not readable: outside the policy's read grants"
            ),
            "cannot read a.json: not readable: outside the policy's read grants (the lint plugin needs `read = [\".\"]` in its policy table)"
        );
        assert_eq!(
            Context::cannot_read("lint", "a.json", "not readable: a symlink"),
            "cannot read a.json: not readable: a symlink"
        );
        assert_eq!(
            Context::cannot_read("secrets", "a.json", "Too many open files"),
            "cannot read a.json: Too many open files"
        );
    }
}

#[cfg(test)]
mod column_tests {
    use super::*;
    use crate::FileKind;

    #[test]
    fn columns_become_the_entries_they_list() {
        let columns = crate::bindings::portcullis::plugin::types::FileColumns {
            paths: "a.txt\0dir/link\0dir/z\0up\0".into(),
            sizes: vec![5, 9, 0, 2],
            kinds: vec![
                FileKind::File,
                FileKind::Symlink,
                FileKind::File,
                FileKind::Symlink,
            ],
            links: vec![("../a.txt".into(), true), ("../../out".into(), false)],
        };
        let entries = from_columns(&columns);
        let shown: Vec<(&str, u64, Option<&str>, bool)> = entries
            .iter()
            .map(|f| {
                (
                    f.path.as_str(),
                    f.size,
                    f.link_target.as_deref(),
                    f.link_resolves,
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                ("a.txt", 5, None, false),
                ("dir/link", 9, Some("../a.txt"), true),
                ("dir/z", 0, None, false),
                ("up", 2, Some("../../out"), false),
            ]
        );
        assert!(
            from_columns(&crate::bindings::portcullis::plugin::types::FileColumns {
                paths: String::new(),
                sizes: Vec::new(),
                kinds: Vec::new(),
                links: Vec::new(),
            })
            .is_empty()
        );
    }

    fn entry(path: &str) -> FileEntry {
        FileEntry {
            path: path.into(),
            size: 1,
            kind: FileKind::File,
            link_target: None,
            link_resolves: false,
        }
    }

    fn context(paths: &[&str], changed: Option<&[&str]>) -> Context {
        let evidence = crate::Evidence {
            root: "/repo".into(),
            host_root: "/h".into(),
            files: paths.iter().map(|p| entry(p)).collect(),
            cargo_metadata: None,
            reports: Vec::new(),
            mounts: Vec::new(),
        };
        Context::new("{}", evidence, PathBuf::from("/repo"))
            .expect("context")
            .with_changed(changed.map(|c| c.iter().map(|p| p.to_string()).collect()))
    }

    #[test]
    fn the_files_to_read_are_the_changed_ones_that_are_listed() {
        let read = |ctx: &Context| -> Vec<String> {
            ctx.files_to_read().iter().map(|f| f.path.clone()).collect()
        };
        let all = ["a", "b/c", "b/d", "e"];
        assert_eq!(read(&context(&all, None)), all);
        // Gone or a directory: not listed, not read.
        let changed = ["e", "b/c", "gone", "b"];
        assert_eq!(read(&context(&all, Some(&changed))), ["b/c", "e"]);
        // A list out of order is filtered rather than searched.
        let unsorted = ["e", "b/d", "a", "b/c"];
        assert_eq!(read(&context(&unsorted, Some(&changed))), ["e", "b/c"]);
        assert!(read(&context(&all, Some(&[]))).is_empty());
        // The evidence still has the whole list.
        assert_eq!(context(&all, None).evidence().files.len(), 4);
    }
}
