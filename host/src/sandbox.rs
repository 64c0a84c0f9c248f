//! The sandbox: the only module that touches wasmtime.
//!
//! One [`Engine`] and one [`Linker`] per process; one [`Store`] per plugin
//! call. Every store gets:
//! - a wall-clock deadline through epoch interruption (a ticker thread bumps
//!   the epoch every [`TICK`]; at each tick the store compares the clock
//!   with its deadline, and a call returning after it fails);
//! - a memory cap over all of the instance's memories and tables together
//!   (a [`ResourceLimiter`]), plus caps on tables and instances;
//! - no environment, no arguments, no stdin, no network (TCP, UDP and name
//!   lookup off); stdout and stderr captured into capped buffers that go to
//!   the host log;
//! - read-only preopens of the directories the policy grants, under `/repo`.
//!
//! Any trap, timeout, limit or malformed result becomes a [`PluginFailure`]
//! with a one-line reason, and the gate fails closed.
//!
//! Modules: [`call`] runs one call (worker threads, watchdog, the store);
//! `imports` is the host side of the contract (log, file reads, the plugin
//! store); `limiter` caps memory; `grants` turns read grants and mounts into
//! preopens; `convert` maps between WIT records and the host's types;
//! `cache` keeps compiled components; `pipe` captures stdio.

mod cache;
mod call;
pub mod compile;
mod convert;
mod grants;
mod imports;
mod limiter;
mod open_at;
mod pipe;
pub mod precompiled;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine};

use crate::diag::one_line;
use crate::evidence::{Evidence, Kind};
use crate::failure::PluginFailure;
use crate::finding::{PluginInfo, RawEvaluation};
use crate::plugin_tests::TestRun;

pub use call::WATCHDOG_GRACE;
pub use grants::{Grants, Mount};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "portcullis-plugin",
    });
}

/// The version of the plugin contract (`wit/plugin.wit`) this host speaks.
pub const CONTRACT_VERSION: &str = "0.2.0";

/// Epoch tick: the granularity of deadlines.
pub const TICK: Duration = Duration::from_millis(5);
/// Where granted directories appear inside the sandbox.
pub const GUEST_ROOT: &str = "/repo";

/// Per-call limits.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub timeout: Duration,
    pub memory_bytes: usize,
    /// Captured stdout + stderr, each.
    pub max_stdio_bytes: usize,
    pub max_log_lines: usize,
    pub max_log_bytes: usize,
}

impl Limits {
    pub fn new(timeout_ms: u64, memory_mb: u64) -> Self {
        Limits {
            timeout: Duration::from_millis(timeout_ms),
            memory_bytes: (memory_mb as usize) << 20,
            max_stdio_bytes: 64 << 10,
            max_log_lines: 1_000,
            max_log_bytes: 256 << 10,
        }
    }
}

/// A line the plugin logged (through `log`, stdout or stderr).
#[derive(Debug, Clone)]
pub struct LogLine {
    pub level: &'static str,
    pub message: String,
}

/// A compiled plugin, ready to instantiate.
pub struct Loaded {
    pre: bindings::PortcullisPluginPre<imports::State>,
    /// Whether the compiled code was loaded (precompiled into this binary
    /// or from the on-disk cache), not compiled now.
    pub cached: bool,
    /// Whether it was precompiled into this binary.
    pub precompiled: bool,
    /// The plugin's persistent store (`cache-get`/`cache-put`), when the
    /// cache is on.
    data: Option<cache::PluginData>,
    /// Whether it called `file-list` during `describe`: it asks for the
    /// file list when it needs it, and `evidence.files` is left empty.
    asks_for_files: std::sync::atomic::AtomicBool,
}

/// The engine's settings; the compiler child uses the same.
fn engine_config() -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    config.cranelift_opt_level(wasmtime::OptLevel::Speed);
    config
}

pub struct Sandbox {
    engine: Engine,
    linker: Linker<imports::State>,
    cache: Option<cache::Cache>,
    /// The cache root, for plugins' persistent stores.
    cache_root: Option<PathBuf>,
    ticker_stop: Arc<AtomicBool>,
    workers: call::Workers,
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.ticker_stop.store(true, Ordering::Relaxed);
    }
}

impl Sandbox {
    /// The engine, linker, compile cache (from the environment) and ticker.
    pub fn new() -> Result<Sandbox, String> {
        Sandbox::with_cache_dir(crate::cache::dir(None))
    }

    /// The cache directory this sandbox keeps compiled plugins in, if any.
    pub fn cache_root(&self) -> Option<&std::path::Path> {
        self.cache_root.as_deref()
    }

