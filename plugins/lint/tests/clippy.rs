//! The clippy import run natively through the SDK harness on real
//! `cargo clippy --message-format=json` output recorded in the repository's
//! fixtures: a clean build with lints, a build that failed on a type error,
//! and a build whose build script panicked. A report that says the lint did
//! not run to the end is an error, never zero findings.

use portcullis_plugin_lint::Lint;
use portcullis_sdk::testing::{Harness, found};
use portcullis_sdk::{Evaluation, Level, ReportFormat};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/reports");

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The lint plugin run on a repository whose `r.jsonl` holds `report`.
fn import(report: &str) -> Result<Evaluation, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    portcullis_sdk::testing::write_tree(dir.path(), &[("r.jsonl", report)]);
    Harness::new(dir.path())
        .report("r", ReportFormat::ClippyJson, "r.jsonl")
        .run::<Lint>()
}

#[test]
fn a_finished_build_imports_its_lints() {
    let eval = import(&fixture("clippy-demo/clippy-output.jsonl")).expect("imports");
    let rules: Vec<String> = found(&eval).into_iter().map(|(r, _, _)| r).collect();
    assert!(
        rules.contains(&"clippy/needless_return".to_string()),
        "{rules:?}"
    );
}

/// A type error: the build failed, and its error is a finding at error
/// level, which fails the gate (exit 1), not a failure to evaluate.
#[test]
fn a_failed_build_with_its_error_imports_the_error() {
    let eval = import(&fixture("clippy-broken/clippy-output.jsonl")).expect("imports");
    assert_eq!(
        found(&eval),
        vec![("rustc/e0308".into(), "src/main.rs".into(), 6)]
    );
    assert_eq!(eval.findings[0].level, Some(Level::Error));
}

/// A build script panicked: cargo says `"success": false` and the report
/// holds no diagnostic. Before, this imported as zero findings (a pass).
#[test]
fn a_failed_build_without_an_error_is_not_a_clean_result() {
    let err = import(&fixture("clippy-buildrs/clippy-output.jsonl")).expect_err("fails");
    assert_eq!(
        err,
        "r.jsonl:2: the build failed (`\"success\": false`) and the report holds no error saying why, so the lint did not finish"
    );
}

/// The real report cut before cargo's last line, as a killed or timed-out
/// `cargo clippy` leaves it.
#[test]
fn a_report_cut_short_is_not_a_clean_result() {
    let full = fixture("clippy-demo/clippy-output.jsonl");
    let cut: Vec<&str> = full
        .lines()
        .filter(|l| !l.contains("build-finished"))
        .collect();
    assert_eq!(
        import(&cut.join("\n")).expect_err("fails"),
        "r.jsonl: ends without cargo's `build-finished` line: the lint did not run to the end or the report was cut short"
    );
    assert!(import("").is_err(), "an empty report is not a clean one");
}

/// rustc's shape for an internal compiler error (the level string rustc
/// writes for one), with cargo's closing line saying the build failed.
/// Before, the crash was read as a summary line and the report passed.
#[test]
fn an_internal_compiler_error_is_a_failure_to_evaluate() {
    let ice = r#"{"reason":"compiler-message","message":{"rendered":"error: internal compiler error: unexpected panic\n","$message_type":"diagnostic","children":[],"level":"error: internal compiler error","message":"unexpected panic\n\nthread 'rustc' panicked","spans":[],"code":null}}
{"reason":"build-finished","success":false}"#;
    assert_eq!(
        import(ice).expect_err("fails"),
        "r.jsonl:1: the compiler crashed (internal compiler error), so the lint did not finish: unexpected panic"
    );
}

/// rustc's own `--error-format=json` lines have no `reason`: reading them as
/// cargo's would skip every diagnostic.
#[test]
fn rustc_json_without_cargo_is_refused() {
    let full = fixture("clippy-broken/clippy-output.jsonl");
    let first: serde_json::Value =
        serde_json::from_str(full.lines().next().expect("a line")).expect("JSON");
    let bare = serde_json::to_string(&first["message"]).expect("JSON");
    let err = import(&bare).expect_err("fails");
    assert!(
        err.starts_with("r.jsonl:1: a message without `reason`"),
        "{err}"
    );
}

/// Two runs appended to one file (`>>`): a later run cut short, or an
/// earlier one that failed without an error, is not hidden by the other's
/// `build-finished` line.
#[test]
fn appended_runs_are_each_held_to_the_rules() {
    let clean = fixture("clippy-demo/clippy-output.jsonl");
    let cut: Vec<&str> = clean
        .lines()
        .filter(|l| !l.contains("build-finished"))
        .collect();
    let appended = format!("{clean}{}\n", cut.join("\n"));
    assert!(
        import(&appended)
            .expect_err("the second run did not finish")
            .contains("ends without cargo's `build-finished` line")
    );
    let failed = fixture("clippy-buildrs/clippy-output.jsonl");
    let both = format!("{failed}{clean}");
    let failed_line = failed.lines().count();
    assert_eq!(
        import(&both).expect_err("the first run failed"),
        format!(
            "r.jsonl:{failed_line}: the build failed (`\"success\": false`) and the report holds no error saying why, so the lint did not finish"
        )
    );
}
