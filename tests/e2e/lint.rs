//! The lint plugin through the real binary with the built-in default policy.

use crate::common::*;

/// Fixture content is assembled at run time so this repository itself holds
/// no conflict markers or key headers.
fn marker(c: char) -> String {
    std::iter::repeat_n(c, 7).collect()
}

fn dirty_repo() -> Repo {
    let repo = Repo::new();
    repo.write(
        "src/lib.rs",
        format!(
            "fn a() {{}}\n{} HEAD\nlet x = 1;\n=======\nlet x = 2;\n{} feature\n",
            marker('<'),
            marker('>')
        ),
    )
    .write("config/bad.json", "{\"a\": 1,,}\n")
    .write("config/bad.toml", "[table]\nkey = \n")
    .write("config/bad.yaml", "ok: 1\n---\nlist: [1, 2\n")
    .write("config/good.yaml", "a: 1\n---\nb: [1, 2]\n")
    .write("README.md", "readme\n")
    .write("readme.md", "other readme\n")
    .write(
        ".env.example",
        format!(
            "{}BEGIN OPENSSH PRIVATE KEY{}\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz\n",
            "-----", "-----"
        ),
    )
    .write("big.bin", vec![b'a'; 600 * 1024])
    .write("ignored/huge.txt", vec![b'a'; 900 * 1024])
    .write(".gitignore", "ignored/\n");
    #[cfg(unix)]
    repo.symlink("dangling", "does-not-exist");
    repo
}