    /// As [`Sandbox::new`], with the compile cache under the cache directory
    /// `dir` (see [`crate::cache::dir`]), or none.
    pub fn with_cache_dir(dir: Option<PathBuf>) -> Result<Sandbox, String> {
        let engine = Engine::new(&engine_config())
            .map_err(|e| format!("cannot create the wasm engine: {e}"))?;
        let mut linker = Linker::<imports::State>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| format!("cannot link WASI: {e}"))?;
        open_at::add_to_linker(&mut linker)
            .map_err(|e| format!("cannot link WASI open-at: {e}"))?;
        bindings::PortcullisPlugin::add_to_linker::<imports::State, HasSelf<imports::State>>(
            &mut linker,
            |s| s,
        )
        .map_err(|e| format!("cannot link the host interface: {e}"))?;
        let cache = dir.as_deref().map(|d| cache::Cache::at(d, &engine));
        let ticker_stop = Arc::new(AtomicBool::new(false));
        let (stop, eng) = (ticker_stop.clone(), engine.clone());
        std::thread::Builder::new()
            .name("portcullis-epoch".into())
            .spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(TICK);
                    eng.increment_epoch();
                }
            })
            .map_err(|e| format!("cannot start the deadline ticker: {e}"))?;
        Ok(Sandbox {
            engine,
            linker,
            cache,
            cache_root: dir,
            ticker_stop,
            workers: call::Workers::default(),
        })
    }

    /// Compile (or load from the cache, or from the artifacts precompiled
    /// into this binary) and link a component.
    pub fn load(&self, bytes: &[u8], sha256: &str) -> Result<Loaded, PluginFailure> {
        // The artifact precompiled into this binary first (a built-in's,
        // part of the binary itself), then the compile cache.
        let precompiled = precompiled::load(&self.engine, sha256, self.cache_root.as_deref());
        let was_precompiled = precompiled.is_some();
        let cached = precompiled.or_else(|| {
            self.cache
                .as_ref()
                .and_then(|c| c.load(&self.engine, sha256))
        });
        let (component, was_cached) = match cached {
            Some(c) => (c, true),
            None => {
                let c = compile::compile(&self.engine, bytes)?;
                if let Some(cache) = &self.cache {
                    cache.store(sha256, &c);
                }
                (c, false)
            }
        };
        let load_error = |e: wasmtime::Error| match contract_version(&self.engine, &component) {
            Some(v) if v != CONTRACT_VERSION => PluginFailure::Load(format!(
                "built against the plugin contract portcullis:plugin@{v}; this portcullis \
                 speaks @{CONTRACT_VERSION}: rebuild the plugin with the matching portcullis-sdk"
            )),
            _ => PluginFailure::Load(call::first_line(&e)),
        };
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(&load_error)?;
        let pre = bindings::PortcullisPluginPre::new(pre).map_err(&load_error)?;
        Ok(Loaded {
            asks_for_files: Default::default(),
            pre,
            cached: was_cached,
            precompiled: was_precompiled,
            data: self
                .cache_root
                .as_deref()
                .map(|root| cache::PluginData::at(root, sha256)),
        })
    }

    /// Call `describe`.
    pub fn describe(
        &self,
        plugin: &Loaded,
        limits: Limits,
    ) -> Result<(PluginInfo, Vec<LogLine>), (PluginFailure, Vec<LogLine>)> {
        let ((info, asks), logs) = self.call(plugin, limits, Vec::new(), None, |store, p| {
            let info = p.portcullis_plugin_plugin().call_describe(&mut *store)?;
            Ok((info, store.data().asks_for_files))
        })?;
        plugin
            .asks_for_files
            .store(asks, std::sync::atomic::Ordering::Relaxed);
        match convert::plugin_info(info) {
            Ok(info) => Ok((info, logs)),
            Err(e) => Err((PluginFailure::refused_output(e), logs)),
        }
    }

    /// Call `evaluate` with the evidence the plugin reads and read-only
    /// access to its `grants`.
    pub fn evaluate(
        &self,
        plugin: &Loaded,
        limits: Limits,
        grants: Grants<'_>,
        config: &serde_json::Value,
        reads: &[Kind],
        evidence: &Evidence,
    ) -> Result<(RawEvaluation, Vec<LogLine>), (PluginFailure, Vec<LogLine>)> {
        let (eval, logs) = self.call_reading(
            plugin,
            limits,
            grants,
            (config, reads, evidence),
            |store, p, config, evidence| {
                p.portcullis_plugin_plugin()
                    .call_evaluate(store, config, evidence)
            },
        )?;
        match convert::from_wit_evaluation(eval) {
            Ok(eval) => Ok((eval, logs)),
            Err(e) => Err((PluginFailure::refused_output(e), logs)),
        }
    }

    /// Call `run-tests` (`portcullis test`) with what `evaluate` would get.
    #[allow(clippy::too_many_arguments)]
    pub fn run_tests(
        &self,
        plugin: &Loaded,
        limits: Limits,
        grants: Grants<'_>,
        config: &serde_json::Value,
        reads: &[Kind],
        evidence: &Evidence,
        coverage: bool,
    ) -> Result<(TestRun, Vec<LogLine>), (PluginFailure, Vec<LogLine>)> {
        let (run, logs) = self.call_reading(
            plugin,
            limits,
            grants,
            (config, reads, evidence),
            move |store, p, config, evidence| {
                p.portcullis_plugin_plugin()
                    .call_run_tests(store, config, evidence, coverage)
            },
        )?;
        Ok((convert::from_wit_test_run(run), logs))
    }

    /// Call an export that gets the plugin's config and evidence and
    /// returns `result<T, string>`; an `Err` is the plugin's own error.
    fn call_reading<T: Send + 'static>(
        &self,
        plugin: &Loaded,
        limits: Limits,
        grants: Grants<'_>,
        (config, reads, evidence): (&serde_json::Value, &[Kind], &Evidence),
        f: impl FnOnce(
            &mut wasmtime::Store<imports::State>,
            &bindings::PortcullisPlugin,
            &str,
            &bindings::portcullis::plugin::types::Evidence,
        ) -> wasmtime::Result<Result<T, String>>
        + Send
        + 'static,
    ) -> Result<(T, Vec<LogLine>), (PluginFailure, Vec<LogLine>)> {
        let Prepared {
            preopens,
            access,
            evidence: wit_evidence,
        } = prepare(
            grants,
            reads,
            evidence,
            plugin
                .asks_for_files
                .load(std::sync::atomic::Ordering::Relaxed),
        )
        .map_err(|f| (f, Vec::new()))?;
        let config = config.to_string();
        let (result, logs) =
            self.call(plugin, limits, preopens, Some(access), move |store, p| {
                f(store, p, &config, &wit_evidence)
            })?;
        match result {
            Ok(v) => Ok((v, logs)),
            Err(message) => Err((
                PluginFailure::Plugin(one_line(&crate::diag::without_errno(&message), 2_000)),
                logs,
            )),
        }
    }
}

