//! Output for CI systems: GitHub workflow commands and job summary, GitLab
//! Code Quality, JUnit, and report files written in the same run.

use crate::common::*;

fn repo_with_findings() -> Repo {
    let repo = Repo::new();
    // A file name with the characters workflow-command properties escape.
    repo.write("we,ird:name.json", "{\n  \"a\": 100%\n}\n")
        .write("big.bin", vec![b'a'; 600 * 1024]);
    repo
}

#[test]
fn github_annotations_are_escaped() {
    let repo = repo_with_findings();
    let run = repo.run(&["check", "--format", "github"]);
    assert_eq!(run.code, 1);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "::warning file=big.bin,title=lint/large-file::big.bin is 600 KiB, over the limit of 500 KiB"
    );
    assert_eq!(
        lines[1],
        "::error file=we%2Cird%3Aname.json,line=2,col=11,title=lint/invalid-json::we,ird:name.json does not parse: expected `,` or `}` (a template or another dialect? leave it out: `exclude = [\"we,ird:name.json\"]` in [plugins.lint.config])"
    );
    assert!(
        lines[2].starts_with("gate FAILED: 1 error, 1 warning from 3 plugins in "),
        "{}",
        lines[2]
    );
}

#[test]
fn github_step_summary_is_appended() {
    let repo = repo_with_findings();
    let summary = repo.path().join("summary.md");
    std::fs::write(&summary, "earlier step\n").expect("write");
    let summary_s = summary.to_string_lossy().into_owned();
    let run = repo.run_env(
        &["check", "--format", "github"],
        &[("GITHUB_STEP_SUMMARY", &summary_s)],
    );
    assert_eq!(run.code, 1);
    let md = std::fs::read_to_string(&summary).expect("summary");
    assert!(
        md.starts_with("earlier step\n## ❌ portcullis: gate FAILED\n"),
        "{md}"
    );
    assert!(md.contains("| lint | 1 | 1 | 0 | ok |"), "{md}");
    // Plugin text is escaped to literal markdown.
    assert!(md.contains("| error | lint\\/invalid\\-json | we\\,ird\\:name\\.json\\:2 | we\\,ird\\:name\\.json does not parse\\: expected \\`\\,\\` or \\`\\}\\` \\(a template or another dialect\\? leave it out\\: \\`exclude \\= \\[\\\"we\\,ird\\:name\\.json\\\"\\]\\` in \\[plugins\\.lint\\.config\\]\\) |"), "{md}");
}

#[test]
fn gitlab_code_quality() {
    let repo = repo_with_findings();
    let run = repo.run(&["check", "--format", "gitlab"]);
    assert_eq!(run.code, 1);
    let issues = run.json();
    let issues = issues.as_array().expect("array");
    assert_eq!(issues.len(), 2);
    let json = issues
        .iter()
        .find(|i| i["check_name"] == "lint/invalid-json")
        .expect("json issue");
    assert_eq!(json["severity"], "critical");
    assert_eq!(json["location"]["path"], "we,ird:name.json");
    assert_eq!(json["location"]["lines"]["begin"], 2);
    assert_eq!(json["fingerprint"].as_str().expect("fp").len(), 32);
    let big = issues
        .iter()
        .find(|i| i["check_name"] == "lint/large-file")
        .expect("large-file issue");
    assert_eq!(big["severity"], "minor");
    assert_eq!(big["location"]["lines"]["begin"], 1);
}

