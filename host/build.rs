//! Build the standard plugins as wasm32-wasip2 components and embed them.
//!
//! A nested `cargo build` with its own target directory (the outer build
//! holds the lock on the main one) compiles each plugin crate in release
//! mode; `src/plugins.rs` includes the resulting `.wasm` bytes. The test
//! plugins under `tests/plugins/` are built too and their paths exported to
//! the tests as `PORTCULLIS_TEST_WASM_<NAME>`.

#![allow(clippy::disallowed_macros)] // cargo reads build-script instructions from stdout

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::Digest;

/// (package, file stem, embedded in the binary)
const PLUGINS: &[(&str, &str, bool)] = &[
    ("portcullis-plugin-lint", "lint", true),
    ("portcullis-plugin-secrets", "secrets", true),
    ("portcullis-plugin-deps", "deps", true),
    ("portcullis-plugin-approvals", "approvals", true),
    ("portcullis-plugin-perf", "perf", true),
    ("portcullis-plugin-rego", "rego", true),
    ("portcullis-plugin-tests", "tests", true),
    ("portcullis-plugin-canary", "canary", true),
    ("portcullis-plugin-hostile", "hostile", false),
    ("portcullis-plugin-probe", "probe", false),
    ("portcullis-plugin-contract-v1", "contract_v1", false),
];

fn main() {
    let manifest_dir =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir.parent().expect("workspace root").to_path_buf();
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    // One nested target directory per outer target directory (shared by
    // `cargo build`, `cargo test` and `cargo clippy`, whose OUT_DIRs differ):
    // OUT_DIR is <target>/<profile>/build/portcullis-<hash>/out.
    let target_dir = out_dir
        .ancestors()
        .nth(4)
        .map_or_else(|| out_dir.join("wasm-target"), |t| t.join("wasm-plugins"));

    for dir in ["wit", "plugins", "tests/plugins", "Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }

    // The triple the precompiled plugins are compiled for (see
    // `sandbox::precompiled`).
    println!(
        "cargo:rustc-env=PORTCULLIS_TARGET={}",
        std::env::var("TARGET").expect("TARGET")
    );
    ensure_wasm_target();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir)
        .env_remove("RUSTFLAGS")
        // wasm SIMD (supported by the engine) lets memchr and friends scan
        // file contents with 128-bit vectors.
        .env("CARGO_ENCODED_RUSTFLAGS", "-Ctarget-feature=+simd128")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        // Under `cargo clippy` the plugins are built, not linted, here; they
        // are linted as workspace members in their own right.
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("CLIPPY_ARGS");
    for (package, _, _) in PLUGINS {
        cmd.args(["-p", package]);
    }
    let status = cmd.status().expect("run cargo to build the plugins");
    assert!(
        status.success(),
        "building the wasm plugins failed ({status})"
    );

    let wasm_dir = target_dir.join("wasm32-wasip2").join("release");
    let mut builtins = String::from(
        "/// Plugins embedded in the binary: (name, component bytes, sha256 hex).\npub const EMBEDDED: &[(&str, &[u8], &str)] = &[\n",
    );
    for (package, stem, embedded) in PLUGINS {
        let file = wasm_dir.join(format!("{}.wasm", package.replace('-', "_")));
        assert!(file.exists(), "missing {}", file.display());
        let copy = out_dir.join(format!("{stem}.wasm"));
        copy_if_changed(&file, &copy);
        if *embedded {
            let bytes = std::fs::read(&copy).expect("read wasm");
            let sha: String = sha2::Sha256::digest(&bytes)
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            builtins.push_str(&format!(
                "    ({stem:?}, include_bytes!({:?}), {sha:?}),\n",
                copy.display().to_string()
            ));
        } else {
            println!(
                "cargo:rustc-env=PORTCULLIS_TEST_WASM_{}={}",
                stem.to_uppercase(),
                copy.display()
            );
        }
    }
    builtins.push_str("];\n");
    // Versions, from the lockfile the build used.
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).expect("read Cargo.lock");
    let version = |package: &str| locked_version(&lock, package).unwrap_or_else(|| "?".into());
    builtins.push_str(
        "/// Each embedded plugin's crate version: (name, version).\npub const VERSIONS: &[(&str, &str)] = &[\n",
    );
    for (package, stem, embedded) in PLUGINS {
        if *embedded {
            builtins.push_str(&format!("    ({stem:?}, {:?}),\n", version(package)));
        }
    }
    builtins.push_str("];\n");
    builtins.push_str(&format!(
        "/// The WebAssembly engine's version.\npub const WASMTIME_VERSION: &str = {:?};\n",
        version("wasmtime")
    ));
    std::fs::write(out_dir.join("builtins.rs"), builtins).expect("write builtins.rs");
}

/// The version of `package` in a Cargo.lock.
fn locked_version(lock: &str, package: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == format!("name = \"{package}\"") {
            let v = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(v.trim_end_matches('"').to_string());
        }
    }
    None
}

/// rust-toolchain.toml lists the wasm32-wasip2 target, but rustup installs
/// it only when auto-install is on (`RUSTUP_AUTO_INSTALL=0` turns it off).
/// Add it here when it is missing, so one `cargo build` sets everything up.
fn ensure_wasm_target() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    let installed =
        sysroot.is_some_and(|s| Path::new(&s).join("lib/rustlib/wasm32-wasip2").is_dir());
    if installed {
        return;
    }
    let mut cmd = Command::new("rustup");
    cmd.args(["target", "add", "wasm32-wasip2"]);
    if let Ok(toolchain) = std::env::var("RUSTUP_TOOLCHAIN") {
        cmd.args(["--toolchain", &toolchain]);
    }
    let ok = cmd.status().is_ok_and(|s| s.success());
    assert!(
        ok,
        "the wasm32-wasip2 target is missing and `rustup target add wasm32-wasip2` failed; install it and build again"
    );
}

fn copy_if_changed(from: &Path, to: &Path) {
    let new = std::fs::read(from).expect("read wasm");
    if std::fs::read(to).ok().as_deref() != Some(new.as_slice()) {
        std::fs::write(to, new).expect("write wasm");
    }
}
