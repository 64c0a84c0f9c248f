//! History mode, deterministic metrics and artifact sizes, on fixture
//! trees written in portcullis's own benchmark JSON.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::path::Path;

use portcullis_plugin_perf::Perf;
use portcullis_sdk::testing::Harness;
use portcullis_sdk::{Evaluation, Finding, Level};
use serde_json::{Value, json};

fn write(root: &Path, rel: &str, content: &[u8]) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, content).unwrap();
}

/// A result file: (name, unit, samples) per benchmark.
fn results(benches: &[(&str, &str, Vec<f64>)]) -> Vec<u8> {
    let list: Vec<Value> = benches
        .iter()
        .map(|(n, u, s)| json!({"name": n, "unit": u, "samples": s}))
        .collect();
    serde_json::to_vec(&json!({"benchmarks": list})).unwrap()
}

/// `n` samples around `center` with a ±2 % spread that depends on `seed`.
fn around(center: f64, n: usize, seed: usize) -> Vec<f64> {
    (0..n)
        .map(|i| center * (1.0 + 0.02 * ((((i * 7 + seed * 13) % 11) as f64 / 5.0) - 1.0)))
        .collect()
}

fn rules(e: &Evaluation) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = e
        .findings
        .iter()
        .filter(|f| f.rule_id != "summary")
        .map(|f| {
            (
                f.rule_id.clone(),
                f.message.split(':').next().unwrap_or("").to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn run(root: &Path, config: Value) -> Result<Evaluation, String> {
    Harness::new(root).config(config).run::<Perf>()
}

fn by_rule<'a>(e: &'a Evaluation, rule: &str) -> Vec<&'a Finding> {
    e.findings.iter().filter(|f| f.rule_id == rule).collect()
}

#[test]
fn history_mode_flags_a_run_outside_the_prediction_interval() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for run in 0..12 {
        // Run-to-run drift of up to ±2 %.
        let drift = 1.0 + 0.02 * (((run * 5) % 7) as f64 / 3.0 - 1.0);
        write(
            root,
            &format!("history/2026-11-{:02}.json", run + 1),
            &results(&[
                ("parse", "us", around(100.0 * drift, 30, run)),
                ("render", "us", around(50.0 * drift, 30, run)),
                ("gone", "us", around(10.0, 30, run)),
            ]),
        );
    }
    write(
        root,
        "bench.json",
        &results(&[
            ("parse", "us", around(130.0, 30, 99)),
            ("render", "us", around(50.5, 30, 99)),
            ("fresh", "us", around(1.0, 30, 99)),
        ]),
    );
    let config =
        json!({"benchmarks": [{"format": "json", "current": "bench.json", "history": "history"}]});
    let e = run(root, config.clone()).unwrap();
    assert_eq!(
        rules(&e),
        [
            ("inconclusive".to_string(), "fresh".to_string()),
            ("missing".to_string(), "gone".to_string()),
            ("regression".to_string(), "parse".to_string()),
        ]
    );
    let f = by_rule(&e, "regression")[0];
    assert!(
        f.message
            .contains("than the median of 12 past runs (above the 99% prediction interval)"),
        "{}",
        f.message
    );
    let p: Value = serde_json::from_str(f.properties.as_deref().unwrap()).unwrap();
    assert_eq!(p["mode"], "history");
    assert_eq!(p["runs"], 12);
    assert!(p["interval_high_percent"].as_f64().unwrap() < 10.0);
    assert!(
        by_rule(&e, "inconclusive")[0]
            .message
            .contains("0 past runs hold this benchmark, 10 needed")
    );

    // Too few past runs: a note, never a verdict.
    for run in 4..12 {
        std::fs::remove_file(root.join(format!("history/2026-11-{:02}.json", run + 1))).unwrap();
    }
    let e = run(root, config).unwrap();
    assert!(by_rule(&e, "regression").is_empty());
    let notes: Vec<&str> = by_rule(&e, "inconclusive")
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert!(
        notes.contains(&"parse: inconclusive: 4 past runs hold this benchmark, 10 needed"),
        "{notes:?}"
    );
}

