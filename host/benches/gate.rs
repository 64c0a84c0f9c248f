//! `cargo bench -p portcullis --bench gate`: the figures in BENCHMARKS.md.
//!
//! 1. Sandbox overhead of an empty plugin: instantiate + evaluate, in process.
//! 2. The default policy on this repository through the binary: cold (empty
//!    compile cache) and warm.
//! 3. The lint plugin on a generated 10 000-file tree, next to `rg` doing
//!    the conflict-marker scan on the same tree (skipped if `rg` is absent).
#![allow(clippy::disallowed_macros)] // a benchmark reports on stdout

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use portcullis::evidence::{Evidence, Kind};
use portcullis::sandbox::{Grants, Limits, Sandbox};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn micros(d: Duration) -> String {
    format!("{:.0} µs", d.as_secs_f64() * 1e6)
}

fn time_cmd(cmd: &mut Command) -> Duration {
    let t = Instant::now();
    let out = cmd.output().expect("run");
    let took = t.elapsed();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    took
}

fn empty_plugin() {
    let cache = tempfile::tempdir().expect("cache");
    let sandbox = Sandbox::with_cache_dir(Some(cache.path().to_path_buf())).expect("sandbox");
    let bytes = std::fs::read(env!("PORTCULLIS_TEST_WASM_HOSTILE")).expect("wasm");
    let sha = portcullis::digest::sha256_hex(&bytes);
    let plugin = sandbox.load(&bytes, &sha).expect("load");
    let evidence = Evidence {
        root: std::env::temp_dir(),
        ..Default::default()
    };
    let config = serde_json::json!({"attack": "none"});
    let limits = Limits::new(5_000, 256);
    let n = 2_000;
    for _ in 0..100 {
        sandbox
            .evaluate(&plugin, limits, Grants::default(), &config, &[], &evidence)
            .expect("warm-up");
    }
    let t = Instant::now();
    for _ in 0..n {
        sandbox
            .evaluate(
                &plugin,
                limits,
                Grants::default(),
                &config,
                &[Kind::Files],
                &evidence,
            )
            .expect("evaluate");
    }
    let per = t.elapsed() / n;
    println!(
        "empty plugin, instantiate + evaluate: {:.1} µs per call ({n} calls)",
        per.as_secs_f64() * 1e6
    );
}

fn default_policy_on_this_repo() {
    let bin = env!("CARGO_BIN_EXE_portcullis");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut cold = Vec::new();
    for _ in 0..5 {
        let cache = tempfile::tempdir().expect("cache");
        cold.push(time_cmd(
            Command::new(bin)
                .args(["check", "--format", "json"])
                .current_dir(&repo)
                .env("PORTCULLIS_CACHE_DIR", cache.path()),
        ));
    }
    let cache = tempfile::tempdir().expect("cache");
    let mut warm = Vec::new();
    for i in 0..21 {
        let d = time_cmd(
            Command::new(bin)
                .args(["check", "--format", "json"])
                .current_dir(&repo)
                .env("PORTCULLIS_CACHE_DIR", cache.path()),
        );
        if i > 0 {
            warm.push(d);
        }
    }
    println!(
        "default policy on this repository: cold {} (median of 5), warm {} (median of 20)",
        ms(median(cold)),
        ms(median(warm))
    );
}

