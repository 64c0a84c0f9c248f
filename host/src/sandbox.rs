//! The sandbox: the only module that touches wasmtime.
//!
//! One [`Engine`] and one [`Linker`] per process; one [`Store`] per plugin
//! call. Every store gets:
//! - a wall-clock deadline through epoch interruption (a ticker thread bumps
//!   the epoch every [`TICK`]);
//! - a memory cap over all of the instance's memories together (a
//!   [`ResourceLimiter`]), plus caps on tables and instances;
//! - no environment, no arguments, no stdin, no network (TCP, UDP and name
//!   lookup off); stdout and stderr captured into capped buffers that go to
//!   the host log;
//! - read-only preopens of the directories the policy grants, under `/repo`.
//!
//! Any trap, timeout, limit or malformed result becomes a [`Failure`] with a
//! one-line reason, and the gate fails closed.

mod cache;
mod pipe;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store, Trap};
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::diag::Level;
use crate::evidence::{self, Evidence, Kind};
use crate::finding::{Location, PluginInfo, RawEvaluation, RawFinding, Region, RuleInfo};
use crate::policy::{self, ReportFormat};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "portcullis-plugin",
    });
}

use bindings::portcullis::plugin::{host, types as wit};

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

/// Why a plugin call failed; `Display` is the one-line reason.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Failure {
    #[error("timed out after {0} ms")]
    Timeout(u128),
    #[error("exceeded its memory limit of {0} MiB")]
    Memory(usize),
    #[error("panicked: {0}")]
    Panic(String),
    #[error("trapped: {0}")]
    Trap(String),
    #[error("failed to load: {0}")]
    Load(String),
    #[error("returned an error: {0}")]
    Plugin(String),
    #[error("returned malformed data: {0}")]
    Malformed(String),
}

/// A line the plugin logged (through `log`, stdout or stderr).
#[derive(Debug, Clone)]
pub struct LogLine {
    pub level: &'static str,
    pub message: String,
}

/// A compiled plugin, ready to instantiate.
pub struct Loaded {
    pre: bindings::PortcullisPluginPre<State>,
    /// Whether the compiled code came from the on-disk cache.
    pub cached: bool,
    /// The plugin's persistent store (`cache-get`/`cache-put`), when the
    /// cache is on.
    data: Option<cache::PluginData>,
}

pub struct Sandbox {
    engine: Engine,
    linker: Linker<State>,
    cache: Option<cache::Cache>,
    /// The cache root, for plugins' persistent stores.
    cache_root: Option<PathBuf>,
    ticker_stop: Arc<AtomicBool>,
    workers: Workers,
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