/// The contract version a component was built against, from the names of
/// the `portcullis:plugin` interfaces it exports or imports.
fn contract_version(engine: &Engine, component: &Component) -> Option<String> {
    let ty = component.component_type();
    let names: Vec<String> = ty
        .exports(engine)
        .map(|(n, _)| n.to_string())
        .chain(ty.imports(engine).map(|(n, _)| n.to_string()))
        .collect();
    names.iter().find_map(|n| {
        n.strip_prefix("portcullis:plugin/")
            .and_then(|rest| rest.split_once('@'))
            .map(|(_, v)| v.to_string())
    })
}

/// What a call that reads evidence gets: preopened directories, the file
/// access `read-files` checks against, and the evidence record.
struct Prepared {
    preopens: Vec<(PathBuf, String)>,
    access: imports::FileAccess,
    evidence: bindings::portcullis::plugin::types::Evidence,
}

fn prepare(
    grants: Grants<'_>,
    reads: &[Kind],
    evidence: &Evidence,
    asks_for_files: bool,
) -> Result<Prepared, PluginFailure> {
    use std::os::fd::AsFd;
    let root: std::os::fd::OwnedFd = std::fs::File::open(&evidence.root)
        .map_err(|e| PluginFailure::Load(format!("{}: {e}", evidence.root.display())))?
        .into();
    let (mut preopens, held) = grants::repo_preopens(root.as_fd(), &evidence.root, &grants)?;
    let (outside, wit_mounts) = grants::outside_preopens(grants.mounts, &evidence.root)?;
    let access = imports::FileAccess {
        root,
        root_path: evidence.root.clone(),
        _held: held,
        grants: grants.read.to_vec(),
        listed: evidence.files.clone(),
        lists_files: reads.contains(&Kind::Files),
        changed: evidence.changed.clone(),
        cargo: evidence.cargo_on_demand.clone(),
        lines: evidence.changed_lines.clone(),
        metrics: grants.metrics.cloned(),
        digests: evidence.digests.clone(),
    };
    let mut wit_evidence =
        convert::to_wit_evidence(evidence, reads, grants.reports_from, asks_for_files);
    wit_evidence.mounts = wit_mounts;
    preopens.extend(outside);
    Ok(Prepared {
        preopens,
        access,
        evidence: wit_evidence,
    })
}