fn ten_thousand_files() {
    let dir = tempfile::tempdir().expect("tree");
    let line = "let value = compute(alpha, beta, gamma); // an ordinary line of code\n";
    let body: String = line.repeat(30);
    for d in 0..100 {
        for f in 0..100 {
            let p = dir.path().join(format!("d{d:03}/f{f:03}.rs"));
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            let text = if f == 0 && d % 10 == 0 {
                format!(
                    "{}\n{} HEAD\nx\n=======\ny\n{} b\n",
                    body,
                    "<".repeat(7),
                    ">".repeat(7)
                )
            } else {
                body.clone()
            };
            std::fs::write(p, text).expect("write");
        }
    }
    let bytes: u64 = 10_000 * body.len() as u64;
    let bin = env!("CARGO_BIN_EXE_portcullis");
    let cache = tempfile::tempdir().expect("cache");
    let run = || {
        Command::new(bin)
            .args(["check", "--format", "json"])
            .current_dir(dir.path())
            .env("PORTCULLIS_CACHE_DIR", cache.path())
            .output()
            .expect("run")
    };
    let out = run();
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let found = doc["findings"].as_array().map_or(0, Vec::len);
    assert_eq!(found, 30, "3 markers in each of 10 files");
    // The lint plugin alone (the rg comparison), then the whole default
    // policy (lint, secrets and deps: every file is read by two plugins).
    let lint_only = cache.path().join("lint-only.toml");
    std::fs::write(
        &lint_only,
        "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n",
    )
    .expect("policy");
    let timed = |extra: &[&str]| {
        median(
            (0..7)
                .map(|_| {
                    time_cmd(
                        Command::new(bin)
                            .args(["check", "--format", "json"])
                            .args(extra)
                            .current_dir(dir.path())
                            .env("PORTCULLIS_CACHE_DIR", cache.path()),
                    )
                })
                .collect(),
        )
    };
    let lint_policy = lint_only.to_string_lossy().into_owned();
    let _ = timed(&["--policy", &lint_policy]);
    let ours = timed(&["--policy", &lint_policy]);
    let whole = timed(&[]);
    println!(
        "10 000 files ({} MiB), warm: lint plugin alone {}, whole default policy {}",
        bytes >> 20,
        ms(ours),
        ms(whole)
    );
    let rg = Command::new("rg").arg("--version").output();
    if rg.is_err() {
        println!("rg not installed (apt-get install ripgrep): comparison skipped");
        return;
    }
    let rg_time = median(
        (0..7)
            .map(|_| {
                time_cmd(
                    Command::new("rg")
                        .args(["-c", "--no-ignore", "^(<<<<<<<|>>>>>>>|=======)( |$)"])
                        .current_dir(dir.path()),
                )
            })
            .collect(),
    );
    println!(
        "rg, same tree, conflict-marker scan: {}  (portcullis / rg = {:.2}x)",
        ms(rg_time),
        ours.as_secs_f64() / rg_time.as_secs_f64()
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // `cargo bench --bench gate -- perf` runs only the benches whose name
    // contains `perf`.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let benches: [(&str, fn()); 6] = [
        ("empty_plugin", empty_plugin),
        ("default_policy_on_this_repo", default_policy_on_this_repo),
        ("ten_thousand_files", ten_thousand_files),
        ("codeowners_at_scale", codeowners_at_scale),
        ("perf_at_scale", perf_at_scale),
        ("keyless_verification", keyless_verification),
    ];
    for (name, bench) in benches {
        if filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str())) {
            bench();
        }
    }
}

/// A keyless signature checked offline: the real public-good bundle of a
/// release (chain, SCT, log promise, inclusion proof and checkpoint,
/// signature), in process, and `portcullis verify` on it as a whole
/// process; with the trusted root read once, as a run reads it.
fn keyless_verification() {
    use portcullis::oci::keyless::{Subject, TrustedRoot, verify};
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/sigstore");
    let whl = dir.join("rfc8785-0.1.2-py3-none-any.whl");
    let bundle_file = dir.join("rfc8785-0.1.2-py3-none-any.whl.sigstore.json");
    let root_file = dir.join("trusted_root.public-good.json");
    let bytes = std::fs::read(&whl).expect("whl");
    let bundle = std::fs::read(&bundle_file).expect("bundle");
    let read_root: Vec<Duration> = (0..200)
        .map(|_| {
            let t = Instant::now();
            TrustedRoot::read(&root_file).expect("root");
            t.elapsed()
        })
        .collect();
    let root = TrustedRoot::read(&root_file).expect("root");
    let subject = Subject::of(&bytes);
    for _ in 0..50 {
        verify(&bundle, &subject, &root).expect("verified");
    }
    let samples: Vec<Duration> = (0..1000)
        .map(|_| {
            let t = Instant::now();
            verify(&bundle, &subject, &root).expect("verified");
            t.elapsed()
        })
        .collect();
    let bin = env!("CARGO_BIN_EXE_portcullis");
    let process: Vec<Duration> = (0..31)
        .map(|_| {
            time_cmd(Command::new(bin).arg("verify").arg(&whl).arg("--bundle").arg(&bundle_file)
                .args(["--identity", "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2"])
                .args(["--issuer", "https://token.actions.githubusercontent.com", "--trusted-root"])
                .arg(&root_file))
        })
        .collect();
    let version: Vec<Duration> = (0..31)
        .map(|_| time_cmd(Command::new(bin).arg("-V")))
        .collect();
    println!(
        "keyless: read the public-good trusted root {}; verify one bundle {} (median of 1 000, in process); \
         `portcullis verify FILE --bundle` {} against `portcullis -V` {} (whole processes, medians of 31)",
        micros(median(read_root)),
        micros(median(samples)),
        ms(median(process)),
        ms(median(version))
    );
}

