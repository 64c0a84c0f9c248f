//! Mutation test of every benchmark format the perf plugin reads: thousands
//! of mutants of the real tools' output (`scripts/perf-fixtures`), each
//! compared against the unmutated baseline through the native harness.
//! Every one is compared or refused with one line naming the file (and, for
//! broken JSON, its line and column); none panics or hangs.

use std::path::{Path, PathBuf};

use portcullis_plugin_perf::Perf;
use portcullis_sdk::testing::Harness;
use portcullis_sdk::testing::mutants::{Mutants, json_located, json_place};
use serde_json::json;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/perf")
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixtures().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const WORDS: &[&str] = &[
    "\"benchmarks\"",
    "\"samples\"",
    "\"unit\"",
    "\"name\"",
    "\"times\"",
    "\"iters\"",
    "\"results\"",
    "\"real_time\"",
    "\"time_unit\"",
    "\"run_type\"",
    "\"aggregate\"",
    "\"iteration_count\"",
    "\"measured_values\"",
    "\"reason\"",
    "\"ns\"",
    "\"instructions\"",
    "\"error_occurred\"",
    "\"point_estimate\"",
    "\"standard_error\"",
];

/// Mutants of the format's `new` side checked against its `base` side; a
/// rejection names the file, and broken JSON (in a one-document format)
/// names its line and column.
fn check_format(format: &str, base: &str, seeds: &[&str], count: usize, json_doc: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("base"), base).expect("write base");
    let config = json!({"benchmarks": [{"format": format, "current": "new", "baseline": "base"}]});
    Mutants::with_words(format, seeds, count, WORDS).check(
        |text| {
            std::fs::write(dir.path().join("new"), text).expect("write the mutant");
            Harness::new(dir.path())
                .config(config.clone())
                .run::<Perf>()
        },
        |text, message| {
            if !message.starts_with("new:")
                && !message.starts_with("new ")
                && !message.starts_with("config.benchmarks[0]")
            {
                return Err("names neither the file nor the input".into());
            }
            match json_doc && message.starts_with("new") {
                true => json_located("new", text, message),
                false => Ok(()),
            }
        },
    );
}

#[test]
fn json_mutants() {
    let seed = json!({"benchmarks": [
        {"name": "parse", "unit": "ns", "samples": [101.5, 99.0, 100.25, 102.0, 98.5]},
        {"name": "alloc", "unit": "allocations", "samples": [42]},
    ]})
    .to_string();
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(&seed).expect("json"),
    )
    .expect("json");
    check_format("json", &seed, &[&seed, &pretty], 2_000, true);
}

#[test]
fn google_benchmark_mutants() {
    let base = fixture("gbench-base.json");
    check_format(
        "google-benchmark",
        &base,
        &[&fixture("gbench-new.json")],
        1_500,
        true,
    );
}

#[test]
fn hyperfine_mutants() {
    let base = fixture("hyperfine-base.json");
    check_format(
        "hyperfine",
        &base,
        &[&fixture("hyperfine-new.json")],
        2_000,
        true,
    );
}

#[test]
fn critcmp_mutants() {
    let base = fixture("critcmp-base.json");
    check_format(
        "critcmp",
        &base,
        &[&fixture("critcmp-new.json")],
        2_000,
        true,
    );
}

#[test]
fn cargo_criterion_mutants() {
    let base = fixture("cargo-criterion-base.jsonl");
    check_format(
        "cargo-criterion",
        &base,
        &[&fixture("cargo-criterion-new.jsonl")],
        2_000,
        false,
    );
}

/// criterion's directory: mutants of one benchmark's `sample.json` and
/// `benchmark.json`, read against its saved baseline.
#[test]
fn criterion_directory_mutants() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bench = dir.path().join("criterion/sum/squares");
    for which in ["new", "main"] {
        std::fs::create_dir_all(bench.join(which)).expect("mkdir");
        for file in ["benchmark.json", "sample.json"] {
            let from = fixtures()
                .join("criterion/sum/squares")
                .join(which)
                .join(file);
            std::fs::copy(from, bench.join(which).join(file)).expect("copy");
        }
    }
    let config = json!({"benchmarks": [{"format": "criterion", "current": "criterion", "saved-baseline": "main"}]});
    for file in ["sample.json", "benchmark.json"] {
        let target: &Path = &bench.join("new").join(file);
        let seed = std::fs::read_to_string(target).expect("seed");
        Mutants::with_words(&format!("criterion {file}"), &[&seed], 1_500, WORDS).check(
            |text| {
                std::fs::write(target, text).expect("write the mutant");
                Harness::new(dir.path())
                    .config(config.clone())
                    .run::<Perf>()
            },
            |text, message| {
                let shown = format!("criterion/sum/squares/new/{file}");
                match json_place(text) {
                    Some(_) => json_located(&shown, text, message),
                    None if !message.starts_with("criterion")
                        && !message.starts_with("config.benchmarks[0]") =>
                    {
                        Err("names neither the file nor the input".into())
                    }
                    None => Ok(()),
                }
            },
        );
        std::fs::write(target, seed).expect("restore");
    }
}
