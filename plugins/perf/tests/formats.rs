//! The perf plugin on results written by the real tools
//! (`scripts/perf-fixtures`): each fixture set has a baseline run and a run
//! in which one workload really got slower (`sum/squares`, `BM_Squares/*`,
//! hyperfine's `sleep`), while the other workloads did not change.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::path::PathBuf;

use portcullis_plugin_perf::Perf;
use portcullis_sdk::testing::Harness;
use portcullis_sdk::{Evaluation, Finding};
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/perf")
}

fn run(config: Value) -> Result<Evaluation, String> {
    Harness::new(fixtures()).config(config).run::<Perf>()
}

fn with_rule<'a>(e: &'a Evaluation, rule: &str) -> Vec<&'a Finding> {
    e.findings.iter().filter(|f| f.rule_id == rule).collect()
}

fn props(f: &Finding) -> Value {
    serde_json::from_str(f.properties.as_deref().expect("properties")).expect("JSON properties")
}

fn benchmark(f: &Finding) -> String {
    props(f)["benchmark"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// The regressed benchmarks of an evaluation.
fn regressed(e: &Evaluation) -> Vec<String> {
    let mut v: Vec<String> = with_rule(e, "regression")
        .into_iter()
        .map(benchmark)
        .collect();
    v.sort();
    v
}

#[test]
fn criterion_directory_against_a_saved_baseline() {
    // `--save-baseline main` was taken before the slowdown.
    let e = run(json!({"benchmarks": [{"format": "criterion", "current": "criterion", "saved-baseline": "main"}]}))
        .unwrap();
    assert_eq!(regressed(&e), ["sum/squares"]);
    let f = with_rule(&e, "regression")[0];
    let p = props(f);
    assert_eq!(p["mode"], "ab");
    assert_eq!(p["samples_baseline"], 30);
    assert_eq!(p["samples_new"], 30);
    let change = p["change_percent"].as_f64().unwrap();
    assert!((15.0..30.0).contains(&change), "{change}");
    assert!(p["interval_low_percent"].as_f64().unwrap() > 5.0);
    assert!(p["p_adjusted"].as_f64().unwrap() < 0.01);
    assert!(p["baseline_median"].as_f64().unwrap() < p["new_median"].as_f64().unwrap());
    assert!(f.message.starts_with("sum/squares: "), "{}", f.message);
    assert!(f.message.contains("slower (99% CI +"), "{}", f.message);
    // The summary table lists both benchmarks.
    let summary = with_rule(&e, "summary");
    assert_eq!(summary.len(), 1);
    let table = &summary[0].message;
    assert!(
        table.starts_with("2 benchmarks compared: 1 regressed"),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("sum/fib ") && l.ends_with("unchanged")),
        "{table}"
    );
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("sum/squares ") && l.ends_with("regressed")),
        "{table}"
    );
}

#[test]
fn criterion_baseline_directory_and_missing_saved_baseline() {
    // criterion's `base/` is the latest run itself once a run ends: the
    // same samples, so nothing changes.
    let e = run(json!({"benchmarks": [{"format": "criterion", "current": "criterion", "saved-baseline": "base"}]}))
        .unwrap();
    assert!(regressed(&e).is_empty());
    let err = run(json!({"benchmarks": [{"format": "criterion", "current": "criterion", "saved-baseline": "release-1"}]}))
        .unwrap_err();
    assert!(
        err.starts_with("criterion: no `release-1` results to compare with"),
        "{err}"
    );
    // The same directory as its own baseline: identical samples, nothing.
    let e = run(json!({"benchmarks": [{"format": "criterion", "current": "criterion", "baseline": "criterion"}]}))
        .unwrap();
    assert!(regressed(&e).is_empty());
    assert!(with_rule(&e, "improvement").is_empty());
}

#[test]
fn cargo_criterion_messages() {
    let e = run(json!({"benchmarks": [{
        "format": "cargo-criterion", "current": "cargo-criterion-new.jsonl", "baseline": "cargo-criterion-base.jsonl"
    }]}))
    .unwrap();
    assert_eq!(regressed(&e), ["sum/squares"]);
}

