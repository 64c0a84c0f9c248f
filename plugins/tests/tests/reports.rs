//! The tests plugin on reports written by the real tools
//! (`scripts/tests-fixtures`): pytest and pytest-cov, cargo-nextest,
//! gotestsum and Go's cover profile, jest with jest-junit and istanbul.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::path::{Path, PathBuf};

use portcullis_plugin_tests::Tests;
use portcullis_sdk::testing::Harness;
use portcullis_sdk::{Evaluation, Finding};
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tests")
}

/// A repository made of fixture directories copied over each other.
fn repo(parts: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for p in parts {
        copy(&fixtures().join(p), dir.path());
    }
    dir
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn with_rule<'a>(e: &'a Evaluation, rule: &str) -> Vec<&'a Finding> {
    e.findings.iter().filter(|f| f.rule_id == rule).collect()
}

fn place(f: &Finding) -> String {
    let l = &f.locations[0];
    match &l.region {
        Some(r) => format!("{}:{}", l.path, r.start_line),
        None => l.path.clone(),
    }
}

fn props(f: &Finding) -> Value {
    serde_json::from_str(f.properties.as_deref().unwrap()).unwrap()
}

fn summary(e: &Evaluation) -> Value {
    props(with_rule(e, "summary")[0])
}

#[test]
fn pytest_failures_land_on_the_test_and_skips_are_counted() {
    let dir = repo(&["python/head", "python/reports"]);
    for report in ["junit.xml", "junit-xunit1.xml"] {
        let e = Harness::new(dir.path())
            .config(json!({ "junit": [report] }))
            .run::<Tests>()
            .unwrap();
        let failed = with_rule(&e, "failed");
        assert_eq!(failed.len(), 1, "{report}: {:?}", e.findings);
        assert_eq!(place(failed[0]), "tests/test_fmt.py:4", "{report}");
        assert!(
            failed[0].message.contains(
                "`tests.test_fmt::test_money` failed: AssertionError: assert '1.00' == '1.0'"
            ),
            "{}",
            failed[0].message
        );
        let tests = &summary(&e)["tests"];
        assert_eq!(
            (
                tests["total"].as_u64(),
                tests["passed"].as_u64(),
                tests["skipped"].as_u64()
            ),
            (Some(8), Some(6), Some(1)),
            "{report}"
        );
    }
}

#[test]
fn a_module_pytest_could_not_import_is_a_suite_error() {
    let dir = repo(&["python/head", "python/broken", "python/reports"]);
    let e = Harness::new(dir.path())
        .config(json!({ "junit": ["junit-collection-error.xml"] }))
        .run::<Tests>()
        .unwrap();
    let errors = with_rule(&e, "suite-error");
    assert_eq!(errors.len(), 1, "{:?}", e.findings);
    assert!(
        errors[0]
            .message
            .contains("`tests.test_broken` could not be collected"),
        "{}",
        errors[0].message
    );
    assert_eq!(place(errors[0]), "tests/test_broken.py");
    assert!(with_rule(&e, "failed").is_empty());
}

#[test]
fn nextest_retries_make_a_flaky_warning_and_a_failure_on_every_attempt() {
    let dir = repo(&["rust"]);
    let e = Harness::new(dir.path())
        .config(json!({ "junit": ["junit.xml"] }))
        .run::<Tests>()
        .unwrap();
    let failed = with_rule(&e, "failed");
    assert_eq!(failed.len(), 1, "{:?}", e.findings);
    assert_eq!(place(failed[0]), "src/lib.rs:18");
    assert!(
        failed[0]
            .message
            .contains("`nexfix::tests::adds_wrongly` failed (and on 2 retries)"),
        "{}",
        failed[0].message
    );
    let flaky = with_rule(&e, "flaky");
    assert_eq!(flaky.len(), 1);
    assert_eq!(place(flaky[0]), "src/lib.rs:23");
    assert!(
        flaky[0].message.contains("failed 1 time, then passed"),
        "{}",
        flaky[0].message
    );
    assert!(
        flaky[0].message.contains("first attempt fails"),
        "{}",
        flaky[0].message
    );
}

