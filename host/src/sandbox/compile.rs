//! Compiling a component, bounded. Cranelift's time and memory grow with
//! what the component contains, and the component is whatever the policy
//! pinned: a 341 KiB component can take 20 s and 1 GiB to compile. So the
//! CLI compiles in a child process of itself (`portcullis __compile IN
//! OUT`) whose address space is capped at [`COMPILE_MEMORY_MB`] and which
//! is killed after [`COMPILE_TIMEOUT`] (`PORTCULLIS_COMPILE_MEMORY_MB`,
//! `PORTCULLIS_COMPILE_TIMEOUT_MS`); the parent loads the artifact it
//! wrote. Compiling happens before the plugin's first call, outside its
//! deadline, and only when the compile cache has no artifact for the
//! component's digest.
//!
//! A program that embeds the library without calling [`isolate_in`]
//! compiles in-process (tests and benchmarks); components larger than
//! [`MAX_COMPONENT_BYTES`] are refused either way.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use wasmtime::Engine;
use wasmtime::component::Component;

use crate::failure::PluginFailure;

/// The largest component loaded.
pub const MAX_COMPONENT_BYTES: usize = 64 << 20;
/// How long compiling one component may take, unless
/// `PORTCULLIS_COMPILE_TIMEOUT_MS` says otherwise.
pub const COMPILE_TIMEOUT: Duration = Duration::from_secs(120);
/// The compiling process's address-space cap, unless
/// `PORTCULLIS_COMPILE_MEMORY_MB` says otherwise.
pub const COMPILE_MEMORY_MB: u64 = 3072;

/// A limit from the environment (operators may tighten or loosen them),
/// or its default; a value that is not a positive integer is an error.
fn limit(var: &str, default: u64) -> Result<u64, String> {
    match std::env::var(var) {
        Err(_) => Ok(default),
        Ok(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{var}=`{v}` is not a positive integer")),
    }
}

/// The argument that makes the CLI a compiler child.
pub const COMPILE_ARG: &str = "__compile";

static COMPILER: OnceLock<PathBuf> = OnceLock::new();

/// Compile components in child processes running `exe` (the CLI's own
/// binary) with `COMPILE_ARG IN OUT`.
pub fn isolate_in(exe: PathBuf) {
    let _ = COMPILER.set(exe);
}

/// Compile `bytes` for `engine`, bounded.
pub(super) fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component, PluginFailure> {
    if bytes.len() > MAX_COMPONENT_BYTES {
        return Err(PluginFailure::Load(format!(
            "the component is {} MiB, over the {} MiB limit",
            bytes.len() >> 20,
            MAX_COMPONENT_BYTES >> 20
        )));
    }
    match COMPILER.get() {
        None => Component::new(engine, bytes)
            .map_err(|e| PluginFailure::Load(super::call::first_line(&e))),
        Some(exe) => in_child(engine, exe, bytes),
    }
}

fn in_child(engine: &Engine, exe: &Path, bytes: &[u8]) -> Result<Component, PluginFailure> {
    let fail = |m: String| PluginFailure::Load(m);
    let timeout = Duration::from_millis(
        limit(
            "PORTCULLIS_COMPILE_TIMEOUT_MS",
            COMPILE_TIMEOUT.as_millis() as u64,
        )
        .map_err(fail)?,
    );
    let memory_mb = limit("PORTCULLIS_COMPILE_MEMORY_MB", COMPILE_MEMORY_MB).map_err(fail)?;
    let dir = tempfile::Builder::new()
        .prefix("portcullis-compile-")
        .tempdir()
        .map_err(|e| fail(format!("cannot make a directory to compile in: {e}")))?;
    let (input, output) = (dir.path().join("in.wasm"), dir.path().join("out.cwasm"));
    std::fs::write(&input, bytes).map_err(|e| fail(format!("{}: {e}", input.display())))?;
    let mut child = std::process::Command::new(exe)
        .arg(COMPILE_ARG)
        .arg(&input)
        .arg(&output)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| {
            fail(format!(
                "cannot start the compiler ({}): {e}",
                exe.display()
            ))
        })?;
    let status = match crate::process::wait_timeout(&mut child, timeout) {
        Ok(Some(status)) => status,
        Ok(None) => {
            return Err(fail(format!(
                "compiling the component took longer than {} ms; it was stopped",
                timeout.as_millis()
            )));
        }
        Err(e) => return Err(fail(format!("waiting for the compiler: {e}"))),
    };
    if !status.success() {
        let mut stderr = String::new();
        if let Some(mut err) = child.stderr.take() {
            use std::io::Read;
            let _ = err.by_ref().take(64 << 10).read_to_string(&mut stderr);
        }
        return Err(fail(if out_of_memory(&stderr) {
            format!("compiling the component needed more than {memory_mb} MiB; it was stopped")
        } else {
            let first = stderr
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("no message");
            format!(
                "the compiler failed ({status}): {}",
                crate::diag::one_line(first, 300)
            )
        }));
    }
    let artifact =
        std::fs::read(&output).map_err(|e| fail(format!("{}: {e}", output.display())))?;
    // SAFETY: the artifact was written by this program's own compiler, with
    // this engine's configuration, into a directory only this process made;
    // wasmtime checks its version and settings before loading it.
    #[allow(unsafe_code)]
    let component = unsafe { Component::deserialize(engine, &artifact) };
    component.map_err(|e| {
        fail(format!(
            "loading the compiled component: {}",
            super::call::first_line(&e)
        ))
    })
}

/// Whether the compiler died of its address-space cap: an allocation, or
/// a thread's stack mapping, that failed.
fn out_of_memory(stderr: &str) -> bool {
    [
        "memory allocation",
        "out of memory",
        "Cannot allocate memory",
        "Resource temporarily unavailable",
        "os error 11",
        "os error 12",
    ]
    .iter()
    .any(|m| stderr.contains(m))
}

/// The child side of [`compile`]: cap the address space, compile `input`
/// with the sandbox's engine settings, write the artifact to `output`.
pub fn compile_main(input: &Path, output: &Path) -> Result<(), String> {
    let mut cap = limit("PORTCULLIS_COMPILE_MEMORY_MB", COMPILE_MEMORY_MB)? << 20;
    // Under a lower limit already (`ulimit -v`), that one holds: a process
    // may lower its limit but not raise it.
    let now = rustix::process::getrlimit(rustix::process::Resource::As);
    if let Some(hard) = now.maximum {
        cap = cap.min(hard);
    }
    rustix::process::setrlimit(
        rustix::process::Resource::As,
        rustix::process::Rlimit {
            current: Some(cap),
            maximum: Some(cap),
        },
    )
    .map_err(|e| format!("cannot cap the compiler's memory: {e}"))?;
    let engine = Engine::new(&super::engine_config()).map_err(|e| e.to_string())?;
    let bytes = std::fs::read(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let artifact = engine
        .precompile_component(&bytes)
        .map_err(|e| super::call::first_line(&e))?;
    std::fs::write(output, artifact).map_err(|e| format!("{}: {e}", output.display()))
}