#[test]
fn critcmp_exports_compare_estimates() {
    let e = run(json!({"benchmarks": [{
        "format": "critcmp", "current": "critcmp-new.json", "baseline": "critcmp-base.json"
    }]}))
    .unwrap();
    assert_eq!(regressed(&e), ["sum/squares"]);
    let p = props(with_rule(&e, "regression")[0]);
    // One estimate per side.
    assert_eq!(p["samples_new"], 1);
}

#[test]
fn hyperfine_exports() {
    let e = run(json!({"benchmarks": [{
        "format": "hyperfine", "current": "hyperfine-new.json", "baseline": "hyperfine-base.json"
    }]}))
    .unwrap();
    assert_eq!(regressed(&e), ["sleep"]);
    let p = props(with_rule(&e, "regression")[0]);
    assert_eq!(p["samples_new"], 20);
    // 20 ms → 30 ms, plus process start-up in both.
    let change = p["change_percent"].as_f64().unwrap();
    assert!((30.0..60.0).contains(&change), "{change}");
}

#[test]
fn google_benchmark_repetitions_are_samples() {
    let e = run(json!({"benchmarks": [{
        "format": "google-benchmark", "current": "gbench-new.json", "baseline": "gbench-base.json"
    }]}))
    .unwrap();
    assert_eq!(regressed(&e), ["BM_Squares/1000", "BM_Squares/8000"]);
    let p = props(with_rule(&e, "regression")[0]);
    // 12 repetitions; the mean/median/stddev/cv aggregates are not samples.
    assert_eq!(p["samples_new"], 12);
    assert_eq!(p["samples_baseline"], 12);
}

#[test]
fn inputs_are_told_apart_by_name() {
    let e = run(json!({"benchmarks": [
        {"format": "criterion", "current": "criterion", "saved-baseline": "main", "name": "criterion"},
        {"format": "cargo-criterion", "current": "cargo-criterion-new.jsonl", "baseline": "cargo-criterion-base.jsonl", "name": "cc"},
    ]}))
    .unwrap();
    assert_eq!(regressed(&e), ["cc/sum/squares", "criterion/sum/squares"]);
    // Without names the two inputs' benchmarks collide.
    let err = run(json!({"benchmarks": [
        {"format": "criterion", "current": "criterion", "saved-baseline": "main"},
        {"format": "cargo-criterion", "current": "cargo-criterion-new.jsonl", "baseline": "cargo-criterion-base.jsonl"},
    ]}))
    .unwrap_err();
    assert!(
        err.contains("config.benchmarks[1]: benchmark `sum/fib` also comes from another input"),
        "{err}"
    );
}

#[test]
fn overrides_skip_budget_and_loosen() {
    let e = run(json!({
        "benchmarks": [{"format": "criterion", "current": "criterion", "saved-baseline": "main"}],
        "overrides": {
            "sum/squares": {"noise-floor": 60},
            "sum/*": {"max": "5 ns"},
            "sum/fib": {"max": "1 s"}
        }
    }))
    .unwrap();
    // A 40 % slowdown under a 60 % floor is not flagged.
    assert!(regressed(&e).is_empty());
    // `sum/squares` matches its own (longest) pattern, which has no budget;
    // `sum/fib`'s own budget is generous.
    assert!(with_rule(&e, "over-budget").is_empty());
    let e = run(json!({
        "benchmarks": [{"format": "criterion", "current": "criterion", "saved-baseline": "main"}],
        "overrides": {"sum/*": {"max": "5 ns"}, "sum/fib": {"skip": true}}
    }))
    .unwrap();
    let over: Vec<String> = with_rule(&e, "over-budget")
        .into_iter()
        .map(benchmark)
        .collect();
    assert_eq!(over, ["sum/squares"]);
    assert!(
        with_rule(&e, "over-budget")[0]
            .message
            .contains("over its budget of 5.000 ns")
    );
    let table = &with_rule(&e, "summary")[0].message;
    assert!(!table.contains("sum/fib"), "{table}");
}

