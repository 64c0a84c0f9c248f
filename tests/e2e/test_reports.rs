//! The tests plugin through the binary: real pytest, jest, nextest and Go
//! reports (`scripts/tests-fixtures`) in a repository whose history has the
//! change under review, gated with `--changed-since`; coverage on new code
//! agrees with diff-cover's, run on the same repository and report.

use std::process::Command;

use serde_json::Value;

use crate::common::{Repo, copy_dir, fixtures, test_tool};

/// A repository whose `main` is the fixture's `base/` and whose work tree
/// and last commit are its `head/`, with `reports` copied to `reports/`
/// (`@@ROOT@@` replaced by the repository's path, as if the tools ran
/// there). Returns the repository and the base commit.
pub(crate) fn change(project: &str, reports: &[&str]) -> (Repo, String) {
    let repo = Repo::new();
    copy_dir(
        &fixtures().join("tests").join(project).join("base"),
        repo.path(),
    );
    repo.write(".gitignore", "reports/\ncoverage/\ntarget/\n");
    repo.git(&["init", "-q"]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "base"]);
    let base = rev(&repo, "HEAD");
    copy_dir(
        &fixtures().join("tests").join(project).join("head"),
        repo.path(),
    );
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "head"]);
    for r in reports {
        repo.fixture(
            &format!("tests/{project}/reports/{r}"),
            &format!("reports/{r}"),
        );
    }
    (repo, base)
}

fn rev(repo: &Repo, name: &str) -> String {
    let out = Command::new("git")
        .args(["rev-parse", name])
        .current_dir(repo.path())
        .output()
        .expect("git");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn policy(repo: &Repo, config: &str) {
    repo.write(
        "portcullis.toml",
        format!(
            "[plugins.tests]\nsource = \"builtin:tests\"\nread = [\".\"]\n\n[plugins.tests.config]\n{config}\n"
        ),
    );
}

fn findings<'a>(doc: &'a Value, rule: &str) -> Vec<&'a Value> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["rule_id"] == rule)
        .collect()
}

fn summary(doc: &Value) -> &Value {
    &findings(doc, "tests/summary")[0]["properties"]
}

