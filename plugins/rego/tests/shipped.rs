//! The example policies shipped in `policies/rego/` pass their own tests,
//! and their tests cover them.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use portcullis_plugin_rego::Rego;
use portcullis_sdk::TestStatus;
use portcullis_sdk::testing::Harness;
use serde_json::json;

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn shipped_policies_pass_their_tests_with_full_coverage() {
    let run = Harness::new(repo())
        .config(json!({"policy": ["policies/rego"]}))
        .run_tests::<Rego>(true)
        .unwrap();
    let failed: Vec<String> = run
        .tests
        .iter()
        .filter(|t| t.status != TestStatus::Pass)
        .map(|t| format!("{} {}:{}: {}", t.name, t.file, t.line, t.message))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(run.tests.len() >= 20, "{} tests", run.tests.len());
    for pkg in ["kubernetes", "terraform", "github_actions", "cargo"] {
        assert!(
            run.tests
                .iter()
                .any(|t| t.name.starts_with(&format!("data.{pkg}_test."))),
            "{pkg} has tests"
        );
    }
    let covered: usize = run.coverage.iter().map(|f| f.covered.len()).sum();
    let total: usize = covered
        + run
            .coverage
            .iter()
            .map(|f| f.not_covered.len())
            .sum::<usize>();
    let percent = covered as f64 * 100.0 / total as f64;
    assert!(percent >= 90.0, "coverage {percent}: {:#?}", run.coverage);
    assert!(
        run.coverage.iter().all(|f| !f.file.ends_with("_test.rego")),
        "tests are not counted as policy lines"
    );
}

#[test]
fn a_failing_test_says_why_and_where_and_coverage_is_only_on_request() {
    let dir = tempfile::tempdir().unwrap();
    portcullis_sdk::testing::write_tree(
        dir.path(),
        &[
            (
                "p/main.rego",
                "package main\n\ndeny contains \"x\" if {\n\tinput.bad\n}\n",
            ),
            (
                "p/main_test.rego",
                "package main_test\n\nimport data.main\n\ntest_denies if {\n\tcount(main.deny) == 1 with input as {\"bad\": false}\n}\n\ntodo_test_later if {\n\ttrue\n}\n",
            ),
        ],
    );
    let run = Harness::new(dir.path())
        .config(json!({"policy": ["p"]}))
        .run_tests::<Rego>(false)
        .unwrap();
    assert!(run.coverage.is_empty());
    let tests: Vec<(String, u32, TestStatus, String)> = run
        .tests
        .iter()
        .map(|t| (t.name.clone(), t.line, t.status, t.message.clone()))
        .collect();
    assert_eq!(
        tests,
        [
            (
                "data.main_test.test_denies".to_string(),
                5,
                TestStatus::Fail,
                "undefined".to_string()
            ),
            (
                "data.main_test.todo_test_later".to_string(),
                9,
                TestStatus::Skip,
                String::new()
            ),
        ]
    );
    assert!(run.tests.iter().all(|t| t.file == "p/main_test.rego"));
}