#[test]
fn junit_has_a_testcase_per_rule_and_failures_at_fail_at() {
    let repo = repo_with_findings();
    let run = repo.run(&["check", "--format", "junit"]);
    assert_eq!(run.code, 1);
    let xml = &run.stdout;
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"portcullis\" tests=\"39\" failures=\"1\" errors=\"0\""), "{xml}");
    assert!(
        xml.contains("<testsuite name=\"lint\" tests=\"8\" failures=\"1\" errors=\"0\""),
        "{xml}"
    );
    assert!(xml.contains("<testcase classname=\"lint\" name=\"lint/invalid-json\">\n      <failure message=\"1 finding(s) at or above error\" type=\"lint/invalid-json\">we,ird:name.json:2:11: error we,ird:name.json does not parse: expected `,` or `}` (a template or another dialect? leave it out: `exclude = [&quot;we,ird:name.json&quot;]` in [plugins.lint.config])</failure>\n    </testcase>"), "{xml}");
    assert!(xml.contains("<testcase classname=\"lint\" name=\"lint/large-file\">\n      <system-out>big.bin: warning big.bin is 600 KiB, over the limit of 500 KiB</system-out>\n    </testcase>"), "{xml}");
    assert!(
        xml.contains("<testcase classname=\"lint\" name=\"lint/merge-conflict\"></testcase>"),
        "{xml}"
    );
}

#[test]
fn every_report_file_is_written_in_one_run_even_when_a_plugin_fails() {
    let repo = Repo::new();
    repo.policy_with_wasm(
        "h",
        HOSTILE_WASM,
        "[plugins.h.config]\nattack = \"panic\"\n",
    );
    let dir = repo.path().to_string_lossy().into_owned();
    let (sarif, json, junit, gitlab) = (
        format!("{dir}/o.sarif"),
        format!("{dir}/o.json"),
        format!("{dir}/o.xml"),
        format!("{dir}/o.gl.json"),
    );
    let run = repo.run(&[
        "check", "--sarif", &sarif, "--json", &json, "--junit", &junit, "--gitlab", &gitlab,
    ]);
    assert_eq!(run.code, 2);
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).expect("sarif")).expect("json");
    assert_valid_sarif(&sarif);
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("json");
    assert_eq!(doc["verdict"], "error");
    assert_eq!(
        doc["errors"][0].as_str().expect("error").split(": ").next(),
        Some("plugin h")
    );
    let xml = std::fs::read_to_string(&junit).expect("junit");
    assert!(
        xml.contains("errors=\"1\"") && xml.contains("type=\"plugin-failure\""),
        "{xml}"
    );
    assert_eq!(std::fs::read_to_string(&gitlab).expect("gitlab"), "[]\n");
}

/// A policy outside the repository (an org's shared file) whose findings
/// have no file in the repository: a budget over imported warnings, an
/// approvals plugin without pull-request context, an expired waiver; with a
/// plugin from a `.wasm` file outside the repository, and a finding in a
/// file whose name holds a `:`.
fn placeless_findings() -> (Repo, tempfile::TempDir, String) {
    let repo = Repo::new();
    repo.fixture(
        "reports/clippy-demo/clippy-output.jsonl",
        "reports/clippy.jsonl",
    )
    .write("we:ird.json", "{\n");
    let sha = portcullis::digest::sha256_hex(&std::fs::read(HOSTILE_WASM).expect("wasm"));
    let org = tempfile::tempdir().expect("org dir");
    let policy = org.path().join("org-policy.toml");
    std::fs::write(
        &policy,
        format!(
            "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n[plugins.lint.config]\nmax-warnings = 1\n\
             [plugins.approvals]\nsource = \"builtin:approvals\"\nread = [\".\"]\n\
             [plugins.approvals.config]\nrules = []\noptional = true\n\
             [plugins.outside]\nsource = \"{HOSTILE_WASM}\"\nsha256 = \"{sha}\"\n\
             [plugins.outside.config]\nattack = \"none\"\n\
             [reports.clippy]\npath = \"reports/clippy.jsonl\"\nformat = \"clippy-json\"\n\
             [[waivers]]\nrule = \"lint/merge-conflict\"\nreason = \"old\"\nowner = \"sec@example.com\"\nexpires = 2020-01-01\n"
        ),
    )
    .expect("policy");
    let policy = policy.to_string_lossy().into_owned();
    (repo, org, policy)
}

