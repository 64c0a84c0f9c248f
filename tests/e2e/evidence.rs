//! What the host hands to plugins, seen from inside a plugin
//! (tests/plugins/probe).

use crate::common::*;

#[test]
fn files_cargo_metadata_reports_and_config_reach_the_plugin() {
    let repo = Repo::new();
    repo.write("Cargo.toml", "[package]\nname = \"probed-crate\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\n")
        .write("src/lib.rs", "\n")
        .write(".gitignore", "/target\n/skip.txt\n")
        .write("skip.txt", "ignored\n")
        .write("r.sarif", "{\"version\":\"2.1.0\",\"runs\":[]}");
    repo.policy_with_wasm(
        "probe",
        PROBE_WASM,
        "[reports.scan]\npath = \"r.sarif\"\nformat = \"sarif\"\n[plugins.probe.config]\nanswer = 42\nwhen = 2026-01-01\n",
    );
    let run = repo.run(&["check", "--format", "json", "--verbose"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    let messages = finding_messages(&doc);
    assert_eq!(
        messages,
        vec![
            "to read: .gitignore,Cargo.toml,portcullis.toml,r.sarif,src/lib.rs",
            "files: .gitignore,Cargo.toml,portcullis.toml,r.sarif,src/lib.rs",
            "packages: probed-crate",
            "reports: scan=29",
            "config: {\"answer\":42,\"when\":\"2026-01-01\"}",
            "changed: all",
        ]
    );
    assert!(
        run.stderr
            .contains("portcullis: plugin probe info: probe evaluating"),
        "{}",
        run.stderr
    );
    assert_eq!(doc["counts"]["note"], 6);
}

/// With findings counted only in changed files, plugins are told which
/// (the contract's `changed-files`), so they need read no other file.
#[test]
fn plugins_are_told_which_files_changed() {
    let repo = Repo::new();
    repo.git(&["init", "-q"]);
    repo.write("old.txt", "x\n").write("src/lib.rs", "\n");
    repo.policy_with_wasm("probe", PROBE_WASM, "");
    repo.git(&["add", "."]);
    repo.git(&["commit", "-qm", "base"]);
    repo.write("src/lib.rs", "// edited\n")
        .write("new.txt", "y\n");
    let run = repo.run(&["check", "--changed-since", "HEAD", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(
        finding_messages(&doc),
        ["to read: new.txt,src/lib.rs", "changed: new.txt,src/lib.rs"],
        "the located findings (in Cargo.toml, unchanged) are dropped: {doc}"
    );
    repo.git(&["add", "new.txt"]);
    let run = repo.run(&["check", "--staged", "--format", "json"]);
    assert_eq!(
        finding_messages(&run.json()),
        ["to read: new.txt", "changed: new.txt"],
        "{}",
        run.stderr
    );
}

/// The contract's `cargo-metadata`: asked while the plugin runs, with
/// `--no-deps` (the workspace's own packages) or with every package; the
/// time cargo takes does not count against the plugin's deadline.
#[test]
fn plugins_ask_for_cargo_metadata_while_they_run() {
    let repo = Repo::new();
    let package = |name: &str, deps: &str| {
        format!(
            "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\n{deps}"
        )
    };
    repo.write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"app\"]\nexclude = [\"vendor/helper\"]\nresolver = \"2\"\n",
    )
    .write(
        "app/Cargo.toml",
        package("app", "helper = { path = \"../vendor/helper\" }\n"),
    )
    .write("app/src/lib.rs", "\n")
    .write("vendor/helper/Cargo.toml", package("helper", ""))
    .write("vendor/helper/src/lib.rs", "\n");
    repo.generate_lockfile();
    let asked = |dependencies: bool, extra: &str, env: &[(&str, &str)]| {
        repo.policy_with_wasm(
            "probe",
            PROBE_WASM,
            &format!("{extra}\n[plugins.probe.config]\nask-cargo-metadata = {dependencies}\n"),
        );
        repo.run_env(&["check", "--format", "json"], env)
    };
    for (dependencies, packages) in [(false, "app"), (true, "app,helper")] {
        let run = asked(dependencies, "", &[]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let doc = run.json();
        let want = format!("asked (dependencies: {dependencies}): {packages}");
        assert!(
            finding_messages(&doc).contains(&want.as_str()),
            "{want}: {doc}"
        );
        // The evidence, collected before the plugin ran, has them all.
        assert!(
            finding_messages(&doc).contains(&"packages: app,helper"),
            "{doc}"
        );
    }

    // A cargo that takes 2 s, against a deadline of 500 ms: cargo's time is
    // not the plugin's.
    let slow = tempfile::tempdir().expect("tempdir");
    let marker = slow.path().join("cargo-ran");
    let cargo = slow_cargo(slow.path(), 2, &marker);
    let cargo_s = cargo.to_string_lossy().into_owned();
    let started = std::time::Instant::now();
    let run = asked(false, "timeout-ms = 500", &[("CARGO", cargo_s.as_str())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(marker.exists(), "the slow cargo did not run");
    assert!(started.elapsed() >= std::time::Duration::from_secs(2));
    assert!(
        finding_messages(&run.json()).contains(&"asked (dependencies: false): app"),
        "{}",
        run.stdout
    );
}

#[test]
fn without_a_cargo_toml_cargo_metadata_is_absent() {
    let repo = Repo::new();
    repo.policy_with_wasm("probe", PROBE_WASM, "");
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let doc = run.json();
    assert!(
        finding_messages(&doc).contains(&"packages: none"),
        "the plugin decides what absence means: {}",
        run.stdout
    );
    assert_eq!(
        doc["notices"],
        serde_json::json!([]),
        "not a Rust project: no noise"
    );
}

#[test]
fn compiled_plugins_are_cached_and_bad_cache_entries_recompiled() {
    let repo = Repo::new();
    repo.write("a.txt", "a\n").write(
        "portcullis.toml",
        "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n",
    );
    let cache = tempfile::tempdir().expect("cache");
    let run = |env_cache: &std::path::Path| {
        std::process::Command::new(BIN)
            .args(["check", "--format", "json"])
            .current_dir(repo.path())
            .env("PORTCULLIS_CACHE_DIR", env_cache)
            .output()
            .expect("run")
    };
    let first = run(cache.path());
    assert_eq!(first.status.code(), Some(0));
    let cached = |out: &std::process::Output| {
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        doc["plugins"][0]["compile_cached"]
            .as_bool()
            .expect("compile_cached")
    };
    assert!(!cached(&first), "the first run compiles");
    assert!(
        cached(&run(cache.path())),
        "the second run loads the compiled plugin"
    );
    let entries: Vec<_> = std::fs::read_dir(cache.path())
        .expect("cache dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(entries.len(), 1, "one compiled artifact");
    let artifact = &entries[0];
    let good = std::fs::read(artifact).expect("artifact");
    // Corrupt the payload: the checksum no longer verifies, so it is never
    // deserialized; the plugin is recompiled and the entry rewritten.
    let mut bad = good.clone();
    let n = bad.len();
    bad[n - 100] ^= 0xff;
    std::fs::write(artifact, &bad).expect("corrupt");
    let out = run(cache.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!cached(&out), "a corrupt entry is recompiled, not loaded");
    assert_eq!(
        std::fs::read(artifact).expect("rewritten"),
        good,
        "recompiled and rewritten"
    );
    // Garbage that is not ours at all.
    std::fs::write(artifact, b"not a cache entry").expect("garbage");
    assert_eq!(run(cache.path()).status.code(), Some(0));
}

#[test]
fn reports_no_plugin_reads_are_a_policy_error() {
    let repo = Repo::new();
    repo.write("r.sarif", "{}");
    repo.policy_with_wasm(
        "h",
        HOSTILE_WASM,
        "[reports.scan]\npath = \"r.sarif\"\nformat = \"sarif\"\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.trim().ends_with(
            "portcullis.toml:4:1: [reports] names scan but no plugin in the policy reads reports"
        ),
        "{}",
        run.stderr
    );
}
