//! The workflows people copy: action.yml, this repository's workflows and
//! every workflow in the README pass zizmor (no finding at medium or above)
//! and the shipped workflow policy; the same checks catch an unpinned step.

use std::path::Path;
use std::process::Command;

use crate::common::*;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");

/// The README's workflows: its `yaml` blocks that start with
/// `# .github/workflows/<name>`, as (name, text).
fn readme_workflows() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(format!("{ROOT}/README.md")).expect("README");
    let mut out = Vec::new();
    let mut rest = readme.as_str();
    while let Some(at) = rest.find("```yaml\n") {
        let block = &rest[at + 8..];
        let end = block.find("```").expect("closed block");
        let text = &block[..end];
        if let Some(name) = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# .github/workflows/"))
        {
            out.push((name.trim().to_string(), text.to_string()));
        }
        rest = &block[end..];
    }
    out
}

/// A repository holding action.yml, this repository's workflows and the
/// README's, with `edit` applied to every file's text.
fn workflows_repo(edit: impl Fn(&str) -> String) -> Repo {
    let repo = Repo::new();
    let text = |p: &str| std::fs::read_to_string(Path::new(ROOT).join(p)).expect(p);
    repo.write("action.yml", edit(&text("action.yml")));
    for entry in std::fs::read_dir(format!("{ROOT}/.github/workflows")).expect("workflows") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        repo.write(
            &format!(".github/workflows/{name}"),
            edit(&text(&format!(".github/workflows/{name}"))),
        );
    }
    let snippets = readme_workflows();
    assert!(snippets.len() >= 2, "the README's workflows: {snippets:?}");
    for (name, body) in snippets {
        repo.write(&format!(".github/workflows/readme-{name}"), edit(&body));
    }
    repo
}

/// zizmor's findings at medium or above, offline, as `ident file:line`.
fn zizmor(repo: &Repo) -> Vec<String> {
    let exe = test_tool("zizmor", "venv/bin/zizmor");
    let out = Command::new(exe)
        .args(["--offline", "--min-severity", "medium", "--format", "json"])
        .arg(repo.path().join("action.yml"))
        .arg(repo.path().join(".github/workflows"))
        .output()
        .expect("run zizmor");
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "zizmor printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    findings
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["ignored"] != true)
        .map(|f| {
            let loc = &f["locations"][0]["symbolic"];
            format!(
                "{} {}",
                f["ident"].as_str().unwrap_or("?"),
                loc["key"]["Local"]["verbatim_path"].as_str().unwrap_or("?")
            )
        })
        .collect()
}

/// The shipped workflow policy's findings (`rego/github_actions/*`).
fn workflow_policy(repo: &Repo) -> Vec<String> {
    let policy = format!("{ROOT}/policies/rego.toml");
    let run = repo.run(&["check", ".", "--policy", &policy, "--format", "json"]);
    assert!(
        run.code == 0 || run.code == 1,
        "{}{}",
        run.stdout,
        run.stderr
    );
    run.json()["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| {
            f["rule_id"]
                .as_str()
                .is_some_and(|r| r.starts_with("rego/github_actions/"))
        })
        .map(|f| f["message"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn shipped_workflows_pass_zizmor_and_the_workflow_policy() {
    let repo = workflows_repo(str::to_string);
    assert_eq!(zizmor(&repo), Vec::<String>::new());
    assert_eq!(workflow_policy(&repo), Vec::<String>::new());
}

#[test]
fn an_unpinned_step_is_caught_by_both() {
    // Every pinned action back to its tag, as the workflows used to be.
    let repo = workflows_repo(|text| {
        text.lines()
            .map(|l| match (l.split_once('@'), l.split_once(" # ")) {
                (Some((head, _)), Some((_, tag))) if l.contains("uses:") => {
                    format!("{head}@{}", tag.split_whitespace().next().unwrap_or("main"))
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    });
    let z = zizmor(&repo);
    assert!(
        z.iter()
            .any(|f| f.starts_with("unpinned-uses") && f.contains("action.yml")),
        "{z:?}"
    );
    let p = workflow_policy(&repo);
    assert!(
        p.iter()
            .any(|m| m.contains("the composite action uses \"actions/cache@v5.0.5\""))
            && p.iter().any(|m| m.contains("\"actions/checkout@v7.0.1\"")),
        "{p:?}"
    );
}