    /// As [`Sandbox::new`], with the compile cache under the cache directory
    /// `dir` (see [`crate::cache::dir`]), or none.
    pub fn with_cache_dir(dir: Option<PathBuf>) -> Result<Sandbox, String> {
        let mut config = Config::new();
        config.epoch_interruption(true);
        config.wasm_component_model(true);
        config.cranelift_opt_level(wasmtime::OptLevel::Speed);
        let engine =
            Engine::new(&config).map_err(|e| format!("cannot create the wasm engine: {e}"))?;
        let mut linker = Linker::<State>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| format!("cannot link WASI: {e}"))?;
        bindings::PortcullisPlugin::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)
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
            workers: Workers::default(),
        })
    }

    /// Compile (or load from the cache) and link a component.
    pub fn load(&self, bytes: &[u8], sha256: &str) -> Result<Loaded, Failure> {
        let cached = self
            .cache
            .as_ref()
            .and_then(|c| c.load(&self.engine, sha256));
        let (component, was_cached) = match cached {
            Some(c) => (c, true),
            None => {
                let c = Component::new(&self.engine, bytes)
                    .map_err(|e| Failure::Load(first_line(&e)))?;
                if let Some(cache) = &self.cache {
                    cache.store(sha256, &c);
                }
                (c, false)
            }
        };
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| Failure::Load(first_line(&e)))?;
        let pre =
            bindings::PortcullisPluginPre::new(pre).map_err(|e| Failure::Load(first_line(&e)))?;
        Ok(Loaded {
            pre,
            cached: was_cached,
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
    ) -> Result<(PluginInfo, Vec<LogLine>), (Failure, Vec<LogLine>)> {
        let (info, logs) = self.call(plugin, limits, Vec::new(), None, |store, p| {
            p.portcullis_plugin_plugin().call_describe(store)
        })?;
        match plugin_info(info) {
            Ok(info) => Ok((info, logs)),
            Err(e) => Err((Failure::Malformed(e), logs)),
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
    ) -> Result<(RawEvaluation, Vec<LogLine>), (Failure, Vec<LogLine>)> {
        let grants_read = grants.read;
        let mut mounts = mounts(&evidence.root, grants_read).map_err(|f| (f, Vec::new()))?;
        let (outside, wit_mounts) = outside_mounts(grants.mounts).map_err(|f| (f, Vec::new()))?;
        let access = FileAccess {
            root: evidence.root.clone(),
            mounts: mounts.iter().map(|(h, _)| h.clone()).collect(),
            grants: grants_read.to_vec(),
            listed: evidence
                .files
                .iter()
                .filter(|f| f.kind == evidence::FileKind::File)
                .map(|f| (f.path.clone(), f.size))
                .collect(),
        };
        let mut wit_evidence = to_wit_evidence(evidence, reads);
        wit_evidence.mounts = wit_mounts;
        mounts.extend(outside);
        let config = config.to_string();
        let (result, logs) = self.call(plugin, limits, mounts, Some(access), move |store, p| {
            p.portcullis_plugin_plugin()
                .call_evaluate(store, &config, &wit_evidence)
        })?;
        match result {
            Ok(eval) => match from_wit_evaluation(eval) {
                Ok(eval) => Ok((eval, logs)),
                Err(e) => Err((Failure::Malformed(e), logs)),
            },
            Err(message) => Err((Failure::Plugin(one_line(&message, 2_000)), logs)),
        }
    }

    /// Run `f` in a fresh store on its own thread. The epoch deadline stops
    /// wasm code; the watchdog here also stops a plugin blocked in a host
    /// call (a WASI sleep or poll does not run wasm, so no epoch check
    /// fires): past the deadline plus [`WATCHDOG_GRACE`] the call is
    /// abandoned and reported as timed out. The abandoned thread holds no
    /// locks and ends with the process.
    fn call<T: Send + 'static>(
        &self,
        plugin: &Loaded,
        limits: Limits,
        mounts: Vec<(PathBuf, String)>,
        access: Option<FileAccess>,
        f: impl FnOnce(&mut Store<State>, &bindings::PortcullisPlugin) -> wasmtime::Result<T>
        + Send
        + 'static,
    ) -> Result<(T, Vec<LogLine>), (Failure, Vec<LogLine>)> {
        let engine = self.engine.clone();
        let pre = plugin.pre.clone();
        let data = plugin.data.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(run_in_store(
                &engine,
                &pre,
                limits,
                &mounts,
                (access, data),
                f,
            ));
        });
        let worker = match self.workers.dispatch(job) {
            Ok(w) => w,
            Err(e) => {
                return Err((
                    Failure::Load(format!("cannot start a plugin thread: {e}")),
                    Vec::new(),
                ));
            }
        };
        match rx.recv_timeout(limits.timeout + WATCHDOG_GRACE) {
            Ok(result) => {
                self.workers.release(worker);
                result
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err((
                Failure::Timeout(limits.timeout.as_millis()),
                vec![LogLine {
                    level: "warn",
                    message: "blocked in a host call past its deadline; the call was abandoned"
                        .into(),
                }],
            )),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err((
                Failure::Trap("the plugin's host thread ended without a result".into()),
                Vec::new(),
            )),
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Threads that run plugin calls, reused between calls (a fresh thread per
/// call costs several hundred microseconds of per-thread runtime set-up). A
/// worker whose call the watchdog abandoned is never reused.
#[derive(Default)]
struct Workers {
    idle: std::sync::Mutex<Vec<std::sync::mpsc::Sender<Job>>>,
}

impl Workers {
    /// Hand `job` to an idle worker, or to a new one.
    fn dispatch(&self, job: Job) -> std::io::Result<std::sync::mpsc::Sender<Job>> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let worker = match idle {
            Some(w) => w,
            None => Workers::spawn()?,
        };
        match worker.send(job) {
            Ok(()) => Ok(worker),
            // That worker died (a host panic): start a fresh one.
            Err(std::sync::mpsc::SendError(job)) => {
                let fresh = Workers::spawn()?;
                fresh
                    .send(job)
                    .map_err(|_| std::io::Error::other("plugin thread exited"))?;
                Ok(fresh)
            }
        }
    }

    fn spawn() -> std::io::Result<std::sync::mpsc::Sender<Job>> {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("portcullis-plugin".into())
            .spawn(move || {
                while let Ok(job) = rx.recv() {
                    job();
                }
            })?;
        Ok(tx)
    }

    /// Return a worker whose call finished in time.
    fn release(&self, worker: std::sync::mpsc::Sender<Job>) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(worker);
    }
}

/// How long past its deadline a call blocked outside wasm code may run.
pub const WATCHDOG_GRACE: Duration = Duration::from_millis(250);

#[allow(clippy::type_complexity)]
fn run_in_store<T>(
    engine: &Engine,
    pre: &bindings::PortcullisPluginPre<State>,
    limits: Limits,
    mounts: &[(PathBuf, String)],
    (access, data): (Option<FileAccess>, Option<cache::PluginData>),
    f: impl FnOnce(&mut Store<State>, &bindings::PortcullisPlugin) -> wasmtime::Result<T>,
) -> Result<(T, Vec<LogLine>), (Failure, Vec<LogLine>)> {
    let stdout = pipe::BoundedPipe::new(limits.max_stdio_bytes);
    let stderr = pipe::BoundedPipe::new(limits.max_stdio_bytes);
    let mut wasi = WasiCtxBuilder::new();
    wasi.stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    for (host_dir, guest) in mounts {
        wasi.preopened_dir(host_dir, guest, FsPerms::ReadOnly)
            .map_err(|e| {
                (
                    Failure::Load(format!("cannot grant {}: {e}", host_dir.display())),
                    Vec::new(),
                )
            })?;
    }
    let state = State {
        wasi: wasi.build(),
        table: ResourceTable::new(),
        limiter: Limiter {
            cap: limits.memory_bytes,
            total: 0,
            hit: false,
        },
        logs: Vec::new(),
        log_bytes: 0,
        logs_dropped: 0,
        limits,
        access,
        data,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    let ticks = limits.timeout.as_millis().div_ceil(TICK.as_millis()) as u64 + 1;
    store.set_epoch_deadline(ticks);
    store.epoch_deadline_trap();

    let result = pre
        .instantiate(&mut store)
        .and_then(|instance| f(&mut store, &instance));

    let mut logs = std::mem::take(&mut store.data_mut().logs);
    let dropped = store.data().logs_dropped;
    let memory_hit = store.data().limiter.hit;
    let (err_bytes, err_dropped) = stderr.take();
    let (out_bytes, out_dropped) = stdout.take();
    let stderr_text = String::from_utf8_lossy(&err_bytes).into_owned();
    for (name, text, lost) in [
        (
            "stdout",
            String::from_utf8_lossy(&out_bytes).into_owned(),
            out_dropped,
        ),
        ("stderr", stderr_text.clone(), err_dropped),
    ] {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            logs.push(LogLine {
                level: "info",
                message: format!("{name}: {}", one_line(line, 1_000)),
            });
        }
        if lost > 0 {
            logs.push(LogLine {
                level: "warn",
                message: format!(
                    "{name}: {lost} more bytes dropped (cap {} KiB)",
                    limits.max_stdio_bytes >> 10
                ),
            });
        }
    }
    if dropped > 0 {
        logs.push(LogLine {
            level: "warn",
            message: format!("{dropped} more log lines dropped"),
        });
    }

    match result {
        Ok(v) => Ok((v, logs)),
        Err(e) => {
            let reason = if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
                Failure::Timeout(limits.timeout.as_millis())
            } else if memory_hit {
                Failure::Memory(limits.memory_bytes >> 20)
            } else if let Some(p) = panic_message(&stderr_text) {
                Failure::Panic(p)
            } else {
                Failure::Trap(first_line(&e))
            };
            Err((reason, logs))
        }
    }
}

struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: Limiter,
    logs: Vec<LogLine>,
    log_bytes: usize,
    logs_dropped: usize,
    limits: Limits,
    /// What `read-files` may read (`None` during `describe`).
    access: Option<FileAccess>,
    /// The plugin's persistent store, when the cache is on.
    data: Option<cache::PluginData>,
}

/// The repository and the granted directories (canonical host paths).
struct FileAccess {
    root: PathBuf,
    /// Canonical host paths of the granted directories.
    mounts: Vec<PathBuf>,
    /// The grants as repository-relative paths (`.` = all).
    grants: Vec<String>,
    /// Regular files from the walk, with sizes. The walk never descends
    /// into symlinks, so these paths have no symlink in them and need no
    /// canonicalisation.
    listed: std::collections::HashMap<String, u64>,
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

/// Caps the total size of all memories of the instance, not each one.
struct Limiter {
    cap: usize,
    total: usize,
    hit: bool,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let grow = desired.saturating_sub(current);
        if self.total.saturating_add(grow) > self.cap {
            self.hit = true;
            return Ok(false);
        }
        self.total += grow;
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 1_000_000)
    }

    fn instances(&self) -> usize {
        64
    }

    fn tables(&self) -> usize {
        64
    }

    fn memories(&self) -> usize {
        16
    }
}