#[test]
fn bad_inputs_say_what_and_where() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.json"),
        "{\"benchmarks\": [\n  {\"name\": 1}\n]}",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("unit.json"),
        r#"{"benchmarks": [{"name": "a", "unit": "furlongs", "samples": [1]}]}"#,
    )
    .unwrap();
    let err = |config: Value| {
        Harness::new(dir.path())
            .config(config)
            .run::<Perf>()
            .unwrap_err()
    };
    let e = err(json!({"benchmarks": [{"format": "json", "current": "bad.json"}]}));
    assert!(e.starts_with("bad.json:2:"), "{e}");
    let e = err(json!({"benchmarks": [{"format": "json", "current": "unit.json"}]}));
    assert!(e.contains("unit `furlongs` is neither a time unit"), "{e}");
    let e = err(json!({"benchmarks": [{"format": "json", "current": "missing.json"}]}));
    assert!(e.starts_with("missing.json: cannot read"), "{e}");
    let e = err(json!({"benchmarks": [{"format": "json", "current": "../x.json"}]}));
    assert!(
        e.starts_with("config.benchmarks[0].current: `../x.json`"),
        "{e}"
    );
    let e = err(json!({"benchmarks": [{"format": "json", "current": "/mnt/base/x.json"}]}));
    assert!(e.contains("the policy mounts nothing as `base`"), "{e}");
    let e = err(json!({"benchmarks": [{"format": "nope", "current": "x"}]}));
    assert!(e.contains("unknown variant `nope`"), "{e}");
    let e = err(json!({"benchmarks": [{"format": "criterion", "current": "bad.json"}]}));
    assert!(e.contains("not a directory"), "{e}");
    let e = err(json!({}));
    assert!(e.contains("name at least one input"), "{e}");
    let e = err(json!({"alpha": 0.7, "benchmarks": []}));
    assert!(e.starts_with("config.alpha"), "{e}");
    let e = err(
        json!({"benchmarks": [{"format": "json", "current": "unit.json", "baseline": "a", "history": "b"}]}),
    );
    assert!(e.contains("not both"), "{e}");
}

#[test]
fn a_baseline_outside_the_repository_comes_through_a_mount() {
    let base = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("hyperfine-base.json"),
        base.path().join("hyperfine.json"),
    )
    .unwrap();
    let e = Harness::new(fixtures())
        .mount("baseline", base.path())
        .config(json!({"benchmarks": [{
            "format": "hyperfine", "current": "hyperfine-new.json", "baseline": "/mnt/baseline/hyperfine.json"
        }]}))
        .run::<Perf>()
        .unwrap();
    assert_eq!(regressed(&e), ["sleep"]);
}

#[test]
fn every_rule_is_well_formed_and_documented_in_the_readme() {
    use portcullis_sdk::Plugin;
    portcullis_sdk::testing::assert_rules_well_formed(portcullis_plugin_perf::RULES);
    portcullis_sdk::testing::assert_rules_documented(
        &Perf::describe(),
        "perf",
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")),
    );
}

