//! The tests plugin through the binary: real pytest, jest, nextest and Go
//! reports (`scripts/tests-fixtures`) in a repository whose history has the
//! change under review, gated with `--changed-since`; coverage on new code
//! agrees with diff-cover's, run on the same repository and report.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::{Repo, fixtures, test_tool};

/// A repository whose `main` is the fixture's `base/` and whose work tree
/// and last commit are its `head/`, with `reports` copied to `reports/`
/// (`@@ROOT@@` replaced by the repository's path, as if the tools ran
/// there). Returns the repository and the base commit.
fn change(project: &str, reports: &[&str]) -> (Repo, String) {
    let repo = Repo::new();
    copy(
        &fixtures().join("tests").join(project).join("base"),
        repo.path(),
    );
    repo.write(".gitignore", "reports/\n");
    repo.git(&["init", "-q"]);
    repo.git(&["add", "-A"]);
    repo.git(&["commit", "-qm", "base"]);
    let base = rev(&repo, "HEAD");
    copy(
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

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("fixture dir") {
        let e = e.expect("entry");
        let target = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).expect("copy");
        }
    }
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

#[test]
fn a_pytest_run_is_gated_on_its_failure_and_on_coverage_of_new_code() {
    let (repo, base) = change("python", &["junit.xml", "coverage.xml"]);
    policy(
        &repo,
        "junit = [\"reports/junit.xml\"]\ncoverage = [{ format = \"cobertura\", path = \"reports/coverage.xml\" }]\nnew-code-min = 80",
    );
    let (run, sarif) = repo.check_sarif(&["--changed-since", &base]);
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
    assert!(
        run.stdout
            .contains("coverage on new code 72.2 % (13 of 18 new lines), below the minimum 80 %"),
        "{}",
        run.stdout
    );

    // Without a base, coverage on new code is not measured, and says so.
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 1, "the failing test still fails the gate");
    assert!(
        !run.stdout.contains("tests/new-code-coverage"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "coverage on new code not measured (no change base: run with --changed-since)"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn coverage_on_new_code_agrees_with_diff_cover() {
    let cases = [
        ("python", "coverage.xml", "cobertura"),
        ("python", "coverage.lcov", "lcov"),
        ("js", "lcov.info", "lcov"),
        ("js", "cobertura-coverage.xml", "cobertura"),
    ];
    for (project, report, format) in cases {
        let (repo, base) = change(project, &[report]);
        policy(
            &repo,
            &format!("coverage = [{{ format = \"{format}\", path = \"reports/{report}\" }}]"),
        );
        let run = repo.run(&["check", ".", "--changed-since", &base, "--format", "json"]);
        assert_eq!(run.code, 0, "{project} {report}: {}", run.stderr);
        let doc = run.json();
        let new = &summary(&doc)["coverage"]["new-code"];
        let theirs = diff_cover(&repo, &format!("reports/{report}"), &base);
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
        // The same uncovered lines, file by file.
        let mut ours: Vec<(String, u64)> = Vec::new();
        for f in findings(&doc, "tests/uncovered-new-lines") {
            let loc = &f["locations"][0];
            let path = loc["path"].as_str().unwrap_or_default().to_string();
            let (start, end) = (
                loc["region"]["startLine"].as_u64().unwrap_or(0),
                loc["region"]["endLine"].as_u64().unwrap_or(0),
            );
            for l in start..=end {
                ours.push((path.clone(), l));
            }
        }
        let mut missing: Vec<(String, u64)> = Vec::new();
        for (path, stats) in theirs["src_stats"].as_object().expect("src_stats") {
            for l in stats["violation_lines"].as_array().expect("lines") {
                missing.push((path.clone(), l.as_u64().unwrap_or(0)));
            }
        }
        ours.sort();
        missing.sort();
        // Ranges may span lines no report measures (blank, comments).
        ours.retain(|l| missing.contains(l) || !missing.iter().any(|m| m.0 == l.0));
        assert_eq!(ours, missing, "{what}");
    }
}

#[test]
fn hostile_or_missing_reports_are_exit_2_with_file_and_line() {
    let repo = Repo::new();
    repo.write("src/a.py", "x = 1\n");
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

    policy(&repo, "junit = [\"reports/none-*.xml\"]");
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("matches no file"), "{}", run.stderr);
}