/// Host directories to preopen for the grants, checked to lie inside the
/// repository (after resolving symlinks).
fn mounts(root: &Path, grants: &[String]) -> Result<Vec<(PathBuf, String)>, Failure> {
    let mut out = Vec::new();
    for g in grants {
        let (host_dir, guest) = if g == "." {
            (root.to_path_buf(), GUEST_ROOT.to_string())
        } else {
            (root.join(g), format!("{GUEST_ROOT}/{g}"))
        };
        let real = host_dir
            .canonicalize()
            .map_err(|e| Failure::Load(format!("read grant `{g}`: {}: {e}", host_dir.display())))?;
        if !real.starts_with(root) || !real.is_dir() {
            return Err(Failure::Load(format!(
                "read grant `{g}` is not a directory inside the repository"
            )));
        }
        out.push((real, guest));
    }
    Ok(out)
}

fn panic_message(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines();
    while let Some(line) = lines.next() {
        if let Some(at) = line.find("panicked at ") {
            let place = line[at + "panicked at ".len()..].trim_end_matches(':');
            let msg = lines.next().unwrap_or("").trim();
            return Some(one_line(&format!("{msg} (at {place})"), 500));
        }
    }
    None
}

fn first_line(e: &impl std::fmt::Display) -> String {
    one_line(&format!("{e:#}"), 500)
}

/// Collapse to one printable line of at most `max` characters (control
/// characters, including terminal escapes, become spaces).
pub fn one_line(s: &str, max: usize) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if cleaned.chars().count() > max {
        let mut t: String = cleaned.chars().take(max).collect();
        t.push('…');
        t
    } else {
        cleaned
    }
}

fn level(l: wit::Level) -> Level {
    match l {
        wit::Level::Note => Level::Note,
        wit::Level::Warning => Level::Warning,
        wit::Level::Error => Level::Error,
    }
}

fn rule_info(r: wit::Rule) -> Result<RuleInfo, String> {
    if let Some(s) = r.security_severity
        && !(0.0..=10.0).contains(&s)
    {
        return Err(format!(
            "rule `{}`: security-severity {s} is outside 0.0–10.0",
            r.id
        ));
    }
    Ok(RuleInfo {
        id: r.id,
        name: r.name,
        short_description: r.short_description,
        full_description: r.full_description,
        help_markdown: r.help_markdown,
        default_level: level(r.default_level),
        tags: r.tags,
        security_severity: r.security_severity,
    })
}

fn plugin_info(i: wit::PluginInfo) -> Result<PluginInfo, String> {
    let mut rules = Vec::with_capacity(i.rules.len());
    let mut ids = std::collections::HashSet::new();
    for r in i.rules {
        if !ids.insert(r.id.clone()) {
            return Err(format!("rule `{}` is declared twice", r.id));
        }
        rules.push(rule_info(r)?);
    }
    if i.name.trim().is_empty() {
        return Err("plugin name is empty".into());
    }
    let reads = i
        .reads
        .into_iter()
        .map(|k| match k {
            wit::EvidenceKind::Files => Kind::Files,
            wit::EvidenceKind::CargoMetadata => Kind::CargoMetadata,
            wit::EvidenceKind::Reports => Kind::Reports,
        })
        .collect();
    Ok(PluginInfo {
        name: one_line(&i.name, 100),
        version: one_line(&i.version, 100),
        rules,
        reads,
    })
}

