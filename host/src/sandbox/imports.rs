//! The host side of the contract: `log`, `read-files` (bounded, within
//! the grants) and the plugin's persistent store, and the store's state.

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::portcullis::plugin::{host, types as wit};
use super::limiter::Limiter;
use super::{Limits, LogLine, cache};
use crate::beneath;
use crate::diag::one_line;

pub(super) struct State {
    pub(super) wasi: WasiCtx,
    pub(super) table: ResourceTable,
    pub(super) limiter: Limiter,
    pub(super) logs: Vec<LogLine>,
    pub(super) log_bytes: usize,
    pub(super) logs_dropped: usize,
    pub(super) limits: Limits,
    /// What `read-files` may read (`None` during `describe`).
    pub(super) access: Option<FileAccess>,
    /// The plugin's persistent store, when the cache is on.
    pub(super) data: Option<cache::PluginData>,
    /// Time in host calls that does not count against the deadline.
    pub(super) pause: std::sync::Arc<super::call::Pause>,
    /// Whether the plugin called `file-list` during `describe`: it asks
    /// for the file list when it needs it.
    pub(super) asks_for_files: bool,
}

/// What `read-files` may read: the repository, held open, and the grants.
pub(super) struct FileAccess {
    /// The repository's root directory, opened once by the host.
    pub(super) root: std::os::fd::OwnedFd,
    /// Its canonical path.
    pub(super) root_path: std::path::PathBuf,
    /// The grants as repository-relative paths (`.` = all).
    pub(super) grants: Vec<String>,
    /// The walk's files, sorted by path: a read of a regular file is
    /// bounded by the size the walk saw.
    pub(super) listed: std::sync::Arc<Vec<crate::evidence::FileEntry>>,
    /// The granted directories, held open while the call runs (their
    /// preopens name these descriptors).
    pub(super) _held: Vec<std::os::fd::OwnedFd>,
    /// Whether the plugin reads `files`: `file-list` answers only then.
    pub(super) lists_files: bool,
    /// What `changed-files` answers.
    pub(super) changed: Option<Vec<String>>,
    /// What `cargo-metadata` answers.
    pub(super) cargo: std::sync::Arc<crate::evidence::cargo_metadata::OnDemand>,
    /// What `changed-lines` answers.
    pub(super) lines: std::sync::Arc<crate::evidence::changed_lines::OnDemand>,
    /// Where `query-metrics` runs queries, when the policy grants a server.
    pub(super) metrics: Option<std::sync::Arc<crate::evidence::metrics::Session>>,
    /// Digests `file-digests` computed in this run, shared by the plugins.
    pub(super) digests: std::sync::Arc<crate::evidence::Digests>,
}

/// Read an opened file whose size is known, bounded: a file that grew far
/// past that size while being read is an error.
fn read_file(file: std::fs::File, expected: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let cap = expected
        .saturating_mul(2)
        .saturating_add(4096)
        .min(READ_BATCH_BYTES);
    let mut buf = Vec::with_capacity(expected.min(cap) as usize + 1);
    file.take(cap + 1)
        .read_to_end(&mut buf)
        .map_err(|e| e.to_string())?;
    if buf.len() as u64 > cap {
        return Err(format!("grew past {cap} bytes while being read"));
    }
    Ok(buf)
}

/// Total bytes one `read-files` call returns.
const READ_BATCH_BYTES: u64 = 64 << 20;

/// Total bytes one `file-digests` call hashes (by the walk's sizes).
const DIGEST_BATCH_BYTES: u64 = 1 << 30;

impl FileAccess {
    /// Open a repository-relative path under a grant: no symlink at any
    /// component, never under `.git`, a regular file. Returns the file and
    /// the size the read is bounded by (the walk's, for a listed file).
    fn open(
        &self,
        walker: &mut beneath::Walker<'_>,
        rel: &str,
    ) -> Result<(std::fs::File, u64), String> {
        if !crate::finding::is_repo_relative(rel) {
            return Err(format!(
                "`{}` is not a repository-relative path",
                rel.escape_debug()
            ));
        }
        let granted = self.grants.iter().any(|g| {
            g == "."
                || rel
                    .strip_prefix(g.as_str())
                    .is_some_and(|r| r.starts_with('/'))
        });
        if !granted {
            return Err("not readable: outside the policy's read grants".into());
        }
        let parts = beneath::components(rel, true).map_err(|e| e.to_string())?;
        let file = walker.open(&parts).map_err(|e| e.to_string())?;
        let meta = file.metadata().map_err(|e| e.to_string())?;
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        let size = self.listed_size(rel).unwrap_or(meta.len());
        Ok((file, size))
    }

    /// The walk's entry for `rel`.
    fn listed_entry(&self, rel: &str) -> Option<&crate::evidence::FileEntry> {
        let i = self
            .listed
            .binary_search_by(|f| f.path.as_str().cmp(rel))
            .ok()?;
        self.listed.get(i)
    }