/// diff-cover's JSON report for `report` against `base`.
fn diff_cover(repo: &Repo, report: &str, base: &str) -> Value {
    let exe = test_tool("diff-cover", "venv/bin/diff-cover");
    let out_file = repo.path().join("reports/diff-cover.json");
    let out = Command::new(exe)
        .arg(repo.path().join(report))
        .arg(format!("--compare-branch={base}"))
        .arg(format!("--format=json:{}", out_file.display()))
        .current_dir(repo.path())
        .output()
        .expect("run diff-cover");
    assert!(
        out.status.success(),
        "diff-cover: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(out_file).expect("diff-cover's report"))
        .expect("diff-cover JSON")
}

/// A shipped example policy, by path.
fn example(name: &str) -> String {
    format!(
        "{}/../policies/tests/{name}.toml",
        env!("CARGO_MANIFEST_DIR")
    )
}

#[test]
fn a_pytest_run_is_gated_on_its_failure_and_on_coverage_of_new_code() {
    let (repo, base) = change("python", &["junit.xml", "coverage.xml"]);
    let policy = example("python");
    let (run, sarif) = repo.check_sarif(&["--changed-since", &base, "--policy", &policy]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let places: Vec<String> = crate::common::results(&sarif)
        .iter()
        .map(|r| {
            let loc = &r["locations"][0]["physicalLocation"];
            format!(
                "{} {}:{}",
                r["ruleId"].as_str().unwrap_or_default(),
                loc["artifactLocation"]["uri"].as_str().unwrap_or("-"),
                loc["region"]["startLine"]
            )
        })
        .collect();
    for want in [
        "tests/failed tests/test_fmt.py:4",
        "tests/uncovered-new-lines calc/ops.py:18",
        "tests/uncovered-new-lines calc/fmt.py:9",
    ] {
        assert!(places.iter().any(|p| p == want), "{want} not in {places:?}");
    }
    crate::common::assert_github_accepts(&sarif);
    assert!(
        run.stdout
            .contains("coverage on new code 72.2 % (13 of 18 new lines), below the minimum 80 %"),
        "{}",
        run.stdout
    );

    // Without a base, coverage on new code is not measured, and says so.
    let run = repo.run(&["check", ".", "--policy", &policy]);
    assert_eq!(run.code, 1, "the failing test still fails the gate");
    assert!(
        !run.stdout.contains("tests/new-code-coverage"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "coverage on new code not measured (no change base: run with --changed-since, or name the pull request's context as a report)"
        ),
        "{}",
        run.stdout
    );
}

/// pytest's own JSON report (pytest-json-report) gates like its JUnit.
#[test]
fn a_pytest_json_report_is_gated_like_junit() {
    let (repo, _) = change("python", &["pytest.json"]);
    policy(&repo, "pytest-json = [\"reports/pytest.json\"]");
    let run = repo.run(&["check", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let failed = findings(&doc, "tests/failed");
    assert_eq!(failed.len(), 1, "{doc}");
    assert_eq!(failed[0]["locations"][0]["path"], "tests/test_fmt.py");
    assert_eq!(failed[0]["locations"][0]["region"]["startLine"], 4);
    assert_eq!(summary(&doc)["tests"]["skipped"], 1, "{doc}");
    // A report cut short is exit 2 with its place.
    let text = std::fs::read_to_string(repo.path().join("reports/pytest.json")).expect("report");
    repo.write("reports/pytest.json", &text[..text.len() / 2]);
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("reports/pytest.json:")
            && run.stderr.contains("not a pytest JSON report"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_javascript_and_rust_examples_gate_their_projects() {
    let (repo, base) = change("js", &["junit.xml", "lcov.info"]);
    repo.fixture("tests/js/reports/lcov.info", "coverage/lcov.info");
    let run = repo.run(&[
        "check",
        ".",
        "--changed-since",
        &base,
        "--policy",
        &example("js"),
        "--format",
        "json",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let failed = findings(&doc, "tests/failed");
    assert_eq!(failed.len(), 1, "{doc}");
    assert_eq!(failed[0]["locations"][0]["path"], "src/price.test.js");
    assert_eq!(failed[0]["locations"][0]["region"]["startLine"], 13);
    // 6 of 7 new lines ran: above 80 %, and overall 90 % is above 70 %.
    assert!(
        findings(&doc, "tests/new-code-coverage").is_empty(),
        "{doc}"
    );
    assert!(findings(&doc, "tests/coverage").is_empty(), "{doc}");

    let repo = Repo::new();
    copy_dir(&fixtures().join("tests/rust"), repo.path());
    std::fs::remove_dir_all(repo.path().join("reports")).expect("reports out of the tree");
    repo.write(".gitignore", "target/\n");
    repo.generate_lockfile();
    repo.git(&["init", "-q"]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "crate"]);
    repo.fixture(
        "tests/rust/reports/junit.xml",
        "target/nextest/ci/junit.xml",
    );
    // No coverage report where the policy says: never a pass.
    let run = repo.run(&["check", ".", "--policy", &example("rust")]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("`target/lcov.info`"), "{}", run.stderr);
    let without = std::fs::read_to_string(example("rust"))
        .expect("example")
        .replace("coverage = [", "# coverage = [")
        .replace("new-code-min", "# new-code-min");
    repo.write("portcullis.toml", without);
    let run = repo.run(&["check", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(
        findings(&doc, "tests/failed")[0]["locations"][0]["region"]["startLine"],
        18
    );
    assert_eq!(
        findings(&doc, "tests/flaky")[0]["locations"][0]["region"]["startLine"],
        23
    );
}

/// A Maven build: Surefire's reports, one per class, under the ignored
/// `target/`, found by a glob; Surefire 2 counts reruns in its suites'
/// totals, and the gate's counts are its summary line's.
#[test]
fn a_maven_build_is_gated_on_surefires_reports() {
    let repo = Repo::new();
    copy_dir(&fixtures().join("tests/maven"), repo.path());
    std::fs::remove_dir_all(repo.path().join("reports")).expect("reports out of the tree");
    repo.write(".gitignore", "target/\n");
    repo.git(&["init", "-q"]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "project"]);
    for class in ["PriceTest", "RoundingTest"] {
        repo.fixture(
            &format!("tests/maven/reports/TEST-com.example.{class}.xml"),
            &format!("target/surefire-reports/TEST-com.example.{class}.xml"),
        );
    }
    policy(&repo, "junit = [\"target/surefire-reports/TEST-*.xml\"]");
    let run = repo.run(&["check", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let mut places: Vec<String> = findings(&doc, "tests/failed")
        .iter()
        .map(|f| {
            let l = &f["locations"][0];
            format!(
                "{}:{}",
                l["path"].as_str().unwrap_or("-"),
                l["region"]["startLine"]
            )
        })
        .collect();
    places.sort();
    let test = "src/test/java/com/example";
    assert_eq!(
        places,
        [
            format!("{test}/PriceTest.java:17"),
            format!("{test}/PriceTest.java:22"),
            format!("{test}/RoundingTest.java:20"),
        ],
        "{doc}"
    );
    assert_eq!(findings(&doc, "tests/flaky").len(), 1, "{doc}");
    assert!(findings(&doc, "tests/suite-error").is_empty(), "{doc}");
    let run = repo.run(&["check", "."]);
    assert!(
        run.stdout
            .contains("7 tests: 2 passed, 2 failed, 1 errored, 1 skipped, 1 flaky"),
        "{}",
        run.stdout
    );
}

#[test]
fn coverage_on_new_code_agrees_with_diff_cover() {
    // (project, report, format, the report diff-cover reads: llvm-cov's
    // JSON export next to the LCOV llvm-cov writes from the same profile)
    let cases = [
        ("python", "coverage.xml", "cobertura", "coverage.xml"),
        ("python", "coverage.lcov", "lcov", "coverage.lcov"),
        ("js", "lcov.info", "lcov", "lcov.info"),
        (
            "js",
            "cobertura-coverage.xml",
            "cobertura",
            "cobertura-coverage.xml",
        ),
        ("c", "llvm-cov.json", "llvm-cov-json", "llvm-cov.lcov"),
    ];
    for (project, report, format, theirs_report) in cases {
        let (repo, base) = change(project, &[report, theirs_report]);
        policy(
            &repo,
            &format!("coverage = [{{ format = \"{format}\", path = \"reports/{report}\" }}]"),
        );
        let run = repo.run(&["check", ".", "--changed-since", &base, "--format", "json"]);
        assert_eq!(run.code, 0, "{project} {report}: {}", run.stderr);
        let doc = run.json();
        let new = &summary(&doc)["coverage"]["new-code"];
        let theirs = diff_cover(&repo, &format!("reports/{theirs_report}"), &base);
        let what = format!("{project} {report}: ours {new}, diff-cover's {theirs}");
        assert_eq!(new["measured"], theirs["total_num_lines"], "{what}");
        let missed = new["measured"].as_u64().unwrap_or(0) - new["covered"].as_u64().unwrap_or(0);
        assert_eq!(
            Some(missed),
            theirs["total_num_violations"].as_u64(),
            "{what}"
        );
        assert!(
            theirs["total_num_lines"].as_u64().unwrap_or(0) > 0,
            "diff-cover measured nothing: {what}"
        );
        // The same lines, covered and not, file by file.
        let ours = new["files"].as_object().expect("files listed");
        let theirs_files = theirs["src_stats"].as_object().expect("src_stats");
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            theirs_files
                .keys()
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>(),
            "{what}"
        );
        for (path, stats) in theirs_files {
            let sorted = |v: &Value| {
                let mut l: Vec<u64> = v
                    .as_array()
                    .expect("lines")
                    .iter()
                    .filter_map(Value::as_u64)
                    .collect();
                l.sort_unstable();
                l
            };
            assert_eq!(
                sorted(&ours[path]["covered-lines"]),
                sorted(&stats["covered_lines"]),
                "{path}: {what}"
            );
            assert_eq!(
                sorted(&ours[path]["uncovered-lines"]),
                sorted(&stats["violation_lines"]),
                "{path}: {what}"
            );
        }
        // Each uncovered stretch is a finding in the diff.
        let flagged: u64 = findings(&doc, "tests/uncovered-new-lines")
            .iter()
            .map(|f| f["properties"]["lines"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(
            Some(flagged),
            theirs["total_num_violations"].as_u64(),
            "{what}"
        );
    }
}

/// In a pull request's CI run the policy names the event payload Actions
/// writes (`$GITHUB_EVENT_PATH`; here GitHub's own example payload), and
/// coverage on new code is measured against the pull request's base with
/// no `--changed-since`. GitHub checks out a merge commit onto the base
/// branch's tip, which has moved on since the pull request branched: only
/// the pull request's lines count, as diff-cover counts them against the
/// same base.
#[test]
fn a_pull_requests_event_gives_coverage_on_new_code_its_base() {
    let (repo, fork) = change("python", &["junit.xml", "coverage.xml"]);
    repo.git(&["branch", "pr"]);
    repo.git(&["reset", "-q", "--hard", &fork]);
    repo.write("scripts/release.py", "import sys\nprint(sys.argv)\n");
    repo.git(&["add", "scripts"]);
    repo.git(&["commit", "-qm", "main moved on"]);
    let tip = rev(&repo, "HEAD");
    repo.git(&["checkout", "-q", "--detach"]);
    repo.git(&["merge", "-q", "--no-ff", "-m", "Merge pr into main", "pr"]);
    let pr_head = rev(&repo, "pr");
    let payload = |base: &str, head: &str| {
        std::fs::read_to_string(fixtures().join("github-events/pull_request.synchronize.json"))
            .expect("payload")
            .replace("f95f852bd8fca8fcc58a9a2d6c842781e32a215e", base)
            .replace("ec26c3e57ca3a959ca5aad62de7213c562f8c821", head)
    };
    repo.write("reports/event.json", payload(&tip, &pr_head));
    // The shipped example names the payload where CI copies it.
    let policy = example("python");

    let run = repo.run(&["check", ".", "--policy", &policy, "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let new = &summary(&doc)["coverage"]["new-code"];
    let theirs = diff_cover(&repo, "reports/coverage.xml", &tip);
    assert_eq!(new["measured"], theirs["total_num_lines"], "{new} {theirs}");
    assert_eq!(new["measured"], 18, "{new}");
    assert_eq!(new["covered"], 13, "{new}");
    // main's own new file is not the pull request's: not new code.
    assert!(!doc.to_string().contains("scripts/release.py"), "{doc}");
    let run = repo.run(&["check", ".", "--policy", &policy]);
    assert!(
        run.stdout.contains(&format!(
            "new lines: HEAD against the pull request's base {} (report pr)",
            &tip[..12]
        )),
        "{}",
        run.stdout
    );

    // The same numbers from the base alone (the context names another
    // head: HEAD is then compared with its merge-base with the base).
    repo.write("reports/event.json", payload(&tip, &"0e".repeat(20)));
    let run = repo.run(&["check", ".", "--policy", &policy, "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(summary(&run.json())["coverage"]["new-code"]["measured"], 18);

    // A clone without the base commit cannot measure: exit 2, saying how
    // to fetch it; a base that is not a commit id is refused.
    repo.write(
        "reports/event.json",
        payload(&"0f".repeat(20), &"0e".repeat(20)),
    );
    let run = repo.run(&["check", ".", "--policy", &policy]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("is not in this clone"),
        "{}",
        run.stderr
    );
    repo.write("reports/event.json", payload("--output=/tmp/x", &pr_head));
    let run = repo.run(&["check", ".", "--policy", &policy]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("`--output=/tmp/x` is not a full commit id"),
        "{}",
        run.stderr
    );
    // A payload the change commits could name its own base (HEAD: no new
    // lines at all).
    repo.write("reports/event.json", payload(&rev(&repo, "HEAD"), &pr_head));
    repo.git(&["add", "-f", "reports/event.json"]);
    let run = repo.run(&["check", ".", "--policy", &policy]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr
            .contains("report pr (reports/event.json) is a file of the repository"),
        "{}",
        run.stderr
    );
}

#[test]
fn hostile_or_missing_reports_are_exit_2_with_file_and_line() {
    let repo = Repo::new();
    repo.write("src/a.py", "x = 1\n");
    repo.write(".gitignore", "reports/\n");
    repo.git(&["init", "-q"]);
    repo.write(
        "reports/junit.xml",
        "<?xml version=\"1.0\"?>\n<!DOCTYPE x [\n<!ENTITY e SYSTEM \"file:///etc/passwd\">\n]>\n<testsuite name=\"&e;\"/>\n",
    );
    policy(&repo, "junit = [\"reports/junit.xml\"]");
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("reports/junit.xml:2: a DOCTYPE with declarations is refused"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("root:"), "no file was read");

    // A passing report committed by the change, in place of the run's.
    repo.write(
        "reports/junit.xml",
        "<testsuite name=\"s\"><testcase name=\"a\"/></testsuite>\n",
    );
    repo.git(&["add", "-f", "reports/junit.xml"]);
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`reports/junit.xml` is a file of the repository"),
        "{}",
        run.stderr
    );

    policy(&repo, "junit = [\"reports/none-*.xml\"]");
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("matches no file"), "{}", run.stderr);
}

#[test]
fn go_and_jacoco_coverage_through_the_binary() {
    for (project, report, format) in [
        ("go", "cover.out", "go-cover"),
        ("java", "jacoco.xml", "jacoco"),
    ] {
        let repo = Repo::new();
        copy_dir(&fixtures().join("tests").join(project), repo.path());
        std::fs::remove_dir_all(repo.path().join("reports")).expect("reports out of the tree");
        repo.write(".gitignore", "reports/\n");
        repo.git(&["init", "-q"]);
        repo.git(&["add", "-A"]);
        repo.git(&["commit", "-qm", "project"]);
        repo.fixture(
            &format!("tests/{project}/reports/{report}"),
            &format!("reports/{report}"),
        );
        policy(
            &repo,
            &format!("coverage = [{{ format = \"{format}\", path = \"reports/{report}\" }}]"),
        );
        let run = repo.run(&["check", ".", "--format", "json"]);
        assert_eq!(run.code, 0, "{project}: {}", run.stderr);
        let doc = run.json();
        let cov = &summary(&doc)["coverage"];
        match project {
            // `go tool cover -func`: total 50.0 % of statements.
            "go" => assert_eq!(
                cov["go-statements"],
                serde_json::json!({ "covered": 4, "total": 8 }),
                "{cov}"
            ),
            // JaCoCo's own LINE counter: 4 missed, 5 covered.
            _ => assert_eq!(
                (cov["covered"].as_u64(), cov["measured"].as_u64()),
                (Some(5), Some(9)),
                "{cov}"
            ),
        }
    }
}