#[test]
fn go_subtests_and_jest_titles_land_on_their_definitions() {
    let dir = repo(&["go"]);
    let e = Harness::new(dir.path())
        .config(json!({ "junit": ["junit.xml"] }))
        .run::<Tests>()
        .unwrap();
    let mut failed: Vec<String> = with_rule(&e, "failed")
        .iter()
        .map(|f| format!("{} {}", place(f), f.message))
        .collect();
    failed.sort();
    assert_eq!(failed.len(), 2, "{failed:?}");
    // A subtest is placed at the test that runs it.
    assert_eq!(
        failed,
        [
            "calc_test.go:11 `example.com/calc::TestAbs/negative` failed: calc_test.go:19: abs -3 = 3, want 4",
            "calc_test.go:11 `example.com/calc::TestAbs` failed: (no message)",
        ]
    );

    let dir = repo(&["js/head", "js/reports"]);
    let e = Harness::new(dir.path())
        .config(json!({ "junit": ["junit.xml"] }))
        .run::<Tests>()
        .unwrap();
    let failed = with_rule(&e, "failed");
    assert_eq!(failed.len(), 1, "{:?}", e.findings);
    assert_eq!(place(failed[0]), "src/price.test.js:13");
    assert!(
        failed[0]
            .message
            .contains("expect(received).toBe(expected)"),
        "{}",
        failed[0].message
    );
}

#[test]
fn overall_coverage_matches_each_tools_own_summary() {
    // coverage.py: 22 statements, 5 missed (77 %); istanbul: lines 9/10;
    // Go: 50.0 % of statements (`go tool cover -func`).
    let cases: [(&[&str], &str, &str, (u64, u64)); 4] = [
        (
            &["python/head", "python/reports"],
            "cobertura",
            "coverage.xml",
            (17, 22),
        ),
        (
            &["python/head", "python/reports"],
            "lcov",
            "coverage.lcov",
            (17, 22),
        ),
        (&["js/head", "js/reports"], "lcov", "lcov.info", (9, 10)),
        (
            &["js/head", "js/reports"],
            "cobertura",
            "cobertura-coverage.xml",
            (9, 10),
        ),
    ];
    for (parts, format, path, (covered, measured)) in cases {
        let dir = repo(parts);
        let e = Harness::new(dir.path())
            .config(json!({ "coverage": [{ "format": format, "path": path }] }))
            .run::<Tests>()
            .unwrap();
        let cov = &summary(&e)["coverage"];
        assert_eq!(
            (cov["covered"].as_u64(), cov["measured"].as_u64()),
            (Some(covered), Some(measured)),
            "{format} {path}: {cov}"
        );
    }
    let dir = repo(&["go"]);
    let e = Harness::new(dir.path())
        .config(json!({ "coverage": [{ "format": "go-cover", "path": "cover.out" }], "min": 60 }))
        .run::<Tests>()
        .unwrap();
    let go = &summary(&e)["coverage"]["go-statements"];
    assert_eq!(
        (go["covered"].as_u64(), go["total"].as_u64()),
        (Some(4), Some(8)),
        "{go}"
    );
    assert_eq!(
        with_rule(&e, "coverage").len(),
        1,
        "line coverage under 60 %"
    );
}

#[test]
fn new_code_coverage_counts_only_measured_changed_lines() {
    let dir = repo(&["python/head", "python/reports"]);
    // What `git diff -U0` of head against base says: ops.py 10–29, fmt.py
    // new (untracked files run to the end).
    let run = |min: f64| {
        Harness::new(dir.path())
            .config(json!({
                "coverage": [{ "format": "cobertura", "path": "coverage.xml" }],
                "new-code-min": min,
            }))
            .changed_lines(&[
                ("calc/ops.py", &[(10, 29)]),
                ("calc/fmt.py", &[(1, u32::MAX)]),
            ])
            .run::<Tests>()
            .unwrap()
    };
    let e = run(80.0);
    let new = &summary(&e)["coverage"]["new-code"];
    // ops.py 10–29: 12 statements, 2 missed; fmt.py: 6, 3 missed.
    assert_eq!(
        (new["covered"].as_u64(), new["measured"].as_u64()),
        (Some(13), Some(18)),
        "{new}"
    );
    assert_eq!(with_rule(&e, "new-code-coverage").len(), 1);
    let mut gaps: Vec<String> = with_rule(&e, "uncovered-new-lines")
        .iter()
        .map(|f| {
            let r = f.locations[0].region.as_ref().unwrap();
            format!(
                "{}:{}-{}",
                f.locations[0].path,
                r.start_line,
                r.end_line.unwrap()
            )
        })
        .collect();
    gaps.sort();
    // `percent`'s body, `raise ZeroDivisionError`, `return hi`.
    assert_eq!(
        gaps,
        ["calc/fmt.py:9-11", "calc/ops.py:18-18", "calc/ops.py:26-26"]
    );
    assert!(with_rule(&run(70.0), "new-code-coverage").is_empty());
}