fn to_wit_evidence(ev: &Evidence, reads: &[Kind]) -> wit::Evidence {
    let files = if reads.contains(&Kind::Files) {
        ev.files
            .iter()
            .map(|f| wit::FileEntry {
                path: f.path.clone(),
                size: f.size,
                kind: match f.kind {
                    evidence::FileKind::File => wit::FileKind::File,
                    evidence::FileKind::Symlink => wit::FileKind::Symlink,
                },
                link_target: f.link_target.clone(),
                link_resolves: f.link_resolves,
            })
            .collect()
    } else {
        Vec::new()
    };
    let reports = if reads.contains(&Kind::Reports) {
        ev.reports
            .iter()
            .map(|r| wit::Report {
                name: r.name.clone(),
                format: match r.format {
                    ReportFormat::ClippyJson => wit::ReportFormat::ClippyJson,
                    ReportFormat::Sarif => wit::ReportFormat::Sarif,
                    ReportFormat::PrContext => wit::ReportFormat::PrContext,
                    ReportFormat::GithubEvent => wit::ReportFormat::GithubEvent,
                    ReportFormat::GhPr => wit::ReportFormat::GhPr,
                },
                path: r.path.clone(),
                content: r.content.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    wit::Evidence {
        root: GUEST_ROOT.to_string(),
        host_root: ev.root.to_string_lossy().into_owned(),
        files,
        cargo_metadata: if reads.contains(&Kind::CargoMetadata) {
            ev.cargo_metadata.clone()
        } else {
            None
        },
        reports,
        mounts: Vec::new(),
    }
}

/// What a plugin may read: repository-relative directories (`.` = all) at
/// `/repo`, and the policy's mounts outside the repository at `/mnt/<name>`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Grants<'a> {
    pub read: &'a [String],
    pub mounts: &'a [policy::Mount],
}

/// Host directories and where the sandbox sees them.
type Preopens = Vec<(PathBuf, String)>;

/// Where policy mounts appear in the sandbox.
const MOUNT_ROOT: &str = "/mnt";

/// Preopens for the policy's mounts outside the repository, and how the
/// plugin sees them. A path that does not exist is passed as absent (the
/// plugin decides whether that is an error); one that is not a directory
/// fails the plugin.
fn outside_mounts(extra: &[policy::Mount]) -> Result<(Preopens, Vec<wit::Mount>), Failure> {
    let mut preopens = Vec::new();
    let mut seen = Vec::new();
    for m in extra {
        let present = match m.path.canonicalize() {
            Ok(real) if real.is_dir() => {
                preopens.push((real, format!("{MOUNT_ROOT}/{}", m.name)));
                true
            }
            Ok(_) => {
                return Err(Failure::Load(format!(
                    "{}: mount `{}`: {} is not a directory",
                    m.at,
                    m.name,
                    m.path.display()
                )));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => {
                return Err(Failure::Load(format!(
                    "{}: mount `{}`: {}: {e}",
                    m.at,
                    m.name,
                    m.path.display()
                )));
            }
        };
        seen.push(wit::Mount {
            name: m.name.clone(),
            host_path: m.path.to_string_lossy().into_owned(),
            present,
        });
    }
    Ok((preopens, seen))
}

fn from_wit_evaluation(e: wit::Evaluation) -> Result<RawEvaluation, String> {
    Ok(RawEvaluation {
        findings: e
            .findings
            .into_iter()
            .map(|f| RawFinding {
                rule_id: f.rule_id,
                level: f.level.map(level),
                message: f.message,
                locations: f
                    .locations
                    .into_iter()
                    .map(|l| Location {
                        path: l.path,
                        region: l.region.map(|r| Region {
                            start_line: r.start_line,
                            start_column: r.start_column,
                            end_line: r.end_line,
                            end_column: r.end_column,
                        }),
                    })
                    .collect(),
                fingerprint: f.fingerprint,
                properties: f.properties,
            })
            .collect(),
        rules: e
            .rules
            .into_iter()
            .map(rule_info)
            .collect::<Result<_, _>>()?,
    })
}
