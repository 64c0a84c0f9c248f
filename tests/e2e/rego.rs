//! The rego plugin and `portcullis test` through the real binary.

use crate::common::*;

fn repo_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn shipped_example_policies_pass_their_tests_and_fixtures() {
    let root = repo_root();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args([
            "test",
            "--policy",
            "policies/rego.toml",
            "--coverage-threshold",
            "90",
            "--format",
            "json",
        ])
        .current_dir(&root)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    let tests = doc["tests"].as_array().expect("tests");
    assert!(tests.len() >= 20, "{doc:#}");
    assert!(tests.iter().all(|t| t["result"] == "pass"), "{doc:#}");
    let fixtures = doc["fixtures"].as_array().expect("fixtures");
    let names: Vec<&str> = fixtures.iter().filter_map(|f| f["name"].as_str()).collect();
    assert_eq!(
        names,
        [
            "policy-tests/cargo-release",
            "policy-tests/clean",
            "policy-tests/kubernetes",
            "policy-tests/terraform",
            "policy-tests/terraform-module",
            "policy-tests/terraform-source",
            "policy-tests/workflows"
        ]
    );
    assert!(fixtures.iter().all(|f| f["result"] == "pass"), "{doc:#}");
    assert!(doc["coverage"]["percent"].as_f64().expect("percent") >= 90.0);
    assert_eq!(doc["exit_code"], 0);
}

const POLICY: &str = r#"
[plugins.rego]
source = "builtin:rego"
read = ["."]

[plugins.rego.config]
policy = ["policy"]
inputs = [{ files = ["k8s/*.yaml"] }]
"#;

const REGO: &str = r#"package main
import rego.v1

# METADATA
# title: Privileged container
# custom:
#   severity: critical
#   security-severity: 9.1
deny_privileged contains msg if {
	some c in input.spec.containers
	c.securityContext.privileged
	msg := sprintf("%s is privileged", [c.name])
}

warn_untested contains msg if {
	input.kind == "Job"
	msg := "never tested"
}
"#;

const TEST: &str = r#"package main_test
import rego.v1
import data.main
test_privileged if {
	main.deny_privileged == {"a is privileged"} with input as {"spec": {"containers": [{"name": "a", "securityContext": {"privileged": true}}]}}
}
test_wrong if {
	count(main.deny_privileged) == 2 with input as {"spec": {"containers": []}}
}
"#;

