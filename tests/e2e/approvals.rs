//! The approvals plugin through the real binary: CODEOWNERS and a rule over
//! pull-request context given as a report.

use crate::common::*;

const HEAD: &str = "cccccccccccccccccccccccccccccccccccccccc";

fn context(reviews: serde_json::Value) -> String {
    serde_json::json!({
        "author": "alice",
        "labels": ["release"],
        "base": "main",
        "head": "feature",
        "head_sha": HEAD,
        "files": [{"path": "deploy/app.yaml", "status": "modified"}, {"path": "README.md", "status": "added"}],
        "commits": [{"sha": HEAD, "author": "alice"}],
        "reviews": reviews,
    })
    .to_string()
}

const POLICY: &str = r#"
[plugins.approvals]
source = "builtin:approvals"
read = ["."]

[reports.pr]
path = "pr.json"
format = "pr-context"

[plugins.approvals.config]
teams = { "org/sre" = ["bob", "carol"] }

[[plugins.approvals.config.rules]]
name = "release"
if = { labels = ["release"] }
requires = { count = 1, users = ["rita"] }
options = { invalidate-on-push = true }
"#;

#[test]
fn owners_and_rules_gate_the_pull_request() {
    let repo = Repo::new();
    repo.write("portcullis.toml", POLICY)
        .write(
            ".github/CODEOWNERS",
            "* @alice\n/deploy/ @org/sre\n[x].md @nobody\n",
        )
        .write("pr.json", context(serde_json::json!([])));
    let (run, sarif) = repo.check_sarif(&[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        rule_ids(&sarif),
        [
            "approvals/codeowners-invalid",
            "approvals/codeowners-pending",
            "approvals/codeowners-pending",
            "approvals/rule-pending"
        ]
    );
    let pending: Vec<_> = results(&sarif)
        .into_iter()
        .filter(|r| r["ruleId"] == "approvals/codeowners-pending")
        .map(|r| {
            (
                r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone(),
                r["locations"][0]["physicalLocation"]["region"]["startLine"].clone(),
            )
        })
        .collect();
    assert_eq!(
        pending,
        [
            (".github/CODEOWNERS".into(), 1.into()),
            (".github/CODEOWNERS".into(), 2.into())
        ],
        "README.md is owned by the author, who cannot approve it"
    );
    assert!(
        run.stdout
            .contains("rule `release` needs 1 approval(s), has 0; 1 missing, from: rita"),
        "{}",
        run.stdout
    );
    let approved = serde_json::json!([
        {"user": "carol", "state": "APPROVED", "commit": HEAD, "submitted_at": "2026-11-01T10:00:00Z"},
        {"user": "rita", "state": "APPROVED", "commit": HEAD, "submitted_at": "2026-11-01T11:00:00Z"},
    ]);
    repo.write(".github/CODEOWNERS", "/deploy/ @org/sre\n")
        .write("pr.json", context(approved));
    let (run, sarif) = repo.check_sarif(&[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(rule_ids(&sarif), Vec::<String>::new());
    // Context that is not JSON: exit 2 naming the report and position.
    repo.write("pr.json", "{\"author\": ");
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("report pr (pr.json:1:"),
        "{}",
        run.stderr
    );
}

/// Through the sandbox: a CODEOWNERS that is a dangling symlink is exit 2
/// naming it, in words (the plugin sees the file list's symlink entry).
#[cfg(unix)]
#[test]
fn a_codeowners_symlink_is_named_not_skipped() {
    let repo = Repo::new();
    let sha = "c".repeat(40);
    repo.write(
        ".portcullis/pr.json",
        format!(
            "{{\"author\":\"alice\",\"labels\":[],\"base\":\"main\",\"head\":\"f\",\"head_sha\":\"{sha}\",\"files\":[{{\"path\":\"a.rs\",\"status\":\"modified\"}}],\"commits\":[{{\"sha\":\"{sha}\",\"author\":\"alice\"}}],\"reviews\":[]}}"
        ),
    )
    .symlink(".github/CODEOWNERS", "../owners-moved")
    .write(
        "portcullis.toml",
        "[plugins.approvals]\nsource = \"builtin:approvals\"\nread = [\".\"]\n[plugins.approvals.config]\nrules = []\n\
         [reports.pr]\npath = \".portcullis/pr.json\"\nformat = \"pr-context\"\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "portcullis: plugin approvals: returned an error: .github/CODEOWNERS is a symlink, and only the file itself is read"
        ),
        "{}",
        run.stderr
    );
}