#[test]
fn broken_or_hostile_reports_are_errors_with_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "bad.xml",
        "<testsuites>\n<testsuite name=\"a\">\n<testcase name=\"x\">\n</testsuite>\n",
    );
    write(
        "laughs.xml",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n <!ENTITY lol2 \"&lol;&lol;&lol;\">\n]>\n<testsuites><testsuite name=\"&lol2;\"/></testsuites>\n",
    );
    write(
        "xxe.xml",
        "<testsuite name=\"a\"><testcase name=\"&xxe;\"/></testsuite>\n",
    );
    write("bad.lcov", "SF:a.py\nDA:1,1\nDA:x,1\nend_of_record\n");
    write("empty.xml", "<testsuites></testsuites>\n");
    write("other.xml", "<html><body/></html>\n");
    let run = |config: Value| Harness::new(dir.path()).config(config).run::<Tests>();
    let err = |config: Value| run(config).expect_err("an error");
    assert!(
        err(json!({ "junit": ["bad.xml"] })).starts_with("bad.xml:4: not well-formed XML"),
        "{}",
        err(json!({ "junit": ["bad.xml"] }))
    );
    assert!(
        err(json!({ "junit": ["laughs.xml"] }))
            .starts_with("laughs.xml:2: a DOCTYPE with declarations is refused")
    );
    assert!(
        err(json!({ "junit": ["xxe.xml"] })).contains("xxe.xml:1: attribute `name`"),
        "{}",
        err(json!({ "junit": ["xxe.xml"] }))
    );
    assert_eq!(
        err(json!({ "coverage": [{ "format": "lcov", "path": "bad.lcov" }] })),
        "bad.lcov:3: `x` is not a line number"
    );
    assert!(err(json!({ "junit": ["other.xml"] })).contains("not a JUnit report"));
    assert!(
        err(json!({ "junit": ["missing.xml"] })).starts_with("config.junit[0]: `missing.xml`: ")
    );
    assert!(err(json!({ "junit": ["reports/*.xml"] })).starts_with("config.junit[0]: `reports`: "));
    assert!(err(json!({ "junit": ["*.junit"] })).contains("matches no file"));
    assert!(err(json!({})).contains("nothing to check"));
    // A report with no test in it is not a pass.
    let e = run(json!({ "junit": ["empty.xml"] })).unwrap();
    assert_eq!(with_rule(&e, "too-few-tests").len(), 1);
}

#[test]
fn a_suite_that_counts_more_failures_than_it_lists_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("junit.xml"),
        "<testsuites>\n<testsuite name=\"s\" tests=\"2\" failures=\"1\" errors=\"1\">\n<testcase name=\"a\"/>\n<testcase name=\"b\"><failure message=\"boom\"/></testcase>\n</testsuite>\n</testsuites>\n",
    )
    .unwrap();
    let e = Harness::new(dir.path())
        .config(json!({ "junit": ["junit.xml"] }))
        .run::<Tests>()
        .unwrap();
    let s = with_rule(&e, "suite-error");
    assert_eq!(s.len(), 1, "{:?}", e.findings);
    assert_eq!(
        s[0].message,
        "junit.xml:2: test suite `s` reports 2 failures and errors but lists 1 failed tests"
    );
}

#[test]
fn a_failing_test_in_an_unchanged_file_still_counts() {
    let dir = repo(&["python/head", "python/reports"]);
    let e = Harness::new(dir.path())
        .config(json!({ "junit": ["junit.xml"] }))
        .changed(&["calc/ops.py"])
        .run::<Tests>()
        .unwrap();
    let failed = with_rule(&e, "failed");
    assert!(failed[0].locations.is_empty(), "kept by the host's filter");
    assert!(
        failed[0].message.ends_with("(at tests/test_fmt.py:4)"),
        "{}",
        failed[0].message
    );
}