/// 1 000 benchmarks × 100 samples against a baseline of the same size
/// through the perf plugin (20 of them 20 % slower), warm (median of 7).
fn perf_at_scale() {
    let dir = tempfile::tempdir().expect("repo");
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        1.0 + ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.1
    };
    let mut set = |slow: bool| {
        let list: Vec<serde_json::Value> = (0..1000)
            .map(|i| {
                let t = 1000.0 + i as f64 * 10.0;
                let factor = if slow && i % 50 == 0 { 1.2 } else { 1.0 };
                let samples: Vec<f64> = (0..100).map(|_| t * factor * noise()).collect();
                serde_json::json!({"name": format!("group{}/bench{i}", i % 20), "unit": "ns", "samples": samples})
            })
            .collect();
        serde_json::json!({ "benchmarks": list }).to_string()
    };
    std::fs::create_dir_all(dir.path().join("bench")).expect("mkdir");
    std::fs::write(dir.path().join("bench/base.json"), set(false)).expect("write");
    std::fs::write(dir.path().join("bench/new.json"), set(true)).expect("write");
    std::fs::write(
        dir.path().join("portcullis.toml"),
        "[plugins.perf]\nsource = \"builtin:perf\"\nread = [\"bench\"]\n[plugins.perf.config]\nbenchmarks = [{ format = \"json\", current = \"bench/new.json\", baseline = \"bench/base.json\" }]\n",
    )
    .expect("policy");
    let (process, plugin) = warm_check(dir.path(), |doc| {
        let regressions = doc["findings"].as_array().map_or(0, |f| {
            f.iter()
                .filter(|f| f["rule_id"] == "perf/regression")
                .count()
        });
        assert_eq!(regressions, 20, "the 20 slowed benchmarks");
    });
    println!(
        "perf, 1 000 benchmarks x 100 samples vs baseline, warm: {} whole process, {} the plugin (medians of 7)",
        ms(process),
        ms(plugin)
    );
}

/// A 5 000-line CODEOWNERS and 10 000 changed files through the approvals
/// plugin, warm (median of 7), whole process and the plugin alone.
fn codeowners_at_scale() {
    let dir = tempfile::tempdir().expect("repo");
    let mut co = String::from("* @org/everyone\n");
    for i in 0..4_999 {
        co.push_str(&match i % 4 {
            0 => format!("/svc{i}/ @org/team{}\n", i % 50),
            1 => format!("*.ext{i} @user{i}\n"),
            2 => format!("lib{i}/**/test @org/team{} @user{i}\n", i % 50),
            _ => format!("docs{i}/* user{i}@example.com\n"),
        });
    }
    std::fs::create_dir_all(dir.path().join(".github")).expect("mkdir");
    std::fs::write(dir.path().join(".github/CODEOWNERS"), co).expect("write");
    let files: Vec<serde_json::Value> = (0..10_000)
        .map(|i| serde_json::json!({"path": format!("svc{}/src/file{i}.rs", (i * 4) % 5_000), "status": "modified"}))
        .collect();
    let teams: serde_json::Map<String, serde_json::Value> = (0..50)
        .map(|t| {
            (
                format!("org/team{t}"),
                serde_json::json!([format!("member{t}")]),
            )
        })
        .chain(std::iter::once((
            "org/everyone".to_string(),
            serde_json::json!(["ev"]),
        )))
        .collect();
    let context = serde_json::json!({
        "author": "alice", "base": "main", "head_sha": "c".repeat(40),
        "files": files,
        "commits": [], "labels": [],
        "reviews": (0..50).map(|t| serde_json::json!({"user": format!("member{t}"), "state": "APPROVED", "commit": "c".repeat(40)})).collect::<Vec<_>>(),
    });
    std::fs::write(dir.path().join("pr.json"), context.to_string()).expect("write");
    std::fs::write(
        dir.path().join("teams.json"),
        serde_json::Value::Object(teams).to_string(),
    )
    .expect("write");
    std::fs::write(
        dir.path().join("portcullis.toml"),
        "[plugins.approvals]\nsource = \"builtin:approvals\"\nread = [\".\"]\n[plugins.approvals.config]\nteams-file = \"teams.json\"\n[reports.pr]\npath = \"pr.json\"\nformat = \"pr-context\"\n",
    )
    .expect("policy");
    let (process, plugin) = warm_check(dir.path(), |doc| {
        assert_eq!(doc["verdict"], "pass", "every file approved: {doc}");
    });
    println!(
        "approvals, 5 000-line CODEOWNERS, 10 000 changed files, warm: {} whole process, {} the plugin (medians of 7)",
        ms(process),
        ms(plugin)
    );
}

/// `portcullis check --format json` in `dir` with a private cache: one run
/// to fill the cache, then 7 warm ones, each report checked by `verify`.
/// Medians of the whole process and of the (first) plugin's call.
fn warm_check(dir: &std::path::Path, verify: impl Fn(&serde_json::Value)) -> (Duration, Duration) {
    let bin = env!("CARGO_BIN_EXE_portcullis");
    let cache = tempfile::tempdir().expect("cache");
    let run = || {
        let t = Instant::now();
        let out = Command::new(bin)
            .args(["check", "--format", "json"])
            .current_dir(dir)
            .env("PORTCULLIS_CACHE_DIR", cache.path())
            .output()
            .expect("run");
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        verify(&doc);
        (
            t.elapsed(),
            Duration::from_millis(doc["plugins"][0]["duration_ms"].as_u64().unwrap_or(0)),
        )
    };
    let _ = run();
    let runs: Vec<(Duration, Duration)> = (0..7).map(|_| run()).collect();
    (
        median(runs.iter().map(|r| r.0).collect()),
        median(runs.iter().map(|r| r.1).collect()),
    )
}
