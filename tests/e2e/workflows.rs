//! The workflows people copy: action.yml, this repository's workflows and
//! every workflow in the README pass zizmor (no finding at medium or above)
//! and the shipped workflow policy; the same checks catch an unpinned step.
//! On real workflows of other projects, the policy finds what zizmor finds,
//! step for step, but for the differences BENCHMARKS.md explains.

use std::collections::BTreeSet;
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

/// zizmor's JSON findings, offline, with `args`, over `paths`.
fn zizmor_json(args: &[&str], paths: &[std::path::PathBuf]) -> serde_json::Value {
    let out = Command::new(test_tool("zizmor", "venv/bin/zizmor"))
        .args(["--offline", "--format", "json"])
        .args(args)
        .args(paths)
        .output()
        .expect("run zizmor");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "zizmor printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// zizmor's findings at medium or above, offline, as `ident file:line`.
fn zizmor(repo: &Repo) -> Vec<String> {
    let findings = zizmor_json(
        &["--min-severity", "medium"],
        &[
            repo.path().join("action.yml"),
            repo.path().join(".github/workflows"),
        ],
    );
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
            .any(|m| m.contains("the composite action's step 2 uses \"actions/cache@v5.0.5\""))
            && p.iter().any(|m| m.contains("\"actions/checkout@v7.0.1\"")),
        "{p:?}"
    );
}

/// zizmor's audits, and the policy's rules, by what they look for.
const ZIZMOR_AUDITS: &[(&str, &str)] = &[
    ("unpinned-uses", "unpinned"),
    ("unpinned-images", "unpinned"),
    ("template-injection", "injection"),
    ("dangerous-triggers", "trigger"),
    ("excessive-permissions", "permissions"),
    ("artipacked", "credentials"),
    ("secrets-inherit", "inherit"),
    ("bot-conditions", "bot"),
];

const POLICY_RULES: &[(&str, &str)] = &[
    ("deny_unpinned_action", "unpinned"),
    ("deny_unpinned_image", "unpinned"),
    ("deny_template_injection", "injection"),
    ("warn_dangerous_trigger", "trigger"),
    ("deny_pull_request_target_checkout", "checkout"),
    ("deny_write_all_permissions", "permissions"),
    ("warn_default_permissions", "permissions"),
    ("warn_workflow_write_permissions", "permissions"),
    ("warn_checkout_persists_credentials", "credentials"),
    ("warn_secrets_inherit", "inherit"),
    ("warn_bot_condition", "bot"),
];

/// zizmor's audits the policy leaves out on purpose (BENCHMARKS.md says why).
const NOT_AUDITED: &[&str] = &["self-repository"];

/// Where a finding is, at the grain both tools share: the step
/// (`jobs/<job>/steps/<n>`), else the job, else the top-level key and its
/// first child (`on/pull_request_target`, `permissions/contents`).
fn unit(route: &[String]) -> String {
    let grain = match route {
        [jobs, _, steps, _, ..] if jobs == "jobs" && steps == "steps" => 4,
        [jobs, ..] if jobs == "jobs" => 2,
        _ => 2,
    };
    route[..route.len().min(grain)].join("/")
}

/// The file name of a path in a report (both tools name the workflow by
/// its path; the fixtures' names are unique).
fn file_name(path: &serde_json::Value) -> String {
    let path = path.as_str().expect("path");
    path.rsplit('/').next().unwrap_or(path).to_string()
}