#[test]
fn deterministic_counts_fail_on_a_plain_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        root,
        "base.json",
        &results(&[
            ("parse instructions", "instructions", vec![1_000_000.0]),
            ("parse allocations", "allocations", vec![200.0]),
            ("render instructions", "instructions", vec![500_000.0]),
        ]),
    );
    write(
        root,
        "new.json",
        &results(&[
            ("parse instructions", "instructions", vec![1_030_000.0]),
            ("parse allocations", "allocations", vec![201.0]),
            ("render instructions", "instructions", vec![450_000.0]),
        ]),
    );
    let e = run(
        root,
        json!({"benchmarks": [{"format": "json", "current": "new.json", "baseline": "base.json"}]}),
    )
    .unwrap();
    assert_eq!(
        rules(&e),
        [
            (
                "count-regression".to_string(),
                "parse instructions".to_string()
            ),
            ("improvement".to_string(), "render instructions".to_string()),
        ]
    );
    // +0.5 % allocations is under the default 1 % threshold.
    let f = by_rule(&e, "count-regression")[0];
    assert_eq!(f.level, None, "the rule's default level (error) applies");
    assert_eq!(
        f.message,
        "parse instructions: instructions +3.0% (1000000 instructions → 1030000 instructions), threshold +1.0%"
    );
    // A stricter per-benchmark threshold catches the allocation.
    let e = run(
        root,
        json!({"benchmarks": [{"format": "json", "current": "new.json", "baseline": "base.json"}],
               "overrides": {"* allocations": {"count-threshold": 0}}}),
    )
    .unwrap();
    assert_eq!(by_rule(&e, "count-regression").len(), 2);
    assert_eq!(
        portcullis_plugin_perf::rules::COUNT_REGRESSION.default_level(),
        Level::Error
    );
}

#[test]
fn artifact_sizes_against_limits_and_the_baseline_build() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "target/release/app", &vec![0u8; 3000]);
    write(root, "target/release/plugin.wasm", &vec![0u8; 1100]);
    write(root, "target/release/other.wasm", &vec![0u8; 500]);
    write(root, "target/release/deps/huge.rlib", &vec![0u8; 9000]);
    let base = tempfile::tempdir().unwrap();
    write(base.path(), "app", &vec![0u8; 3000]);
    write(base.path(), "plugin.wasm", &vec![0u8; 1000]);
    write(base.path(), "other.wasm", &vec![0u8; 600]);
    let e = Harness::new(root)
        .mount("baseline", base.path())
        .config(json!({"sizes": [{
            "current": "target/release", "baseline": "/mnt/baseline",
            "files": ["app", "*.wasm"], "max": "2.5 KiB", "max-increase": 5
        }]}))
        .run::<Perf>()
        .unwrap();
    assert_eq!(
        rules(&e),
        [
            ("improvement".to_string(), "other.wasm".to_string()),
            ("size-budget".to_string(), "app".to_string()),
            ("size-increase".to_string(), "plugin.wasm".to_string()),
        ]
    );
    assert_eq!(
        by_rule(&e, "size-increase")[0].message,
        "plugin.wasm: grew +10.0% (1000 B → 1100 B), limit +5.0%"
    );
    assert_eq!(
        by_rule(&e, "size-budget")[0].message,
        "app: 3000 B is over its limit of 2560 B"
    );
    let table = &by_rule(&e, "summary")[0].message;
    assert!(table.contains("3 artifacts measured"), "{table}");
    assert!(!table.contains("huge.rlib"), "{table}");
    // A glob that matches nothing is a mistake, not a pass.
    let err = Harness::new(root)
        .config(json!({"sizes": [{"current": "target/release", "files": ["portcullis"]}]}))
        .run::<Perf>()
        .unwrap_err();
    assert_eq!(
        err,
        "config.sizes[0].files: `portcullis` matches no file under target/release (was the artifact built?)"
    );
    let err = Harness::new(root)
        .config(
            json!({"sizes": [{"current": "target/release", "files": ["app"], "max": "3 parsecs"}]}),
        )
        .run::<Perf>()
        .unwrap_err();
    assert!(
        err.starts_with("config.sizes[0].max: `3 parsecs`: unknown unit `parsecs`"),
        "{err}"
    );
}
