//! A binary with the built-in plugins compiled ahead of time into it
//! (`portcullis precompile`): its first run on an empty machine compiles
//! nothing, and an artifact that does not load is compiled instead.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// `portcullis precompile --output DIR/portcullis`, run by `bin`.
fn precompile(bin: &Path, dir: &Path) -> PathBuf {
    let exe = dir.join("portcullis");
    let out = Command::new(bin)
        .args(["precompile", "--output"])
        .arg(&exe)
        .output()
        .expect("run portcullis precompile");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in ["lint", "secrets", "deps", "approvals", "perf", "rego"] {
        assert!(stdout.contains(&format!("builtin:{name}")), "{stdout}");
    }
    exe
}

/// Each plugin's `precompiled` in `check --format json`.
fn cached(run: &Run) -> Vec<(String, bool)> {
    run.json()["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .map(|p| {
            let loaded = p["compile_cached"].as_bool().expect("compile_cached");
            let precompiled = p["precompiled"].as_bool().expect("precompiled");
            assert!(loaded || !precompiled, "{p}");
            (p["id"].as_str().expect("id").to_string(), precompiled)
        })
        .collect()
}

/// Compiled artifacts anywhere under `dir` but its `precompiled`
/// directory (where a precompiled binary extracts its own artifacts).
fn artifacts_in(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |d| {
        d.filter_map(Result::ok)
            .map(|e| {
                let path = e.path();
                if path.is_dir() {
                    if e.file_name() == "precompiled" {
                        0
                    } else {
                        artifacts_in(&path)
                    }
                } else {
                    usize::from(path.to_string_lossy().ends_with(".cwasm"))
                }
            })
            .sum()
    })
}

/// The artifacts a precompiled binary extracted under the cache `dir`.
fn extracted_in(dir: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir.join("precompiled"))
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    found.sort();
    found
}

#[test]
fn a_precompiled_binary_compiles_nothing_on_its_first_run() {
    let dir = tempfile::tempdir().expect("dir");
    let exe = precompile(Path::new(BIN), dir.path());
    let repo = Repo::new();
    repo.write("broken.json", "{\n");
    let empty = tempfile::tempdir().expect("cache");
    let cache = empty.path().to_string_lossy().into_owned();
    let env = [("PORTCULLIS_CACHE_DIR", cache.as_str())];
    let run = repo.run_bin(&exe, &["check", "--format", "json"], &env);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(finding_ids(&run.json()).contains(&"lint/invalid-json"));
    let plugins = cached(&run);
    assert_eq!(plugins.len(), 3, "{plugins:?}");
    assert!(
        plugins.iter().all(|(_, c)| *c),
        "nothing compiled: {plugins:?}"
    );
    assert_eq!(artifacts_in(empty.path()), 0, "nor written to the cache");
    // Its own artifacts are extracted, to be mapped by later runs; these
    // still load the binary's artifacts (checked against its index), and
    // one that no longer verifies is read from the binary again.
    let extracted = extracted_in(empty.path());
    assert_eq!(extracted.len(), 3, "{extracted:?}");
    let all_precompiled = || {
        let again = repo.run_bin(&exe, &["check", "--format", "json"], &env);
        assert_eq!(again.code, 1, "{}{}", again.stdout, again.stderr);
        assert!(
            cached(&again).iter().all(|(_, c)| *c),
            "{:?}",
            cached(&again)
        );
    };
    all_precompiled();
    let mut bytes = std::fs::read(&extracted[0]).expect("extracted");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&extracted[0], &bytes).expect("corrupt");
    all_precompiled();
    assert_eq!(artifacts_in(empty.path()), 0, "still nothing compiled");
    assert_ne!(
        std::fs::read(&extracted[0]).expect("extracted"),
        bytes,
        "extracted again"
    );
    // The plain binary compiles (and caches) on an empty cache.
    let plain = repo.run(&["check", "--format", "json"]);
    assert!(
        cached(&plain).iter().all(|(_, c)| !c),
        "{:?}",
        cached(&plain)
    );
    assert!(artifacts_in(repo.cache_dir()) >= 3);
    // With the precompiled binary, the built-ins' own artifacts come first,
    // whatever the cache holds.
    let run = repo.run_bin(&exe, &["check", "--format", "json"], &[]);
    assert!(cached(&run).iter().all(|(_, c)| *c), "{:?}", cached(&run));

    // Precompiling a precompiled binary replaces its artifacts.
    let again = tempfile::tempdir().expect("dir");
    let twice = precompile(&exe, again.path());
    assert_eq!(
        std::fs::metadata(&twice).expect("twice").len(),
        std::fs::metadata(&exe).expect("once").len()
    );
}

#[test]
fn an_artifact_that_does_not_verify_is_compiled_instead() {
    let dir = tempfile::tempdir().expect("dir");
    let exe = precompile(Path::new(BIN), dir.path());
    let plain_len = std::fs::metadata(BIN).expect("bin").len() as usize;
    // Flip a byte in the middle of the first artifact (lint's).
    let mut bytes = std::fs::read(&exe).expect("exe");
    bytes[plain_len + 100_000] ^= 0xff;
    let broken = dir.path().join("broken");
    std::fs::write(&broken, &bytes).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&broken, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let repo = Repo::new();
    repo.write("broken.json", "{\n");
    let empty = tempfile::tempdir().expect("cache");
    let cache = empty.path().to_string_lossy().into_owned();
    let run = repo.run_bin(
        &broken,
        &["check", "--format", "json"],
        &[("PORTCULLIS_CACHE_DIR", cache.as_str())],
    );
    assert_eq!(
        run.code, 1,
        "the gate still runs: {}{}",
        run.stdout, run.stderr
    );
    assert!(finding_ids(&run.json()).contains(&"lint/invalid-json"));
    let plugins = cached(&run);
    assert!(
        plugins.contains(&("lint".to_string(), false))
            && plugins.contains(&("secrets".to_string(), true)),
        "lint compiled, the others precompiled: {plugins:?}"
    );
    assert_eq!(
        artifacts_in(empty.path()),
        1,
        "lint's compiled artifact cached"
    );
    assert_eq!(extracted_in(empty.path()).len(), 2, "the others' extracted");
}
