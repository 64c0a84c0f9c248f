//! The tests plugin on reports written by the real tools
//! (`scripts/tests-fixtures`): pytest and pytest-cov, cargo-nextest,
//! gotestsum and Go's cover profile, jest with jest-junit and istanbul,
//! Maven Surefire, JaCoCo, llvm-cov.
//! Reports are build outputs, outside the checked tree: here a mount.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::path::{Path, PathBuf};

use portcullis_plugin_tests::Tests;
use portcullis_sdk::testing::Harness;
use portcullis_sdk::{Evaluation, Finding};
use serde_json::{Value, json};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tests")
}

/// A fixture project with its reports as a build leaves them: the
/// project's `parts` copied into a repository, the files of `reports`
/// (with `@@ROOT@@` made the repository's path) mounted at `/mnt/r`.
struct Project {
    repo: tempfile::TempDir,
    reports: tempfile::TempDir,
}

impl Project {
    fn new(parts: &[&str], reports: &str) -> Project {
        let repo = tempfile::tempdir().unwrap();
        for p in parts {
            copy(&fixtures().join(p), repo.path());
        }
        // The reports are not part of the checked tree.
        let _ = std::fs::remove_dir_all(repo.path().join("reports"));
        let out = tempfile::tempdir().unwrap();
        for e in std::fs::read_dir(fixtures().join(reports)).unwrap() {
            let e = e.unwrap();
            if !e.file_type().unwrap().is_file() {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(e.path()).unwrap();
            std::fs::write(
                out.path().join(&name),
                text.replace("@@ROOT@@", &repo.path().to_string_lossy()),
            )
            .unwrap();
        }
        Project { repo, reports: out }
    }

    fn harness(&self, config: Value) -> Harness {
        Harness::new(self.repo.path())
            .mount("r", self.reports.path())
            .config(config)
    }

    fn run(&self, config: Value) -> Result<Evaluation, String> {
        self.harness(config).run::<Tests>()
    }
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
    let Some(l) = f.locations.first() else {
        return "-".into();
    };
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
    let p = Project::new(&["python/head"], "python/reports");
    for report in ["junit.xml", "junit-xunit1.xml"] {
        let e = p
            .run(json!({ "junit": [format!("/mnt/r/{report}")] }))
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

/// pytest's own JSON (pytest-json-report) and its JUnit XML, written by
/// runs of the same tests, give the same findings: rules, places, messages
/// and fingerprints (so a baseline made from one holds for the other).
#[test]
fn pytests_json_report_gives_what_its_junit_gives() {
    let key = |e: &Evaluation| {
        let mut v: Vec<String> = e
            .findings
            .iter()
            .filter(|f| f.rule_id != "summary")
            .map(|f| {
                format!(
                    "{} {} {} {:?}",
                    f.rule_id,
                    place(f),
                    f.message,
                    f.fingerprint
                )
            })
            .collect();
        v.sort();
        v
    };
    for (parts, junit, json) in [
        (&["python/head"][..], "junit.xml", "pytest.json"),
        (
            &["python/head", "python/broken"][..],
            "junit-collection-error.xml",
            "pytest-collection-error.json",
        ),
    ] {
        let p = Project::new(parts, "python/reports");
        let theirs = p
            .run(json!({ "junit": [format!("/mnt/r/{junit}")] }))
            .unwrap();
        let ours = p
            .run(json!({ "pytest-json": [format!("/mnt/r/{json}")] }))
            .unwrap();
        assert!(!key(&theirs).is_empty());
        assert_eq!(key(&ours), key(&theirs), "{json}");
        assert_eq!(summary(&ours)["tests"], summary(&theirs)["tests"], "{json}");
    }

    // pytest-rerunfailures: the report keeps the last run of a test that
    // passed on a rerun, and the failure of one that never passed.
    let p = Project::new(&["python/reruns"], "python/reports");
    let e = p
        .run(json!({ "pytest-json": ["/mnt/r/pytest-reruns.json"] }))
        .unwrap();
    let flaky = with_rule(&e, "flaky");
    assert_eq!(flaky.len(), 1, "{:?}", e.findings);
    assert_eq!(place(flaky[0]), "tests/test_retry.py:7");
    assert!(
        flaky[0].message.ends_with("failed, then passed on a rerun"),
        "{}",
        flaky[0].message
    );
    let failed = with_rule(&e, "failed");
    assert_eq!(failed.len(), 1);
    assert_eq!(place(failed[0]), "tests/test_retry.py:14");
    assert!(
        failed[0].message.contains("assert (1 + 1) == 3"),
        "{}",
        failed[0].message
    );
}

#[test]
fn a_module_pytest_could_not_import_is_a_suite_error() {
    let p = Project::new(&["python/head", "python/broken"], "python/reports");
    let e = p
        .run(json!({ "junit": ["/mnt/r/junit-collection-error.xml"] }))
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
    let p = Project::new(&["rust"], "rust/reports");
    let e = p.run(json!({ "junit": ["/mnt/r/junit.xml"] })).unwrap();
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

/// Maven Surefire 2.22 writes one file per test class, counts every rerun
/// of a failure in its suite's `failures` and `errors` (10 "tests" for 5),
/// and names a nested class `Outer$Inner`. The counts must be Surefire's
/// own summary line, with no suite said to hide failures.
#[test]
fn surefire_reruns_nested_classes_and_counts_match_its_summary() {
    let p = Project::new(&["maven"], "maven/reports");
    let e = p.run(json!({ "junit": ["/mnt/r/TEST-*.xml"] })).unwrap();
    assert!(with_rule(&e, "suite-error").is_empty(), "{:?}", e.findings);
    let t = &summary(&e)["tests"];
    // Surefire: "Tests run: 7, Failures: 2, Errors: 1, Skipped: 1, Flakes: 1"
    let theirs =
        std::fs::read_to_string(fixtures().join("maven/reports/summary-surefire.txt")).unwrap();
    let ours = format!(
        "Tests run: {}, Failures: {}, Errors: {}, Skipped: {}, Flakes: {}",
        t["total"], t["failed"], t["errored"], t["skipped"], t["flaky"]
    );
    assert_eq!(ours, theirs.trim(), "{t}");

    let mut failed: Vec<String> = with_rule(&e, "failed")
        .iter()
        .map(|f| format!("{} {}", place(f), f.message.lines().next().unwrap_or("")))
        .collect();
    failed.sort();
    let test = "src/test/java/com/example";
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(
        failed[0].starts_with(&format!("{test}/PriceTest.java:17 ")),
        "{failed:?}"
    );
    assert!(
        failed[1].starts_with(&format!("{test}/PriceTest.java:22 ")),
        "{failed:?}"
    );
    assert!(
        failed[2].starts_with(&format!("{test}/RoundingTest.java:20 ")),
        "{failed:?}"
    );
    assert!(
        failed.iter().any(|f| f.contains("and on 2 retries")),
        "{failed:?}"
    );
    let flaky = with_rule(&e, "flaky");
    assert_eq!(flaky.len(), 1);
    assert_eq!(place(flaky[0]), format!("{test}/PriceTest.java:27"));
    assert!(
        flaky[0].message.contains("failed 1 time, then passed"),
        "{}",
        flaky[0].message
    );
}

#[test]
fn go_subtests_and_jest_titles_land_on_their_definitions() {
    let p = Project::new(&["go"], "go/reports");
    let e = p.run(json!({ "junit": ["/mnt/r/junit.xml"] })).unwrap();
    let mut failed: Vec<String> = with_rule(&e, "failed")
        .iter()
        .map(|f| format!("{} {}", place(f), f.message))
        .collect();
    failed.sort();
    // A subtest is placed at the test that runs it.
    assert_eq!(
        failed,
        [
            "calc_test.go:11 `example.com/calc::TestAbs/negative` failed: calc_test.go:19: abs -3 = 3, want 4",
            "calc_test.go:11 `example.com/calc::TestAbs` failed: (no message)",
        ]
    );

    let p = Project::new(&["js/head"], "js/reports");
    let e = p.run(json!({ "junit": ["/mnt/r/junit.xml"] })).unwrap();
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
    // coverage.py: 22 statements, 5 missed (77 %); istanbul: lines 9/10.
    let cases = [
        ("python", "cobertura", "coverage.xml", (17, 22)),
        ("python", "lcov", "coverage.lcov", (17, 22)),
        ("js", "lcov", "lcov.info", (9, 10)),
        ("js", "cobertura", "cobertura-coverage.xml", (9, 10)),
        // llvm-cov's own summary of the file: 17 lines, 14 covered.
        ("c", "llvm-cov-json", "llvm-cov.json", (14, 17)),
        ("c", "lcov", "llvm-cov.lcov", (14, 17)),
    ];
    for (project, format, path, (covered, measured)) in cases {
        let p = Project::new(&[&format!("{project}/head")], &format!("{project}/reports"));
        let e = p
            .run(json!({ "coverage": [{ "format": format, "path": format!("/mnt/r/{path}") }] }))
            .unwrap();
        let cov = &summary(&e)["coverage"];
        assert_eq!(
            (cov["covered"].as_u64(), cov["measured"].as_u64()),
            (Some(covered), Some(measured)),
            "{format} {path}: {cov}"
        );
    }
    // Go: 50.0 % of statements (`go tool cover -func`); the import paths
    // map through go.mod's module.
    let p = Project::new(&["go"], "go/reports");
    let e = p
        .harness(json!({
            "coverage": [{ "format": "go-cover", "path": "/mnt/r/cover.out" }],
            "min": 60,
        }))
        .run::<Tests>()
        .unwrap();
    let cov = &summary(&e)["coverage"];
    assert_eq!(
        (
            cov["go-statements"]["covered"].as_u64(),
            cov["go-statements"]["total"].as_u64()
        ),
        (Some(4), Some(8)),
        "{cov}"
    );
    assert_eq!(
        with_rule(&e, "coverage").len(),
        1,
        "line coverage under 60 %"
    );

    // JaCoCo: the report's own LINE counter says 5 of 9; its paths are
    // package paths, found under src/main/java.
    let p = Project::new(&["java"], "java/reports");
    let e = p
        .run(json!({ "coverage": [{ "format": "jacoco", "path": "/mnt/r/jacoco.xml" }] }))
        .unwrap();
    let cov = &summary(&e)["coverage"];
    assert_eq!(
        (cov["covered"].as_u64(), cov["measured"].as_u64()),
        (Some(5), Some(9)),
        "{cov}"
    );
}

#[test]
fn new_code_coverage_counts_only_measured_changed_lines() {
    let p = Project::new(&["python/head"], "python/reports");
    // What `git diff -U0` of head against base says: ops.py 10–29, fmt.py
    // new (untracked files run to the end); a new module no test imports.
    std::fs::write(p.repo.path().join("calc/extra.py"), "X = 1\n").unwrap();
    let run = |min: f64| {
        p.harness(json!({
            "coverage": [{ "format": "cobertura", "path": "/mnt/r/coverage.xml" }],
            "new-code-min": min,
        }))
        .changed_lines(&[
            ("calc/extra.py", &[(1, u32::MAX)]),
            ("calc/fmt.py", &[(1, u32::MAX)]),
            ("calc/ops.py", &[(10, 29)]),
            ("docs/notes.md", &[(1, 3)]),
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
    assert_eq!(
        new["files"]["calc/ops.py"]["uncovered-lines"],
        json!([18, 26])
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
    // The new module is of a kind the report measures, but not in it; the
    // notes are not.
    let unmeasured: Vec<String> = with_rule(&e, "unmeasured-changed-file")
        .iter()
        .map(|f| place(f))
        .collect();
    assert_eq!(unmeasured, ["calc/extra.py"]);
    assert!(with_rule(&run(70.0), "new-code-coverage").is_empty());
}

/// Reports with these contents, mounted at `/mnt/r`, in an empty repository.
fn hostile(files: &[(&str, &str)]) -> (tempfile::TempDir, tempfile::TempDir) {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join("a.py"), "x = 1\n").unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    (repo, dir)
}

#[test]
fn broken_or_hostile_reports_are_errors_with_their_line() {
    let (repo, dir) = hostile(&[
        (
            "bad.xml",
            "<testsuites>\n<testsuite name=\"a\">\n<testcase name=\"x\">\n</testsuite>\n",
        ),
        (
            "laughs.xml",
            "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n <!ENTITY lol2 \"&lol;&lol;&lol;\">\n]>\n<testsuites><testsuite name=\"&lol2;\"/></testsuites>\n",
        ),
        (
            "xxe.xml",
            "<testsuite name=\"a\"><testcase name=\"&xxe;\"/></testsuite>\n",
        ),
        // Cut short after a passing case: the failures after it are lost.
        (
            "cut.xml",
            "<testsuites>\n<testsuite name=\"s\" failures=\"1\">\n<testcase name=\"a\"/>\n",
        ),
        ("cut.cobertura", "<coverage>\n<packages>\n<package>\n"),
        ("bad.lcov", "SF:a.py\nDA:1,1\nDA:x,1\nend_of_record\n"),
        ("far.lcov", "SF:a.py\nDA:4000000,1\nend_of_record\n"),
        ("empty.xml", "<testsuites></testsuites>\n"),
        (
            "between.xml",
            "<testsuite name=\"s\">\n<testcase name=\"a\"/>&bogus;</testsuite>\n",
        ),
        (
            "unread.xml",
            "<testsuite name=\"s\" timestamp=\"&bogus;\"><testcase name=\"a\"/></testsuite>\n",
        ),
        ("other.xml", "<html><body/></html>\n"),
        (
            "elsewhere.lcov",
            "SF:/ci/other/b.py\nDA:1,1\nend_of_record\n",
        ),
    ]);
    let run = |config: Value| {
        Harness::new(repo.path())
            .mount("r", dir.path())
            .config(config)
            .run::<Tests>()
    };
    let err = |config: Value| run(config).expect_err("an error");
    let junit = |f: &str| err(json!({ "junit": [format!("/mnt/r/{f}")] }));
    let lcov = |f: &str, format: &str| {
        err(json!({ "coverage": [{ "format": format, "path": format!("/mnt/r/{f}") }] }))
    };
    let e = junit("bad.xml");
    assert!(
        e.starts_with("/mnt/r/bad.xml:4: not well-formed XML"),
        "{e}"
    );
    let e = junit("laughs.xml");
    assert!(
        e.starts_with("/mnt/r/laughs.xml:2: a DOCTYPE with declarations is refused"),
        "{e}"
    );
    let e = junit("xxe.xml");
    assert!(e.contains("/mnt/r/xxe.xml:1: attribute `name`"), "{e}");
    let e = junit("cut.xml");
    assert!(
        e.contains("the file ends inside <testsuite>: cut short"),
        "{e}"
    );
    let e = lcov("cut.cobertura", "cobertura");
    assert!(e.contains("the file ends inside <package>"), "{e}");
    assert_eq!(
        lcov("bad.lcov", "lcov"),
        "/mnt/r/bad.lcov:3: `x` is not a line number"
    );
    assert_eq!(
        lcov("far.lcov", "lcov"),
        "/mnt/r/far.lcov:2: `4000000` is not a line number"
    );
    let e = lcov("elsewhere.lcov", "lcov");
    assert!(
        e.contains("none of the 1 files the reports measure is a file of this repository"),
        "{e}"
    );
    assert!(junit("other.xml").contains("not a JUnit report"));
    // References are checked where nothing is read too.
    let e = junit("between.xml");
    assert!(
        e.starts_with("/mnt/r/between.xml:2: undefined entity `&bogus;`"),
        "{e}"
    );
    let e = junit("unread.xml");
    assert!(e.contains("attribute `timestamp`"), "{e}");
    let e = junit("missing.xml");
    assert!(
        e.starts_with("config.junit[0]: `/mnt/r/missing.xml`: "),
        "{e}"
    );
    let e = err(json!({ "junit": ["reports/*.xml"] }));
    assert!(e.starts_with("config.junit[0]: `reports`: "), "{e}");
    assert!(junit("*.junit").contains("matches no file"));
    assert!(err(json!({})).contains("nothing to check"));
    // A report with no test in it is not a pass.
    let e = run(json!({ "junit": ["/mnt/r/empty.xml"] })).unwrap();
    assert_eq!(with_rule(&e, "too-few-tests").len(), 1);
}

#[test]
fn a_report_in_the_checked_tree_is_refused() {
    // The change under review could commit a passing report in place of
    // the run's.
    let (repo, _dir) = hostile(&[]);
    std::fs::write(
        repo.path().join("junit.xml"),
        "<testsuite name=\"s\"><testcase name=\"a\"/></testsuite>\n",
    )
    .unwrap();
    let e = Harness::new(repo.path())
        .config(json!({ "junit": ["junit.xml"] }))
        .run::<Tests>()
        .expect_err("refused");
    assert!(e.contains("`junit.xml` is a file of the repository"), "{e}");
}

#[test]
fn suite_level_errors_and_wrapped_cases_are_failures() {
    let (repo, dir) = hostile(&[
        (
            "counts.xml",
            "<testsuites>\n<testsuite name=\"s\" tests=\"2\" failures=\"1\" errors=\"1\">\n<testcase name=\"a\"/>\n<testcase name=\"b\"><failure message=\"boom\"/></testcase>\n</testsuite>\n</testsuites>\n",
        ),
        (
            "wrapped.xml",
            "<testsuites>\n<testsuite name=\"s\">\n<group>\n<testcase name=\"hidden\"><failure message=\"boom\"/></testcase>\n</group>\n</testsuite>\n<error message=\"the runner crashed\"/>\n</testsuites>\n",
        ),
        (
            "skip-then-fail.xml",
            "<testsuite name=\"s\"><testcase name=\"t\"><skipped message=\"flaky on CI\"/><failure message=\"boom\"/></testcase></testsuite>\n",
        ),
        (
            // A flaky test's failed run does not stand for a failure the
            // suite declares but does not list (runs count only in
            // Surefire's shape: `tests` = cases + reruns).
            "flaky-cover.xml",
            "<testsuite name=\"s\" tests=\"3\" failures=\"2\">\n<testcase name=\"a\"><flakyFailure message=\"x\"/></testcase>\n<testcase name=\"b\"/>\n</testsuite>\n",
        ),
        (
            "prefixed.xml",
            "<testsuites xmlns:x=\"urn:x\">\n<testsuite name=\"s\" x:failures=\"0\" failures=\"1\">\n<testcase name=\"a\"/>\n</testsuite>\n</testsuites>\n",
        ),
    ]);
    let run = |f: &str| {
        Harness::new(repo.path())
            .mount("r", dir.path())
            .config(json!({ "junit": [format!("/mnt/r/{f}")] }))
            .run::<Tests>()
            .unwrap()
    };
    let e = run("counts.xml");
    let s = with_rule(&e, "suite-error");
    assert_eq!(s.len(), 1, "{:?}", e.findings);
    assert_eq!(
        s[0].message,
        "/mnt/r/counts.xml:2: test suite `s` reports 2 failures and errors but lists 1 failed tests"
    );
    let e = run("wrapped.xml");
    assert_eq!(with_rule(&e, "failed").len(), 1, "{:?}", e.findings);
    let s = with_rule(&e, "suite-error");
    assert_eq!(s.len(), 1, "{:?}", e.findings);
    assert!(
        s[0].message
            .contains("the test run errored: the runner crashed"),
        "{}",
        s[0].message
    );
    let e = run("skip-then-fail.xml");
    let failed = with_rule(&e, "failed");
    assert_eq!(failed.len(), 1, "{:?}", e.findings);
    assert!(
        failed[0].message.ends_with("failed: boom"),
        "{}",
        failed[0].message
    );
    let e = run("prefixed.xml");
    assert_eq!(with_rule(&e, "suite-error").len(), 1, "{:?}", e.findings);
    let e = run("flaky-cover.xml");
    assert_eq!(with_rule(&e, "suite-error").len(), 1, "{:?}", e.findings);
}

#[test]
fn a_failing_test_in_an_unchanged_file_still_counts() {
    let p = Project::new(&["python/head"], "python/reports");
    let e = p
        .harness(json!({ "junit": ["/mnt/r/junit.xml"] }))
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

#[test]
fn coverage_against_a_baseline_and_per_path_minimums() {
    let p = Project::new(&["python/head"], "python/reports");
    let run = |extra: Value| {
        let mut config = json!({
            "coverage": [{ "format": "cobertura", "path": "/mnt/r/coverage.xml" }],
        });
        for (k, v) in extra.as_object().unwrap() {
            config[k] = v.clone();
        }
        p.run(config)
    };
    // The base's run covered all of its 4 lines; this one 17 of 22.
    let baseline = json!([{ "format": "cobertura", "path": "/mnt/r/coverage-base.xml" }]);
    let e = run(json!({ "baseline": baseline, "max-drop": 1 })).unwrap();
    let drop = with_rule(&e, "coverage-drop");
    assert_eq!(drop.len(), 1, "{:?}", e.findings);
    assert_eq!(
        drop[0].message,
        "line coverage fell 22.7 points, from 100.0 % to 77.3 % (at most 1 allowed)"
    );
    let e = run(json!({ "baseline": baseline, "max-drop": 25 })).unwrap();
    assert!(with_rule(&e, "coverage-drop").is_empty());

    // fmt.py: 3 of 6 lines; ops.py: 14 of 16.
    let e = run(json!({ "paths": { "calc/fmt.py": 60, "calc/ops.py": 80 } })).unwrap();
    let paths: Vec<&str> = with_rule(&e, "path-coverage")
        .iter()
        .map(|f| f.message.as_str())
        .collect();
    assert_eq!(
        paths,
        ["line coverage of `calc/fmt.py` (1 file) 50.0 % (3 of 6 lines), below its minimum 60 %"]
    );
    let e = run(json!({ "paths": { "src/**": 60 } })).expect_err("a glob matching nothing");
    assert!(
        e.contains("config.paths.\"src/**\": matches no file"),
        "{e}"
    );
    let e = run(json!({ "max-drop": 1 })).expect_err("no baseline");
    assert!(e.contains("needs `baseline`"), "{e}");
}