fn family(table: &[(&str, &'static str)], name: &str) -> Option<&'static str> {
    table.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

#[test]
fn real_workflows_agree_with_zizmor_but_for_the_differences_explained() {
    let repo = Repo::new();
    let dir = fixtures().join("real-workflows");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("real workflows") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".yml") || name.ends_with(".yaml") {
            repo.write(
                &format!(".github/workflows/{name}"),
                std::fs::read(&path).expect("read"),
            );
            files += 1;
        }
    }
    assert!(files >= 25, "{files} real workflows");

    // zizmor's own findings, its regular persona, ignore comments off (the
    // policy has no inline ignores: waivers do that).
    let found = zizmor_json(&["--no-ignores"], &[repo.path().join(".github/workflows")]);
    let mut zizmor = BTreeSet::new();
    for f in found.as_array().expect("findings") {
        let ident = f["ident"].as_str().expect("ident");
        if NOT_AUDITED.contains(&ident) {
            continue;
        }
        let fam = family(ZIZMOR_AUDITS, ident)
            .unwrap_or_else(|| panic!("zizmor audit {ident} is neither compared nor left out"));
        for loc in f["locations"].as_array().expect("locations") {
            if loc["symbolic"]["kind"] != "Primary" {
                continue;
            }
            let file = file_name(&loc["symbolic"]["key"]["Local"]["verbatim_path"]);
            let route: Vec<String> = loc["symbolic"]["route"]["route"]
                .as_array()
                .expect("route")
                .iter()
                .map(
                    |step| match step.as_object().and_then(|o| o.values().next()) {
                        Some(serde_json::Value::String(k)) => k.clone(),
                        Some(other) => other.to_string(),
                        None => String::new(),
                    },
                )
                .collect();
            zizmor.insert(format!("{file} {fam} {}", unit(&route)));
        }
    }

    // The policy's, each at the node its `_path` names.
    let policy = format!("{ROOT}/policies/rego.toml");
    let run = repo.run(&["check", ".", "--policy", &policy, "--format", "json"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let mut ours = BTreeSet::new();
    for f in run.json()["findings"].as_array().expect("findings") {
        let Some(rule) = f["rule_id"]
            .as_str()
            .and_then(|r| r.strip_prefix("rego/github_actions/"))
        else {
            continue;
        };
        let fam = family(POLICY_RULES, rule).unwrap_or_else(|| panic!("rule {rule} not compared"));
        let node = f["properties"]["node"]
            .as_str()
            .expect("every finding names its node");
        let route: Vec<String> = node
            .trim_start_matches('/')
            .split('/')
            .map(str::to_string)
            .collect();
        let file = file_name(&f["locations"][0]["path"]);
        // Each finding on a line and column of its own.
        assert!(
            f["locations"][0]["region"]["startColumn"]
                .as_u64()
                .is_some(),
            "{f}"
        );
        ours.insert(format!("{file} {fam} {}", unit(&route)));
    }

    let agree = zizmor.intersection(&ours).count();
    let only_zizmor: Vec<&String> = zizmor.difference(&ours).collect();
    let only_ours: Vec<&String> = ours.difference(&zizmor).collect();
    assert!(agree >= 70, "{agree} findings in common");
    assert_eq!(
        only_zizmor,
        [
            // zizmor reports the workflow's missing `permissions:` and each
            // job's; the policy reports each job (both agree on the jobs).
            "cli__cli__triage.yml permissions ",
            // Step outputs in a script: zizmor's informational, low
            // confidence findings; the policy reports contexts anyone can
            // write (titles, bodies, branch names, inputs), not a step's
            // output.
            "withastro__astro__benchmark.yml injection jobs/benchmark/steps/10",
            "withastro__astro__benchmark.yml injection jobs/benchmark/steps/6",
        ],
        "zizmor found these and the policy did not"
    );
    assert_eq!(
        only_ours,
        [
            // The exploitable half of a privileged trigger: the pull
            // request's code checked out (zizmor reports the trigger).
            "bevyengine__bevy__action-on-PR-labeled.yml checkout jobs/comment-on-migration-guide-label/steps/0",
            "bevyengine__bevy__action-on-PR-labeled.yml checkout jobs/comment-on-release-note-label/steps/0",
            "open-telemetry__opentelemetry-collector__check-codeowners.yaml checkout jobs/check-codeowners/steps/2",
            // A `docker://` image by a tag (`:master`): the policy asks
            // for a digest, as it asks actions for a commit SHA.
            "prometheus__prometheus__prombench.yml unpinned jobs/benchmark_cancel/steps/1",
            "prometheus__prometheus__prombench.yml unpinned jobs/benchmark_restart/steps/1",
            "prometheus__prometheus__prombench.yml unpinned jobs/benchmark_start/steps/1",
            "python-poetry__poetry__docs.yaml checkout jobs/deploy/steps/2",
            "withastro__astro__benchmark.yml checkout jobs/benchmark/steps/0",
        ],
        "the policy found these and zizmor did not"
    );
}