    /// The size the walk saw for a listed regular file.
    fn listed_size(&self, rel: &str) -> Option<u64> {
        self.listed_entry(rel)
            .filter(|f| f.kind == crate::evidence::FileKind::File)
            .map(|f| f.size)
    }

    /// Each path's size, planned before anything is read (the walk's size
    /// for a listed file), against a per-call `budget`: a path past it
    /// gets an error naming `what`, so which one does not depend on timing.
    fn plan(&self, paths: &[String], budget: u64, what: &str) -> Vec<Result<u64, String>> {
        use std::os::fd::AsFd;
        let mut left = budget;
        let mut walker = beneath::Walker::new(self.root.as_fd());
        paths
            .iter()
            .map(|p| {
                let len = match self.listed_size(p) {
                    Some(len) => len,
                    None => self.open(&mut walker, p)?.1,
                };
                if len > left {
                    return Err(format!(
                        "over the {} MiB per-call {what} budget",
                        budget >> 20
                    ));
                }
                left -= len;
                Ok(len)
            })
            .collect()
    }

    /// Read `paths`, in parallel, within the per-call budget (see
    /// [`FileAccess::plan`]); each file is then opened again and read,
    /// bounded by its planned size.
    fn read_all(&self, paths: &[String]) -> Vec<Result<Vec<u8>, String>> {
        let planned = self.plan(paths, READ_BATCH_BYTES, "read");
        self.each_file(paths, &planned, |_, file, _, len| read_file(file, len))
    }

    /// The BLAKE3 digest of each of `paths`, in parallel, under the same
    /// rules as [`FileAccess::read_all`] with a larger budget (nothing is
    /// copied into the sandbox): a path past it gets an error.
    fn digest_all(&self, paths: &[String]) -> Vec<Result<String, String>> {
        let planned = self.plan(paths, DIGEST_BATCH_BYTES, "digest");
        self.each_file(paths, &planned, |path, file, size, _| {
            // Opened above, under this plugin's grants, whoever hashed it;
            // the digest of an unchanged file is shared.
            let stamp = file.metadata().ok().and_then(|m| crate::files::stamp(&m));
            if let Some(stamp) = &stamp
                && let Some(digest) = self.digests.get(path, stamp)
            {
                return Ok(digest);
            }
            let digest = digest_file(file, size)?;
            if let Some(stamp) = stamp {
                self.digests.insert(path, stamp, &digest);
            }
            Ok(digest)
        })
    }