#[test]
fn a_rego_gate_with_sarif_rules_from_metadata() {
    let repo = Repo::new();
    repo.write("portcullis.toml", POLICY)
        .write("policy/main.rego", REGO)
        .write(
            "k8s/pod.yaml",
            "kind: Pod\nspec:\n  containers:\n    - name: web\n      securityContext: {privileged: true}\n",
        );
    let (run, sarif) = repo.check_sarif(&[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(rule_ids(&sarif), ["rego/main/deny_privileged"]);
    let result = &results(&sarif)[0];
    assert_eq!(result["message"]["text"], "web is privileged");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "k8s/pod.yaml"
    );
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    let rule = rules
        .iter()
        .find(|r| r["id"] == "rego/main/deny_privileged")
        .expect("the rule is described");
    assert_eq!(rule["shortDescription"]["text"], "Privileged container");
    assert_eq!(rule["properties"]["security-severity"], "9.1");
}

#[test]
fn portcullis_test_reports_failures_coverage_and_errors() {
    let repo = Repo::new();
    repo.write("portcullis.toml", POLICY)
        .write("policy/main.rego", REGO)
        .write("policy/main_test.rego", TEST)
        .write("k8s/pod.yaml", "kind: Pod\n");
    let run = repo.run(&["test", "--coverage"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("FAIL  data.main_test.test_wrong (policy/main_test.rego:7): undefined"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("policy/main.rego: not covered: lines 15, 17"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("policy tests FAILED: 1 tests passed, 1 failed"),
        "{}",
        run.stdout
    );

    // Only the passing test: exit 0, unless coverage is below the threshold.
    repo.write(
        "policy/main_test.rego",
        TEST.split("test_wrong").next().expect("head"),
    );
    let run = repo.run(&["test"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let run = repo.run(&["test", "--coverage-threshold", "99"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("is below the 99% threshold"),
        "{}",
        run.stdout
    );

    // A syntax error: exit 2 naming file, line and column.
    repo.write(
        "policy/main.rego",
        "package main\nimport rego.v1\ndeny contains x if {\n",
    );
    let run = repo.run(&["test"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("policy/main.rego:"), "{}", run.stdout);
}

#[test]
fn fixture_cases_catch_a_changed_verdict() {
    let repo = Repo::new();
    repo.write("policies/portcullis.toml", POLICY.replace("policy = [\"policy\"]", "policy = [\"/mnt/p\"]") + "[plugins.rego.mounts]\np = \"rego\"\n")
        .write("policies/rego/main.rego", REGO)
        .write("policies/policy-tests/privileged/repo/k8s/pod.yaml", "kind: Pod\nspec:\n  containers:\n    - name: a\n      securityContext: {privileged: true}\n")
        .write(
            "policies/policy-tests/privileged/expected.toml",
            "verdict = \"fail\"\n[[findings]]\nrule = \"rego/main/deny_privileged\"\npath = \"k8s/pod.yaml\"\n",
        );
    let run = repo.run(&["test", "--policy", "policies/portcullis.toml"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("1 fixtures passed, 0 failed"),
        "{}",
        run.stdout
    );
    // The policy stops flagging privileged containers: the case fails.
    repo.write(
        "policies/rego/main.rego",
        REGO.replace(
            "c.securityContext.privileged\n",
            "c.securityContext.privileged == \"yes\"\n",
        ),
    );
    let run = repo.run(&["test", "--policy", "policies/portcullis.toml"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("FAIL  fixture policy-tests/privileged"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("verdict: expected fail, got pass"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("missing: rego/main/deny_privileged in k8s/pod.yaml"),
        "{}",
        run.stdout
    );
}

/// A policy that builds a billion-element set runs the plugin out of
/// memory: exit 2 saying so, not a Rust panic ("capacity overflow").
#[test]
fn a_policy_that_exhausts_memory_is_told_so() {
    let repo = Repo::new();
    repo.write("portcullis.toml", POLICY)
        .write("k8s/pod.yaml", "kind: Pod\nmetadata:\n  name: web\n")
        .write(
            "policy/p.rego",
            "package main\nimport rego.v1\ndeny contains msg if {\n  xs := numbers.range(1, 1000000000)\n  count(xs) > 0\n  msg := \"big\"\n}\n",
        );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("portcullis: plugin rego: ran out of memory")
            || run
                .stderr
                .contains("portcullis: plugin rego: exceeded its memory limit"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// `portcullis test` finds its fixture cases next to a discovered policy,
/// runs them when the Rego policies live in the repository itself, and
/// takes a relative `--policy` from a subdirectory.
#[test]
fn fixture_cases_run_with_a_discovered_policy_and_repository_policies() {
    let repo = Repo::new();
    repo.git(&["init", "-q"]);
    repo.write("portcullis.toml", POLICY)
        .write("policy/main.rego", REGO)
        .write("policy/main_test.rego", TEST.replace("test_wrong", "wrong"))
        .write(
            "policy-tests/privileged/repo/k8s/pod.yaml",
            "kind: Pod\nspec:\n  containers:\n    - name: a\n      securityContext: {privileged: true}\n",
        )
        .write(
            "policy-tests/privileged/expected.toml",
            "verdict = \"fail\"\n[[findings]]\nrule = \"rego/main/deny_privileged\"\npath = \"k8s/pod.yaml\"\nline = 1\n",
        )
        .write("sub/keep.txt", "x\n");
    let run = repo.run(&["test"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("1 tests passed, 0 failed; 1 fixtures passed, 0 failed"),
        "the discovered policy's cases run: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "note: fixture cases read plugin `rego`'s policy `policy` from policy, mounted at /mnt/repository-policy-0"
        ),
        "{}",
        run.stdout
    );
    // From a subdirectory, the policy relative to it.
    let sub = std::process::Command::new(BIN)
        .args(["test", "..", "--policy", "../portcullis.toml", "--coverage"])
        .current_dir(repo.path().join("sub"))
        .env("PORTCULLIS_CACHE_DIR", repo.cache_dir())
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&sub.stdout);
    assert_eq!(
        sub.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&sub.stderr)
    );
    assert!(out.contains("1 fixtures passed"), "{out}");
    assert!(
        out.contains("\n  policy/main.rego: not covered: lines 15, 17"),
        "coverage names the repository's file: {out}"
    );
    // No case directory next to the policy: a note, not silence.
    std::fs::remove_dir_all(repo.path().join("policy-tests")).expect("rm");
    let run = repo.run(&["test"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .contains("note: no fixture cases: policy-tests does not exist"),
        "{}",
        run.stdout
    );
}

/// `{ evidence = "cargo-metadata" }`: the plugin asks the host for cargo
/// metadata (with every dependency) only when an input names it.
#[test]
fn a_rego_policy_over_cargo_metadata() {
    let repo = Repo::new();
    repo.write(
        "portcullis.toml",
        r#"
[plugins.rego]
source = "builtin:rego"
read = ["."]

[plugins.rego.config]
policy = ["policy"]
inputs = [{ evidence = "cargo-metadata" }]
"#,
    )
    .write(
        "policy/crates.rego",
        r#"package main
import rego.v1

deny_unlicensed contains msg if {
	some p in input.packages
	p.license == null
	msg := sprintf("%s declares no license", [p.name])
}
"#,
    )
    .write(
        "Cargo.toml",
        "[package]\nname = \"unlicensed\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .write("src/lib.rs", "\n");
    repo.generate_lockfile();
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        finding_messages(&run.json()),
        ["unlicensed declares no license"]
    );
    // A manifest the lockfile no longer matches (`--locked`) is cargo's
    // error, and the gate fails closed.
    repo.write("Cargo.toml", "[package]\nname = \"unlicensed\"\n");
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("cargo metadata"), "{}", run.stderr);
}