#[test]
fn hygiene_rules_find_what_they_should() {
    let repo = dirty_repo();
    let (run, sarif) = repo.check_sarif(&[]);
    assert_eq!(
        run.code, 1,
        "errors fail the gate: {}\n{}",
        run.stdout, run.stderr
    );
    let mut expected = vec![
        "lint/invalid-json",
        "lint/invalid-toml",
        "lint/invalid-yaml",
        "lint/large-file",
        "lint/merge-conflict",
        "lint/merge-conflict",
        "lint/merge-conflict",
        "lint/path-case-collision",
        "secrets/private-key",
    ];
    if cfg!(unix) {
        expected.insert(0, "lint/broken-symlink");
    }
    assert_eq!(rule_ids(&sarif), expected);
    let results = results(&sarif);
    let conflict = results
        .iter()
        .find(|r| r["ruleId"] == "lint/merge-conflict")
        .expect("conflict");
    assert_eq!(
        conflict["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "src/lib.rs"
    );
    assert_eq!(
        conflict["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    let yaml = results
        .iter()
        .find(|r| r["ruleId"] == "lint/invalid-yaml")
        .expect("yaml");
    assert_eq!(
        yaml["locations"][0]["physicalLocation"]["region"]["startLine"], 4,
        "in the second document, where the flow sequence is left open"
    );
    let key = results
        .iter()
        .find(|r| r["ruleId"] == "secrets/private-key")
        .expect("key");
    assert_eq!(
        key["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], ".env.example",
        "dotfiles are scanned"
    );
    let key_rule = sarif["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .flat_map(|run| run["tool"]["driver"]["rules"].as_array().expect("rules"))
        .find(|r| r["id"] == "secrets/private-key")
        .expect("rule");
    assert_eq!(key_rule["properties"]["security-severity"], "8.5");
    // Human output: grouped by file, path:line:col, summary.
    let human = repo.run(&["check", "--color", "never"]);
    assert!(
        human
            .stdout
            .contains("src/lib.rs\n  src/lib.rs:2:1  error    lint/merge-conflict"),
        "{}",
        human.stdout
    );
    let summary = human.stdout.lines().last().expect("summary");
    assert!(
        summary.starts_with("gate FAILED: ")
            && summary.contains(" errors, 1 warning from 3 plugins in "),
        "{summary}"
    );
}

#[test]
fn fail_at_and_json_output() {
    let repo = Repo::new();
    repo.write("big.bin", vec![b'a'; 600 * 1024]);
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0, "a warning passes at fail-at error");
    let doc = run.json();
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["verdict"], "pass");
    assert_eq!(doc["counts"]["warning"], 1);
    assert_eq!(doc["findings"][0]["rule_id"], "lint/large-file");
    assert_eq!(doc["findings"][0]["properties"]["size"], 600 * 1024);
    let run = repo.run(&["check", "--format", "json", "--fail-at", "warning"]);
    assert_eq!(run.code, 1);
    assert_eq!(run.json()["verdict"], "fail");
}

#[test]
fn clean_repository_passes_and_gitignored_files_are_skipped() {
    let repo = Repo::new();
    repo.write("src/main.rs", "fn main() {}\n")
        .write("target/huge", vec![b'x'; 2 << 20])
        .write(".gitignore", "/target\n");
    let (run, sarif) = repo.check_sarif(&[]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .starts_with("gate passed: 0 errors, 0 warnings from 3 plugins in "),
        "{}",
        run.stdout
    );
    assert_eq!(results(&sarif).len(), 0);
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
}

#[test]
fn fingerprints_are_stable_across_runs_and_line_shifts() {
    let repo = Repo::new();
    let body = format!("{} HEAD\na\n=======\nb\n{} x\n", marker('<'), marker('>'));
    repo.write("a.txt", &body);
    let (_, first) = repo.check_sarif(&[]);
    let (_, again) = repo.check_sarif(&[]);
    repo.write("a.txt", format!("new first line\n\n{body}"));
    let (_, shifted) = repo.check_sarif(&[]);
    let fps = |s: &serde_json::Value| {
        results(s)
            .iter()
            .map(|r| r["partialFingerprints"]["portcullis/v1"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(fps(&first), fps(&again));
    assert_eq!(fps(&first), fps(&shifted));
    assert_eq!(
        results(&shifted)[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
}

#[test]
fn clippy_and_sarif_reports_are_imported() {
    let repo = Repo::new();
    repo.fixture("reports/clippy-demo/src/main.rs", "src/main.rs")
        .fixture("reports/clippy-demo/clippy-output.jsonl", "reports/clippy.jsonl")
        .fixture("reports/py/app.py", "app.py")
        .fixture("reports/py/ruff.sarif", "reports/ruff.sarif")
        .write(
            "portcullis.toml",
            "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n[plugins.lint.config]\nmax-warnings = 3\n\
             [reports.clippy]\npath = \"reports/clippy.jsonl\"\nformat = \"clippy-json\"\n\
             [reports.ruff]\npath = \"reports/ruff.sarif\"\nformat = \"sarif\"\n",
        );
    let (run, sarif) = repo.check_sarif(&[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert_eq!(
        rule_ids(&sarif),
        vec![
            "lint/clippy/len_zero",
            "lint/clippy/needless_return",
            "lint/clippy/useless_vec",
            "lint/max-warnings",
            "lint/ruff/e711",
            "lint/ruff/f401",
            "lint/rustc/unused_variables",
        ]
    );
    let results = results(&sarif);
    let ret = results
        .iter()
        .find(|r| r["ruleId"] == "lint/clippy/needless_return")
        .expect("needless_return");
    let loc = &ret["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "src/main.rs");
    assert_eq!(loc["region"]["startLine"], 2);
    assert_eq!(loc["region"]["startColumn"], 5);
    let ruff = results
        .iter()
        .find(|r| r["ruleId"] == "lint/ruff/e711")
        .expect("E711");
    assert_eq!(
        ruff["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "app.py",
        "absolute file:// URIs become repo-relative"
    );
    assert_eq!(ruff["level"], "error");
    let budget = results
        .iter()
        .find(|r| r["ruleId"] == "lint/max-warnings")
        .expect("budget");
    assert_eq!(
        budget["message"]["text"],
        "4 warnings in imported reports, over the budget of 3"
    );
    assert_eq!(
        budget["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "portcullis.toml",
        "no-location findings point at the policy"
    );
}

#[test]
fn a_broken_report_is_exit_2_with_its_line() {
    let repo = Repo::new();
    repo.write("r.jsonl", "{\"reason\":\"build-finished\",\"success\":true}\nnot json\n").write(
        "portcullis.toml",
        "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n[reports.c]\npath = \"r.jsonl\"\nformat = \"clippy-json\"\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "portcullis: plugin lint: returned an error: r.jsonl:2: not a clippy/rustc JSON message"
        ),
        "{}",
        run.stderr
    );
    // Without a read grant the plugin cannot read the files it must check:
    // that is an error saying so, not a pass.
    repo.write(
        "portcullis.toml",
        "[plugins.lint]\nsource = \"builtin:lint\"\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("cannot read portcullis.toml") && run.stderr.contains("read = [\".\"]"),
        "{}",
        run.stderr
    );
    // A missing required report is exit 2 too; an optional one is a notice.
    repo.write("portcullis.toml", "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n[reports.c]\npath = \"missing.json\"\nformat = \"sarif\"\n");
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(
            "portcullis: plugin lint: evidence report c (portcullis.toml:4:1): cannot read"
        ),
        "{}",
        run.stderr
    );
    repo.write("portcullis.toml", "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n[reports.c]\npath = \"missing.json\"\nformat = \"sarif\"\noptional = true\n");
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains("note: optional report c not found"),
        "{}",
        run.stdout
    );
}

#[cfg(unix)]
#[test]
fn reports_cannot_be_read_from_outside_the_repository() {
    let repo = Repo::new();
    repo.symlink("r.sarif", "/etc/passwd").write(
        "portcullis.toml",
        "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n[reports.r]\npath = \"r.sarif\"\nformat = \"sarif\"\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("r.sarif: not readable: a symlink (symlinks are never followed)"),
        "{}",
        run.stderr
    );
}

/// A report the policy names is evidence, not source: clippy's JSON lines
/// under a `.json` name that git does not ignore are imported, not flagged
/// by `lint/invalid-json` (before, they were, as if they were source).
#[test]
fn a_named_report_is_not_checked_as_source() {
    let repo = Repo::new();
    repo.fixture("reports/clippy-demo/src/main.rs", "src/main.rs")
        .fixture(
            "reports/clippy-demo/clippy-output.jsonl",
            "reports/clippy.json",
        )
        .write("broken.json", "{\"a\": 1,}\n")
        .write(
            "portcullis.toml",
            "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n\
             [reports.clippy]\npath = \"reports/clippy.json\"\nformat = \"clippy-json\"\n",
        );
    let (_, sarif) = repo.check_sarif(&[]);
    let invalid: Vec<String> = results(&sarif)
        .iter()
        .filter(|r| r["ruleId"] == "lint/invalid-json")
        .map(|r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].to_string())
        .collect();
    assert_eq!(
        invalid,
        ["\"broken.json\""],
        "only the source file is flagged"
    );
    assert!(rule_ids(&sarif).contains(&"lint/clippy/needless_return".to_string()));
}
