//! Mutation test of the Rego plugin: mutants of the shipped policies
//! (`policies/rego`) run over their own test inputs, and mutants of those
//! inputs (a Kubernetes manifest, a workflow, a Terraform plan) under the
//! unmutated policies (and Terraform source through the HCL parser). Every mutant is evaluated or refused with one line
//! naming the file; none panics or hangs.

use std::path::Path;

use portcullis_plugin_rego::Rego;
use portcullis_sdk::testing::mutants::Mutants;
use portcullis_sdk::testing::{Harness, write_tree};
use serde_json::json;

const POLICIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../policies");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{POLICIES}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// (namespace, policy, input path, input) of each shipped example.
fn examples() -> Vec<(&'static str, String, &'static str, String)> {
    vec![
        (
            "kubernetes",
            read("rego/kubernetes/kubernetes.rego"),
            "k8s/app.yaml",
            read("policy-tests/kubernetes/repo/k8s/app.yaml"),
        ),
        (
            "github_actions",
            read("rego/github_actions/github_actions.rego"),
            ".github/workflows/ci.yml",
            read("policy-tests/workflows/repo/.github/workflows/ci.yml"),
        ),
        (
            "terraform",
            read("rego/terraform/terraform.rego"),
            "infra/plan.json",
            read("policy-tests/terraform/repo/infra/plan.json"),
        ),
        (
            "terraform",
            read("rego/terraform/terraform.rego"),
            "infra/main.tf",
            read("policy-tests/terraform-source/repo/infra/s3.tf")
                + &read("policy-tests/terraform-source/repo/infra/encryption.tf"),
        ),
    ]
}

fn run(root: &Path, namespace: &str, input: &str) -> Result<portcullis_sdk::Evaluation, String> {
    let parser = if input.ends_with(".json") {
        "json"
    } else if input.ends_with(".tf") {
        "hcl"
    } else {
        "yaml"
    };
    Harness::new(root)
        .config(json!({
            "policy": ["policy"],
            "namespaces": [],
            "inputs": [{"files": [input], "parser": parser, "namespaces": [namespace]}],
        }))
        .run::<Rego>()
}

const REGO_WORDS: &[&str] = &[
    "package",
    "import rego.v1",
    "deny",
    "warn",
    "violation",
    "contains",
    "if",
    "some",
    "every",
    "in",
    "not",
    ":=",
    "==",
    "input",
    "data",
    "sprintf",
    "count(input) > 3",
    "count(input)",
    "walk(input, x)",
    "regex.match(\"(a+)+$\", \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\")",
    "msg",
    "[_]",
    "default",
];

#[test]
fn rego_policy_mutants() {
    for (namespace, policy, input_path, input) in examples() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_tree(dir.path(), &[(input_path, input.as_str())]);
        std::fs::create_dir_all(dir.path().join("policy")).expect("mkdir");
        let file = dir.path().join("policy/p.rego");
        Mutants::with_words(&format!("rego {namespace}"), &[&policy], 700, REGO_WORDS).check(
            |text| {
                std::fs::write(&file, text).expect("write the mutant");
                run(dir.path(), namespace, input_path)
            },
            |_, message| {
                // A broken module is named; so is an input or a result.
                if message.contains("p.rego")
                    || message.contains(input_path)
                    || message.starts_with("config.")
                    || message.contains("policy")
                {
                    Ok(())
                } else {
                    Err("names neither the policy nor the input".into())
                }
            },
        );
    }
}

#[test]
fn rego_input_mutants() {
    let words = [
        "kind",
        "apiVersion",
        "metadata",
        "spec",
        "- ",
        ": ",
        "&a",
        "*a",
        "<<: *a",
        "!!binary",
        "---",
        "...",
        "%YAML 1.2",
    ];
    for (namespace, policy, input_path, input) in examples() {
        let dir = tempfile::tempdir().expect("tempdir");
        write_tree(dir.path(), &[("policy/p.rego", policy.as_str())]);
        let file = dir.path().join(input_path);
        std::fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        Mutants::with_words(
            &format!("rego input {input_path}"),
            &[&input],
            1_000,
            &words,
        )
        // A mutant may repeat a document 5 000 times; the Kubernetes
        // policy's 17 rules take about 0.3 ms a document here (linear).
        .hang(std::time::Duration::from_secs(4))
        .check(
            |text| {
                std::fs::write(&file, text).expect("write the mutant");
                run(dir.path(), namespace, input_path)
            },
            |_, message| {
                if message.contains(input_path) {
                    Ok(())
                } else {
                    Err("does not name the input".into())
                }
            },
        );
    }
}