    /// `each` on every path whose plan is `Ok`, opened under the grants
    /// with the size its read is bounded by and its planned size, over the
    /// cores; one result per path, in order.
    fn each_file<T: Send>(
        &self,
        paths: &[String],
        planned: &[Result<u64, String>],
        each: impl Fn(&str, std::fs::File, u64, u64) -> Result<T, String> + Sync,
    ) -> Vec<Result<T, String>> {
        use std::os::fd::AsFd;
        let jobs = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(planned.len().max(1));
        let chunk = planned.len().div_ceil(jobs).max(1);
        let work: Vec<(&String, &Result<u64, String>)> = paths.iter().zip(planned).collect();
        let do_part = |part: &[(&String, &Result<u64, String>)]| {
            let mut walker = beneath::Walker::new(self.root.as_fd());
            part.iter()
                .map(|(path, plan)| match plan {
                    Ok(plan) => {
                        let (file, size) = self.open(&mut walker, path)?;
                        each(path, file, size, *plan)
                    }
                    Err(e) => Err(e.clone()),
                })
                .collect::<Vec<_>>()
        };
        if jobs == 1 {
            return do_part(&work);
        }
        std::thread::scope(|s| {
            // A part whose thread the system will not create is done here.
            let handles: Vec<_> = work
                .chunks(chunk)
                .map(|part| {
                    std::thread::Builder::new()
                        .spawn_scoped(s, move || do_part(part))
                        .map_err(|_| part)
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| match h {
                    Ok(h) => h.join().unwrap_or_default(),
                    Err(part) => do_part(part),
                })
                .collect()
        })
    }
}

/// The BLAKE3 digest of an opened file, read to its end but bounded as
/// [`read_file`] bounds a read (a file growing while read is an error).
fn digest_file(file: std::fs::File, expected: u64) -> Result<String, String> {
    use std::io::Read;
    let cap = expected.saturating_mul(2).saturating_add(4096);
    let mut hasher = blake3::Hasher::new();
    let mut bounded = file.take(cap + 1);
    hasher
        .update_reader(&mut bounded)
        .map_err(|e| e.to_string())?;
    if hasher.count() > cap {
        return Err(format!("grew past {cap} bytes while being read"));
    }
    Ok(hasher.finalize().to_hex().to_string())
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl host::Host for State {
    fn log(&mut self, level: host::LogLevel, message: String) {
        let message = one_line(&message, 1_000);
        if self.logs.len() >= self.limits.max_log_lines
            || self.log_bytes + message.len() > self.limits.max_log_bytes
        {
            self.logs_dropped += 1;
            return;
        }
        self.log_bytes += message.len();
        let level = match level {
            host::LogLevel::Debug => "debug",
            host::LogLevel::Info => "info",
            host::LogLevel::Warn => "warn",
        };
        self.logs.push(LogLine { level, message });
    }

    fn read_files(&mut self, paths: Vec<String>) -> Vec<Result<Vec<u8>, String>> {
        match &self.access {
            Some(access) => access.read_all(&paths),
            None => paths
                .iter()
                .map(|_| Err("files cannot be read during describe".to_string()))
                .collect(),
        }
    }

    fn file_digests(&mut self, paths: Vec<String>) -> Vec<Result<String, String>> {
        match &self.access {
            Some(access) => access.digest_all(&paths),
            None => paths
                .iter()
                .map(|_| Err("files cannot be read during describe".to_string()))
                .collect(),
        }
    }

    fn file_list(&mut self, changed_only: bool) -> wit::FileColumns {
        let none = std::iter::empty();
        let Some(access) = &self.access else {
            // During `describe`: the plugin says it will ask.
            self.asks_for_files = true;
            return super::convert::to_wit_columns(none);
        };
        if !access.lists_files {
            return super::convert::to_wit_columns(none);
        }
        match (&access.changed, changed_only) {
            (Some(changed), true) => super::convert::to_wit_columns(
                changed.iter().filter_map(|p| access.listed_entry(p)),
            ),
            _ => super::convert::to_wit_columns(access.listed.iter()),
        }
    }

    fn changed_files(&mut self) -> Option<Vec<String>> {
        self.access.as_ref().and_then(|a| a.changed.clone())
    }

    fn cargo_metadata(&mut self, dependencies: bool) -> Result<Option<String>, String> {
        let Some(access) = &self.access else {
            return Err("cargo metadata cannot be asked for during describe".into());
        };
        let cargo = access.cargo.clone();
        match cargo.ready(dependencies) {
            Some(answer) => answer,
            // Running cargo, or waiting for the plugin that does.
            None => self.pause.during(|| cargo.get(dependencies)),
        }
    }

    fn cargo_metadata_key(&mut self) -> Option<String> {
        self.access.as_ref().and_then(|a| a.cargo.key())
    }

    fn changed_lines(&mut self) -> Result<Option<Vec<host::FileLines>>, String> {
        let Some(access) = &self.access else {
            return Err("the changed lines cannot be asked for during describe".into());
        };
        let lines = access.lines.clone();
        let answer = match lines.ready() {
            Some(answer) => answer,
            // Running git, or waiting for the plugin that does.
            None => self.pause.during(|| lines.get()),
        }?;
        Ok(answer.map(|files| {
            files
                .into_iter()
                .map(|(path, ranges)| host::FileLines { path, ranges })
                .collect()
        }))
    }

    fn query_metrics(
        &mut self,
        queries: Vec<host::MetricsQuery>,
    ) -> Result<host::MetricsAnswer, String> {
        use crate::evidence::metrics::{MAX_QUERIES, Query};
        let Some(access) = &self.access else {
            return Err("metrics cannot be asked for during describe".into());
        };
        let Some(session) = access.metrics.clone() else {
            return Err(
                "no metrics server is granted to this plugin: add [plugins.<id>.prometheus] to the policy"
                    .into(),
            );
        };
        if queries.len() > MAX_QUERIES {
            return Err(format!(
                "{} queries in one call (at most {MAX_QUERIES})",
                queries.len()
            ));
        }
        let queries: Vec<Query> = queries
            .into_iter()
            .map(|q| Query {
                promql: q.promql,
                shift_seconds: q.shift_seconds,
            })
            .collect();
        // Waiting for the server does not count against the deadline.
        let results = self.pause.during(|| session.run(&queries));
        let window = session.window();
        Ok(host::MetricsAnswer {
            window: host::MetricsWindow {
                start: window.start,
                end: window.end,
                step: window.step_ms,
            },
            results: results
                .into_iter()
                .map(|r| {
                    r.map(|series| {
                        series
                            .into_iter()
                            .map(|s| host::MetricSeries {
                                labels: s.labels,
                                samples: s.samples,
                            })
                            .collect()
                    })
                })
                .collect(),
        })
    }

    fn cache_enabled(&mut self) -> bool {
        self.data.is_some()
    }

    fn cache_get(&mut self, key: String) -> Option<Vec<u8>> {
        self.data.as_ref()?.get(&key)
    }

    fn cache_put(&mut self, key: String, value: Vec<u8>) {
        if let Some(data) = &mut self.data {
            data.put(&key, &value);
        }
    }
}

impl wit::Host for State {}
