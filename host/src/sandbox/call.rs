//! One plugin call: a fresh store on a reused worker thread, with the
//! epoch deadline, the memory limiter and captured stdio, and a watchdog
//! for calls blocked outside wasm code.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use wasmtime::component::ResourceTable;
use wasmtime::{Engine, Store, Trap};
use wasmtime_wasi::{FsPerms, WasiCtxBuilder};

use super::imports::{FileAccess, State};
use super::limiter::Limiter;
use super::{Limits, Loaded, LogLine, Sandbox, bindings, cache, pipe};
use crate::diag::one_line;
use crate::failure::PluginFailure;

impl Sandbox {
    /// Run `f` in a fresh store on its own thread. The epoch deadline stops
    /// wasm code; the watchdog here also stops a plugin blocked in a host
    /// call (a WASI sleep or poll does not run wasm, so no epoch check
    /// fires): past the deadline plus [`WATCHDOG_GRACE`] the call is
    /// abandoned and reported as timed out. The abandoned thread holds no
    /// locks and ends with the process.
    pub(super) fn call<T: Send + 'static>(
        &self,
        plugin: &Loaded,
        limits: Limits,
        mounts: Vec<(PathBuf, String)>,
        access: Option<FileAccess>,
        f: impl FnOnce(&mut Store<State>, &bindings::PortcullisPlugin) -> wasmtime::Result<T>
        + Send
        + 'static,
    ) -> Result<(T, Vec<LogLine>), (PluginFailure, Vec<LogLine>)> {
        let engine = self.engine.clone();
        let pre = plugin.pre.clone();
        let data = plugin.data.clone();
        let pause = std::sync::Arc::new(Pause::default());
        let (tx, rx) = std::sync::mpsc::channel();
        let job: Job = {
            let pause = pause.clone();
            Box::new(move || {
                let _ = tx.send(run_in_store(
                    &engine,
                    &pre,
                    limits,
                    &mounts,
                    (access, data, pause),
                    f,
                ));
            })
        };
        let worker = match self.workers.dispatch(job) {
            Ok(w) => w,
            Err(e) => {
                return Err((
                    PluginFailure::Load(format!("cannot start a plugin thread: {e}")),
                    Vec::new(),
                ));
            }
        };
        // The watchdog's deadline moves on by the time the plugin spends in
        // host calls that do not count (see [`Pause`]).
        let started = Instant::now();
        let received = loop {
            let now = Instant::now();
            let until = started + limits.timeout + WATCHDOG_GRACE + pause.excluded(now);
            match rx.recv_timeout(until.saturating_duration_since(now)) {
                Err(std::sync::mpsc::RecvTimeoutError::Timeout)
                    if Instant::now()
                        < started
                            + limits.timeout
                            + WATCHDOG_GRACE
                            + pause.excluded(Instant::now()) => {}
                other => break other,
            }
        };
        match received {
            Ok(result) => {
                self.workers.release(worker);
                result
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Err((
                PluginFailure::Timeout(limits.timeout.as_millis()),
                vec![LogLine {
                    level: "warn",
                    message: "blocked in a host call past its deadline; the call was abandoned"
                        .into(),
                }],
            )),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => Err((
                PluginFailure::Trap("the plugin's host thread ended without a result".into()),
                Vec::new(),
            )),
        }
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Wall time a call spends in host calls that do not count against its
/// deadline (the contract's `cargo-metadata` while it runs cargo): the
/// deadline and the watchdog both move on by it, also while such a call is
/// still running, up to [`MAX_PAUSE`] in all.
#[derive(Default)]
pub(super) struct Pause(std::sync::Mutex<(Duration, Option<Instant>)>);

/// The most a call's deadline moves on: both forms of `cargo metadata` at
/// their own time limit.
pub(super) const MAX_PAUSE: Duration = Duration::from_secs(600);

impl Pause {
    /// Run `f` outside the deadline.
    pub(super) fn during<T>(&self, f: impl FnOnce() -> T) -> T {
        self.lock().1 = Some(Instant::now());
        let out = f();
        let mut state = self.lock();
        if let Some(since) = state.1.take() {
            state.0 += since.elapsed();
        }
        out
    }

    /// The time excluded up to `now`.
    pub(super) fn excluded(&self, now: Instant) -> Duration {
        let state = self.lock();
        let total = state.0
            + state
                .1
                .map_or(Duration::ZERO, |s| now.saturating_duration_since(s));
        total.min(MAX_PAUSE)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Duration, Option<Instant>)> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Threads that run plugin calls, reused between calls (a fresh thread per
/// call costs several hundred microseconds of per-thread runtime set-up). A
/// worker whose call the watchdog abandoned is never reused.
#[derive(Default)]
pub(super) struct Workers {
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
    (access, data, pause): (
        Option<FileAccess>,
        Option<cache::PluginData>,
        std::sync::Arc<Pause>,
    ),
    f: impl FnOnce(&mut Store<State>, &bindings::PortcullisPlugin) -> wasmtime::Result<T>,
) -> Result<(T, Vec<LogLine>), (PluginFailure, Vec<LogLine>)> {
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
                    PluginFailure::Load(format!("cannot grant {}: {e}", host_dir.display())),
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
        pause: pause.clone(),
        asks_for_files: false,
    };
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    // The deadline is wall time. Epoch ticks only say when to look at the
    // clock: they lag on a busy machine, so counting them would stretch
    // the deadline. Each tick compares the clock with the deadline, and a
    // call that returns after it fails whatever the ticker saw.
    let deadline = Instant::now() + limits.timeout;
    store.set_epoch_deadline(1);
    let paused = pause.clone();
    store.epoch_deadline_callback(move |_| {
        let now = Instant::now();
        if now >= deadline + paused.excluded(now) {
            Err(Trap::Interrupt.into())
        } else {
            Ok(wasmtime::UpdateDeadline::Continue(1))
        }
    });
    let result = pre
        .instantiate(&mut store)
        .and_then(|instance| f(&mut store, &instance));
    let now = Instant::now();
    let late = now > deadline + pause.excluded(now);

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
        Ok(_) if late => Err((PluginFailure::Timeout(limits.timeout.as_millis()), logs)),
        Ok(v) => Ok((v, logs)),
        Err(e) => {
            let reason = if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
                PluginFailure::Timeout(limits.timeout.as_millis())
            } else if memory_hit {
                PluginFailure::Memory(limits.memory_bytes >> 20)
            } else if let Some(p) = panic_message(&stderr_text) {
                if p.starts_with("capacity overflow") {
                    // The place is inside the standard library: noise.
                    PluginFailure::TooLarge("capacity overflow".into())
                } else {
                    PluginFailure::Panic(p)
                }
            } else if let Some(line) = stderr_text
                .lines()
                .find(|l| l.starts_with("memory allocation of "))
            {
                PluginFailure::TooLarge(one_line(line, 200))
            } else {
                let text = trap_text(&e);
                if text.contains("mmap failed") {
                    // The host's own limit, not the plugin's doing.
                    PluginFailure::Load(format!(
                        "the host could not reserve memory for the plugin ({text}): an address-space limit such as `ulimit -v` is too low"
                    ))
                } else {
                    PluginFailure::Trap(text)
                }
            };
            Err((reason, logs))
        }
    }
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

/// What went wrong, for a user: the trap's own words (or the error's
/// chain), without the wasm backtrace of mangled symbols and offsets that
/// the engine attaches as context.
fn trap_text(e: &wasmtime::Error) -> String {
    if let Some(trap) = e.downcast_ref::<Trap>() {
        return one_line(&trap.to_string(), 500);
    }
    let parts: Vec<String> = e
        .chain()
        .map(ToString::to_string)
        .filter(|c| !c.contains("wasm backtrace:"))
        .collect();
    one_line(&parts.join(": "), 500)
}

pub(super) fn first_line(e: &impl std::fmt::Display) -> String {
    one_line(&format!("{e:#}"), 500)
}
