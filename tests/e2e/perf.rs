//! The perf plugin through the real binary: criterion's output directory in
//! the checked repository, a baseline from outside it through a mount.

use crate::common::*;

const POLICY: &str = r#"
[plugins.perf]
source = "builtin:perf"
read = ["target/criterion"]

[plugins.perf.config]
benchmarks = [{ format = "criterion", current = "target/criterion", saved-baseline = "main" }]
"#;

#[test]
fn a_criterion_regression_warns_by_default_and_fails_when_raised() {
    let repo = Repo::new();
    repo.write(".gitignore", "target/\n")
        .write("portcullis.toml", POLICY);
    copy_dir(
        &fixtures().join("perf/criterion"),
        &repo.path().join("target/criterion"),
    );
    let (run, sarif) = repo.check_sarif(&[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(rule_ids(&sarif), ["perf/regression", "perf/summary"]);
    let regression = &results(&sarif)[0];
    assert_eq!(regression["level"], "warning");
    let props = &regression["properties"];
    assert_eq!(props["benchmark"], "sum/squares");
    assert!(props["p_adjusted"].as_f64().expect("p") < 0.01);
    assert_eq!(props["samples_new"], 30);
    // The human output carries the table.
    assert!(
        run.stdout
            .contains("2 benchmarks compared: 1 regressed, 0 improved"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("benchmark    baseline"),
        "{}",
        run.stdout
    );

    repo.write(
        "portcullis.toml",
        format!("{POLICY}\n[rules]\n\"perf/regression\" = \"error\"\n"),
    );
    let (run, _) = repo.check_sarif(&[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
}

#[test]
fn a_baseline_from_outside_the_repository_and_missing_results() {
    let repo = Repo::new();
    let outside = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        fixtures().join("perf/hyperfine-base.json"),
        outside.path().join("hyperfine.json"),
    )
    .expect("copy");
    let policy = format!(
        r#"
[plugins.perf]
source = "builtin:perf"
read = ["bench"]

[plugins.perf.mounts]
baseline = "{}"

[plugins.perf.config]
benchmarks = [{{ format = "hyperfine", current = "bench/hyperfine.json", baseline = "/mnt/baseline/hyperfine.json" }}]

[rules]
"perf/regression" = "error"
"#,
        outside.path().display()
    );
    repo.write("portcullis.toml", &policy).write(
        "bench/hyperfine.json",
        std::fs::read(fixtures().join("perf/hyperfine-new.json")).expect("fixture"),
    );
    let (run, sarif) = repo.check_sarif(&[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(rule_ids(&sarif), ["perf/regression", "perf/summary"]);
    assert!(run.stdout.contains("sleep: "), "{}", run.stdout);

    // Results that were not produced: the gate cannot be evaluated.
    std::fs::remove_file(repo.path().join("bench/hyperfine.json")).expect("rm");
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("bench/hyperfine.json: cannot read"),
        "{}",
        run.stderr
    );
}

/// The wasm plugin (32-bit sizes) at the sample bound: 100 000 per side is
/// compared, one more is refused by name. Before, 200 000 per side was a
/// Rust panic ("capacity overflow") inside the plugin.
#[test]
fn samples_up_to_the_bound_are_compared_and_more_are_refused_by_name() {
    let samples = |n: usize, scale: f64| -> String {
        let v: Vec<String> = (0..n)
            .map(|i| format!("{:.3}", scale * (100.0 + (i % 997) as f64 / 100.0)))
            .collect();
        format!(
            "{{\"benchmarks\": [{{\"name\": \"parse\", \"unit\": \"ns\", \"samples\": [{}]}}]}}",
            v.join(",")
        )
    };
    let repo = Repo::new();
    repo.write(".gitignore", "bench/\n").write(
        "portcullis.toml",
        "[plugins.perf]\nsource = \"builtin:perf\"\nread = [\"bench\"]\n[plugins.perf.config]\n\
         benchmarks = [{ format = \"json\", current = \"bench/new.json\", baseline = \"bench/base.json\" }]\n\
         [rules]\n\"perf/regression\" = \"error\"\n",
    );
    std::fs::create_dir_all(repo.path().join("bench")).expect("mkdir");
    let write = |name: &str, text: String| {
        std::fs::write(repo.path().join("bench").join(name), text).expect("write")
    };
    write("base.json", samples(100_000, 1.0));
    write("new.json", samples(100_000, 1.2));
    let run = repo.run(&["check"]);
    assert_eq!(
        run.code, 1,
        "a 20 % regression fails: {}{}",
        run.stdout, run.stderr
    );
    write("new.json", samples(200_000, 1.2));
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "bench/new.json: benchmark `parse` has 200000 samples, more than the 100000 one comparison takes"
        ),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}