/// Real outputs with their benchmarks taken out, as a run whose benchmarks
/// did not run (or a wrong file) leaves them. Before, each passed with no
/// finding and no notice.
#[test]
fn inputs_without_benchmarks_are_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = |name: &str| std::fs::read_to_string(fixtures().join(name)).unwrap();
    let json_of = |name: &str| -> Value { serde_json::from_str(&fixture(name)).unwrap() };
    let mut gbench = json_of("gbench-new.json");
    let aggregates: Vec<Value> = gbench["benchmarks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["run_type"] == "aggregate")
        .cloned()
        .collect();
    assert!(!aggregates.is_empty(), "the fixture ran with repetitions");
    gbench["benchmarks"] = Value::Array(aggregates);
    let mut hyperfine = json_of("hyperfine-new.json");
    hyperfine["results"] = json!([]);
    let mut gbench_empty = json_of("gbench-new.json");
    gbench_empty["benchmarks"] = json!([]);
    let files = [
        ("own.json", r#"{"benchmarks": []}"#.to_string()),
        ("gbench-empty.json", gbench_empty.to_string()),
        ("gbench-aggregates.json", gbench.to_string()),
        ("hyperfine.json", hyperfine.to_string()),
        ("cargo-criterion.jsonl", String::new()),
    ];
    for (name, text) in &files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    std::fs::create_dir(dir.path().join("criterion-empty")).unwrap();
    let err = |format: &str, current: &str| {
        Harness::new(dir.path())
            .config(json!({"benchmarks": [{"format": format, "current": current, "baseline": current}]}))
            .run::<Perf>()
            .expect_err(current)
    };
    let none = |shown: &str, format: &str| {
        format!(
            "{shown}: no benchmarks in this {format} output: the benchmarks did not run, or this is not the file they wrote"
        )
    };
    assert_eq!(err("json", "own.json"), none("own.json", "json"));
    assert_eq!(
        err("google-benchmark", "gbench-empty.json"),
        none("gbench-empty.json", "google-benchmark")
    );
    assert!(
        err("google-benchmark", "gbench-aggregates.json")
            .starts_with("gbench-aggregates.json: holds only aggregates"),
    );
    assert_eq!(
        err("hyperfine", "hyperfine.json"),
        none("hyperfine.json", "hyperfine")
    );
    assert_eq!(
        err("cargo-criterion", "cargo-criterion.jsonl"),
        none("cargo-criterion.jsonl", "cargo-criterion")
    );
    assert_eq!(
        err("criterion", "criterion-empty"),
        none("criterion-empty", "criterion")
    );
}

/// criterion's real results moved 17 directories down: before, skipped
/// silently (a 1e9× regression passed); now an error naming the place.
#[test]
fn criterion_results_nested_too_deep_are_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let deep: PathBuf = (0..17).fold(dir.path().join("criterion"), |p, i| p.join(format!("d{i}")));
    for which in ["new", "main"] {
        let from = fixtures().join("criterion/sum/squares").join(which);
        std::fs::create_dir_all(deep.join(which)).unwrap();
        for file in ["benchmark.json", "sample.json"] {
            std::fs::copy(from.join(file), deep.join(which).join(file)).unwrap();
        }
    }
    let err = Harness::new(dir.path())
        .config(json!({"benchmarks": [{"format": "criterion", "current": "criterion", "saved-baseline": "main"}]}))
        .run::<Perf>()
        .unwrap_err();
    assert!(
        err.starts_with("criterion: d0/d1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12/d13/d14/d15/d16 is nested more than 16 directories deep"),
        "{err}"
    );
}

/// A count benchmark no past run holds: before, compared with nothing and
/// called unchanged; now inconclusive, which the report shows.
#[test]
fn a_count_no_past_run_holds_is_inconclusive() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("history")).unwrap();
    let run = |name: &str, value: f64| {
        json!({"benchmarks": [{"name": name, "unit": "instructions", "samples": [value]}]})
            .to_string()
    };
    std::fs::write(dir.path().join("history/001.json"), run("old", 100.0)).unwrap();
    std::fs::write(dir.path().join("new.json"), run("fresh", 1e12)).unwrap();
    let e = Harness::new(dir.path())
        .config(json!({"benchmarks": [{"format": "json", "current": "new.json", "history": "history"}]}))
        .run::<Perf>()
        .unwrap();
    let inconclusive = with_rule(&e, "inconclusive");
    assert_eq!(inconclusive.len(), 1, "{:?}", e.findings);
    assert!(
        inconclusive[0]
            .message
            .contains("no past run holds this benchmark")
    );
}

/// Every benchmark renamed between the baseline and this run: before, only
/// `missing` warnings and `inconclusive` notes (a pass at the default
/// `fail-at`); now an error, since nothing was compared.
#[test]
fn a_run_with_no_benchmark_in_common_with_its_baseline_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str| {
        json!({"benchmarks": [{"name": name, "unit": "ns", "samples": [100.0, 101.0, 99.0, 100.5, 100.2]}]})
            .to_string()
    };
    std::fs::write(dir.path().join("base.json"), run("parse")).unwrap();
    std::fs::write(dir.path().join("new.json"), run("parse_v2")).unwrap();
    let err = Harness::new(dir.path())
        .config(json!({"benchmarks": [{"format": "json", "current": "new.json", "baseline": "base.json"}]}))
        .run::<Perf>()
        .unwrap_err();
    assert_eq!(
        err,
        "config.benchmarks[0]: none of the 1 benchmarks of new.json is in its baseline, so nothing was compared (renamed benchmarks, or not the baseline's file)"
    );
}