#[test]
fn findings_with_no_place_in_the_repository_are_notifications_github_accepts() {
    let (repo, org, policy) = placeless_findings();
    let gitlab = repo.path().join("gl.json").to_string_lossy().into_owned();
    let json = repo.path().join("out.json").to_string_lossy().into_owned();
    let (run, sarif) =
        repo.check_sarif(&["--policy", &policy, "--gitlab", &gitlab, "--json", &json]);
    assert_eq!(
        run.code, 1,
        "the budget still fails the gate: {}{}",
        run.stdout, run.stderr
    );
    let weird = results(&sarif)
        .into_iter()
        .find(|r| r["ruleId"] == "lint/invalid-json")
        .expect("invalid-json");
    assert_eq!(
        weird["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "we%3Aird.json",
        "a `:` in a path is encoded, not a URI scheme"
    );
    let ids = rule_ids(&sarif);
    assert!(
        ids.contains(&"lint/clippy/needless_return".to_string()),
        "{ids:?}"
    );
    assert!(!ids.contains(&"lint/max-warnings".to_string()), "{ids:?}");
    let notified = |plugin: &str, rule: &str| {
        sarif["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .filter(|r| r["tool"]["driver"]["name"] == plugin)
            .flat_map(|r| {
                r["invocations"][0]["toolExecutionNotifications"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .find(|n| n["associatedRule"]["id"] == rule)
            .unwrap_or_else(|| panic!("no notification for {rule}: {sarif:#}"))
    };
    let budget = notified("lint", "lint/max-warnings");
    assert_eq!(budget["level"], "error");
    assert_eq!(
        budget["message"]["text"],
        "lint/max-warnings: 4 warnings in imported reports, over the budget of 1"
    );
    assert!(
        budget["properties"]["portcullis/counts"]
            .as_bool()
            .expect("counts")
    );
    notified("approvals", "approvals/no-context");
    notified("portcullis", "portcullis/waiver-expired");
    // The JSON report counts it; no report names a host path.
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("json")).expect("json");
    assert!(
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["rule_id"] == "lint/max-warnings" && f["level"] == "error")
    );
    assert_eq!(doc["policy"], "org-policy.toml");
    let gl: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&gitlab).expect("gitlab")).expect("json");
    let paths: Vec<&str> = gl
        .as_array()
        .expect("issues")
        .iter()
        .map(|i| i["location"]["path"].as_str().expect("path"))
        .collect();
    assert!(paths.contains(&"org-policy.toml"), "{paths:?}");
    let host = org.path().to_string_lossy().into_owned();
    let root = repo.path().to_string_lossy().into_owned();
    let wasm_dir = std::path::Path::new(HOSTILE_WASM)
        .parent()
        .expect("wasm dir")
        .to_string_lossy()
        .into_owned();
    for text in [
        std::fs::read_to_string(&gitlab).expect("gitlab"),
        std::fs::read_to_string(&json).expect("json"),
        sarif.to_string(),
    ] {
        assert!(
            !text.contains(&host) && !text.contains(&root) && !text.contains(&wasm_dir),
            "a host path in an output: {text}"
        );
    }
}

#[test]
fn a_sarif_category_names_every_run() {
    let (repo, _org, policy) = placeless_findings();
    let (_, sarif) = repo.check_sarif(&["--policy", &policy, "--sarif-category", "pr/backend"]);
    let ids: Vec<&str> = sarif["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["automationDetails"]["id"].as_str().expect("id"))
        .collect();
    assert!(
        ids.len() >= 3 && ids.iter().all(|id| *id == "pr/backend/"),
        "{ids:?}"
    );
    // Without one, the uploader's category applies.
    let (_, sarif) = repo.check_sarif(&["--policy", &policy]);
    assert!(
        sarif["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .all(|r| r["automationDetails"].is_null())
    );
    let run = repo.run(&["check", "--sarif", "x.sarif", "--sarif-category", "a\u{7}b"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}
