//! The host side of the contract: `log`, `read-files` (bounded, within
//! the grants) and the plugin's persistent store, and the store's state.

use std::path::{Path, PathBuf};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::portcullis::plugin::{host, types as wit};
use super::limiter::Limiter;
use super::{Limits, LogLine, cache};
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
}

/// The repository and the granted directories (canonical host paths).
pub(super) struct FileAccess {
    pub(super) root: PathBuf,
    /// Canonical host paths of the granted directories.
    pub(super) mounts: Vec<PathBuf>,
    /// The grants as repository-relative paths (`.` = all).
    pub(super) grants: Vec<String>,
    /// Regular files from the walk, with sizes. The walk never descends
    /// into symlinks, so these paths have no symlink in them and need no
    /// canonicalisation.
    pub(super) listed: std::collections::HashMap<String, u64>,
}

/// Read a file whose size the walk reported, without a second `stat`; a
/// file that grew far past that size while being read is an error.
fn read_file(path: &Path, expected: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let cap = expected
        .saturating_mul(2)
        .saturating_add(4096)
        .min(READ_BATCH_BYTES);
    let mut buf = Vec::with_capacity(expected as usize + 1);
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

impl FileAccess {
    /// Resolve a repository-relative path to a granted regular file.
    fn resolve(&self, rel: &str) -> Result<(PathBuf, u64), String> {
        if !crate::finding::is_repo_relative(rel) {
            return Err(format!(
                "`{}` is not a repository-relative path",
                rel.escape_debug()
            ));
        }
        if let Some(&size) = self.listed.get(rel)
            && self.grants.iter().any(|g| {
                g == "."
                    || rel
                        .strip_prefix(g.as_str())
                        .is_some_and(|r| r.starts_with('/'))
            })
        {
            return Ok((self.root.join(rel), size));
        }
        let real = self
            .root
            .join(rel)
            .canonicalize()
            .map_err(|e| e.to_string())?;
        if !self.mounts.iter().any(|m| real.starts_with(m)) {
            return Err("not readable: outside the policy's read grants".into());
        }
        let meta = std::fs::metadata(&real).map_err(|e| e.to_string())?;
        if !meta.is_file() {
            return Err("not a regular file".into());
        }
        Ok((real, meta.len()))
    }

    fn read_all(&self, paths: &[String]) -> Vec<Result<Vec<u8>, String>> {
        let mut budget = READ_BATCH_BYTES;
        let planned: Vec<Result<(PathBuf, u64), String>> = paths
            .iter()
            .map(|p| {
                let (real, len) = self.resolve(p)?;
                if len > budget {
                    return Err(format!(
                        "over the {} MiB per-call read budget",
                        READ_BATCH_BYTES >> 20
                    ));
                }
                budget -= len;
                Ok((real, len))
            })
            .collect();
        let jobs = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(planned.len().max(1));
        let chunk = planned.len().div_ceil(jobs).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = planned
                .chunks(chunk)
                .map(|part| {
                    s.spawn(move || {
                        part.iter()
                            .map(|p| match p {
                                Ok((real, len)) => read_file(real, *len),
                                Err(e) => Err(e.clone()),
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap_or_default())
                .collect()
        })
    }
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
