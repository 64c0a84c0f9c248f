//! conftest's conventions, case by case, through the native harness: what a
//! policy returns and how it becomes findings.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use portcullis_plugin_rego::Rego;
use portcullis_sdk::testing::{Harness, write_tree};
use portcullis_sdk::{Evaluation, Level};
use serde_json::{Value, json};

/// Run a one-module policy (`policy/p.rego`) over `files` with `inputs`.
fn run(rego: &str, files: &[(&str, &str)], config: Value) -> Result<Evaluation, String> {
    run_changed(rego, files, config, None)
}

/// [`run`], with a change filter when `changed` is given.
fn run_changed(
    rego: &str,
    files: &[(&str, &str)],
    config: Value,
    changed: Option<&[&str]>,
) -> Result<Evaluation, String> {
    let dir = tempfile::tempdir().unwrap();
    let mut tree: Vec<(&str, &str)> = vec![("policy/p.rego", rego)];
    tree.extend_from_slice(files);
    write_tree(dir.path(), &tree);
    let mut c = json!({"policy": ["policy"]});
    if let (Some(o), Some(extra)) = (c.as_object_mut(), config.as_object()) {
        o.extend(extra.clone());
    }
    let mut h = Harness::new(dir.path()).config(c);
    if let Some(paths) = changed {
        h = h.changed(paths);
    }
    h.run::<Rego>()
}

/// (rule, message, location) of each finding.
fn found(e: &Evaluation) -> Vec<(String, String, String)> {
    let mut v: Vec<(String, String, String)> = e
        .findings
        .iter()
        .map(|f| {
            let loc = f
                .locations
                .first()
                .map_or(String::new(), |l| match &l.region {
                    Some(r) => format!("{}:{}", l.path, r.start_line),
                    None => l.path.clone(),
                });
            (f.rule_id.clone(), f.message.clone(), loc)
        })
        .collect();
    v.sort();
    v
}

fn t(rule: &str, msg: &str, loc: &str) -> (String, String, String) {
    (rule.into(), msg.into(), loc.into())
}

const POD: &str = "kind: Pod\nmetadata:\n  name: web\n";

#[test]
fn string_and_object_results_with_locations() {
    let rego = r#"package main
import rego.v1
deny contains msg if { input.kind == "Pod"; msg := "pods are not allowed" }
violation contains {"msg": "no owner", "owner": null, "_loc": {"file": "k8s/pod.yaml", "line": 2}} if input.kind == "Pod"
warn_name contains {"msg": sprintf("name %s", [input.metadata.name])} if input.kind == "Pod"
"#;
    let e = run(
        rego,
        &[("k8s/pod.yaml", POD)],
        json!({"inputs": [{"files": ["k8s/*.yaml"]}]}),
    )
    .unwrap();
    assert_eq!(
        found(&e),
        [
            t("main/deny", "pods are not allowed", "k8s/pod.yaml:1"),
            t("main/violation", "no owner", "k8s/pod.yaml:2"),
            t("main/warn_name", "name web", "k8s/pod.yaml:1"),
        ]
    );
    // One SARIF rule per Rego rule, at conftest's levels.
    let levels: Vec<(&str, Level)> = e
        .rules
        .iter()
        .map(|r| (r.id.as_str(), r.default_level))
        .collect();
    assert_eq!(
        levels,
        [
            ("main/deny", Level::Error),
            ("main/violation", Level::Error),
            ("main/warn_name", Level::Warning)
        ]
    );
    // Other fields of an object result are kept as properties.
    let v = e
        .findings
        .iter()
        .find(|f| f.rule_id == "main/violation")
        .unwrap();
    let p: Value = serde_json::from_str(v.properties.as_deref().unwrap()).unwrap();
    assert_eq!(p["details"], json!({"owner": null}));
}

#[test]
fn multi_document_yaml_points_at_each_document() {
    let rego = "package main\nimport rego.v1\ndeny contains sprintf(\"%s is a pod\", [input.metadata.name]) if input.kind == \"Pod\"\n";
    let yaml = "kind: Service\nmetadata: {name: a}\n---\nkind: Pod\nmetadata: {name: b}\n---\nkind: Pod\nmetadata: {name: c}\n";
    let e = run(
        rego,
        &[("all.yaml", yaml)],
        json!({"inputs": [{"files": ["all.yaml"]}]}),
    )
    .unwrap();
    assert_eq!(
        found(&e),
        [
            t("main/deny", "b is a pod", "all.yaml:4"),
            t("main/deny", "c is a pod", "all.yaml:7")
        ]
    );
}

#[test]
fn namespaces_select_packages() {
    let rego = "package main\nimport rego.v1\ndeny contains \"main\" if true\n";
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("policy/main.rego", rego),
            (
                "policy/other.rego",
                "package other.checks\nimport rego.v1\nwarn contains \"other\" if true\n",
            ),
            ("x.json", "{}"),
        ],
    );
    let run_ns = |ns: Value| {
        let e = Harness::new(dir.path())
            .config(
                json!({"policy": ["policy"], "namespaces": ns, "inputs": [{"files": ["x.json"]}]}),
            )
            .run::<Rego>()
            .unwrap();
        found(&e).into_iter().map(|(r, _, _)| r).collect::<Vec<_>>()
    };
    assert_eq!(run_ns(json!(["main"])), ["main/deny"]);
    assert_eq!(run_ns(json!(["other.checks"])), ["other.checks/warn"]);
    assert_eq!(run_ns(json!(["*"])), ["main/deny", "other.checks/warn"]);
    // Per input: only `other.checks` on x.json, `main` (the default) on y.json.
    std::fs::write(dir.path().join("y.json"), "{}").unwrap();
    let e = Harness::new(dir.path())
        .config(json!({"policy": ["policy"], "inputs": [
            {"files": ["x.json"], "namespaces": ["other.checks"]}, {"files": ["y.json"]}
        ]}))
        .run::<Rego>()
        .unwrap();
    assert_eq!(
        found(&e),
        [
            t("main/deny", "main", "y.json"),
            t("other.checks/warn", "other", "x.json")
        ]
    );
}

#[test]
fn combined_mode_sees_every_file_at_once() {
    let rego = r#"package main
import rego.v1
names := {f.contents.metadata.name | some f in input}
deny contains msg if {
    count(names) < count(input)
    msg := sprintf("duplicate names across %d files", [count(input)])
}
deny contains {"msg": "first file", "_loc": {"file": input[0].path}} if true
"#;
    let files = [
        ("a.yaml", "metadata: {name: x}\n"),
        ("b.yaml", "metadata: {name: x}\n"),
    ];
    let e = run(
        rego,
        &files,
        json!({"inputs": [{"files": ["*.yaml"], "combine": true}]}),
    )
    .unwrap();
    assert_eq!(
        found(&e),
        [
            t("main/deny", "duplicate names across 2 files", ""),
            t("main/deny", "first file", "a.yaml")
        ]
    );
}

#[test]
fn exceptions_exempt_named_rules_per_input() {
    let rego = r#"package main
import rego.v1
deny_privileged contains "privileged" if input.privileged
deny_root contains "root" if input.root
exception contains ["privileged"] if input.name == "cni"
"#;
    let files = [
        (
            "cni.json",
            r#"{"name": "cni", "privileged": true, "root": true}"#,
        ),
        ("app.json", r#"{"name": "app", "privileged": true}"#),
    ];
    let e = run(rego, &files, json!({"inputs": [{"files": ["*.json"]}]})).unwrap();
    assert_eq!(
        found(&e),
        [
            t(
                "exception",
                "main/deny_privileged excepted for cni.json: privileged",
                ""
            ),
            t("main/deny_privileged", "privileged", "app.json"),
            t("main/deny_root", "root", "cni.json"),
        ]
    );
}

#[test]
fn metadata_describes_the_sarif_rule() {
    let rego = r#"# METADATA
# title: Checks
package main
import rego.v1

# METADATA
# title: No latest tags
# description: Pin images.
# related_resources:
#   - ref: https://example.com/pinning
#     description: Why pin
# custom:
#   severity: low
#   security-severity: 3.1
deny_latest contains "latest" if input.latest
"#;
    let e = run(
        rego,
        &[("x.json", r#"{"latest": true}"#)],
        json!({"inputs": [{"files": ["x.json"]}]}),
    )
    .unwrap();
    let r = e.rules.iter().find(|r| r.id == "main/deny_latest").unwrap();
    assert_eq!(r.name, "No latest tags");
    assert_eq!(r.short_description, "No latest tags");
    assert_eq!(r.full_description, "Pin images.");
    assert!(
        r.help_markdown
            .contains("[Why pin](https://example.com/pinning)"),
        "{}",
        r.help_markdown
    );
    assert_eq!(r.default_level, Level::Note);
    assert_eq!(r.security_severity, Some(3.1));
}

#[test]
fn dockerfiles_toml_evidence_and_reports_are_inputs() {
    let rego = r#"package main
import rego.v1
deny contains msg if {
    some i in input
    i.Cmd == "from"
    endswith(i.Value[0], ":latest")
    msg := sprintf("line %d: FROM %s", [i.StartLine, i.Value[0]])
}
deny contains "toml" if input["package"].name == "demo"
deny contains sprintf("pr by %s", [input.author]) if input.author
"#;
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            ("policy/p.rego", rego),
            (
                "Dockerfile",
                "FROM rust:1.95 AS build\nRUN cargo build\nFROM debian:latest\n",
            ),
            ("Cargo.toml", "[package]\nname = \"demo\"\n"),
            ("pr.json", r#"{"author": "alice"}"#),
        ],
    );
    let e = Harness::new(dir.path())
        .report("pr", portcullis_sdk::ReportFormat::PrContext, "pr.json")
        .config(json!({"policy": ["policy"], "inputs": [
            {"files": ["Dockerfile"]}, {"files": ["Cargo.toml"]}, {"report": "pr"}
        ]}))
        .run::<Rego>()
        .unwrap();
    assert_eq!(
        found(&e),
        [
            t("main/deny", "line 3: FROM debian:latest", "Dockerfile"),
            t("main/deny", "pr by alice", "pr.json"),
            t("main/deny", "toml", "Cargo.toml"),
        ]
    );
}

#[test]
fn rego_v0_syntax_on_request() {
    let rego = "package main\ndeny[msg] {\n  input.x\n  msg := \"v0\"\n}\n";
    let cfg = json!({"inputs": [{"files": ["x.json"]}]});
    let err = run(rego, &[("x.json", r#"{"x": true}"#)], cfg).unwrap_err();
    assert!(err.starts_with("policy/p.rego:2:"), "{err}");
    let e = run(
        rego,
        &[("x.json", r#"{"x": true}"#)],
        json!({"rego-version": "v0", "inputs": [{"files": ["x.json"]}]}),
    )
    .unwrap();
    assert_eq!(found(&e), [t("main/deny", "v0", "x.json")]);
}

#[test]
fn mistakes_fail_closed_with_file_and_line() {
    let input = json!({"inputs": [{"files": ["x.json"]}]});
    let x = [("x.json", r#"{"n": "a"}"#)];
    let err = |rego: &str, files: &[(&str, &str)], cfg: Value| run(rego, files, cfg).unwrap_err();
    // Parse error.
    let e = err(
        "package main\nimport rego.v1\ndeny contains msg if {\n  msg := \n}\n",
        &x,
        input.clone(),
    );
    assert_eq!(e, "policy/p.rego:4:7: expecting `}` while parsing set");
    // A builtin error at evaluation is an error, not an undefined rule.
    let e = err(
        "package main\nimport rego.v1\ndeny contains msg if { msg := to_number(input.n) }\n",
        &x,
        input.clone(),
    );
    assert!(e.starts_with("policy/p.rego:3:"), "{e}");
    assert!(e.contains("evaluating data.main.deny on x.json"), "{e}");
    // An unknown function in a helper no input reaches.
    let e = err(
        "package main\nimport rego.v1\ndeny contains 1 if false\nhelper(x) := y if {\n  y := no.such_fn(x)\n}\nh := helper(1)\n",
        &x,
        input.clone(),
    );
    assert!(e.starts_with("policy/p.rego:5:"), "{e}");
    assert!(e.contains("could not find function no.such_fn"), "{e}");
    // An object without msg.
    let e = err(
        "package main\nimport rego.v1\ndeny contains {\"message\": \"x\"} if true\n",
        &x,
        input.clone(),
    );
    assert!(
        e.contains("returned an object without a string `msg`"),
        "{e}"
    );
    // Nothing to evaluate in the namespaces.
    let e = err(
        "package lib\nimport rego.v1\nallow if true\n",
        &x,
        input.clone(),
    );
    assert!(
        e.starts_with("config.namespaces: no deny, violation or warn rules in package main"),
        "{e}"
    );
    // An input glob that matches nothing; a file that does not parse.
    let e = err(
        "package main\nimport rego.v1\ndeny contains 1 if false\n",
        &x,
        json!({"inputs": [{"files": ["*.yaml"]}]}),
    );
    assert_eq!(
        e,
        "config.inputs[0]: *.yaml matches no file in the repository"
    );
    let e = err(
        "package main\nimport rego.v1\ndeny contains 1 if false\n",
        &[("x.json", "{\n,")],
        input,
    );
    assert!(e.starts_with("x.json:2:1: not JSON"), "{e}");
}

#[test]
fn every_rule_is_well_formed_and_documented_in_the_readme() {
    use portcullis_sdk::Plugin;
    portcullis_sdk::testing::assert_rules_well_formed(portcullis_plugin_rego::RULES);
    portcullis_sdk::testing::assert_rules_documented(
        &Rego::describe(),
        "rego",
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")),
    );
}

/// (message, file:line:column) of each finding.
fn placed(e: &Evaluation) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = e
        .findings
        .iter()
        .map(|f| {
            let l = &f.locations[0];
            let r = l.region.as_ref().unwrap();
            let col = r.start_column.map_or(String::new(), |c| format!(":{c}"));
            (
                f.message.clone(),
                format!("{}:{}{col}", l.path, r.start_line),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_path_names_the_node_a_finding_is_about() {
    // Two identical steps: the same message, two places, two findings.
    let workflow = "on: push\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: make\n      - uses: actions/checkout@v4\n---\njobs:\n  other:\n    steps:\n      - uses: actions/cache@v4\n";
    let rego = r#"package main
import rego.v1
deny contains {"msg": sprintf("%s is a tag", [step.uses]), "_path": ["jobs", job, "steps", i, "uses"]} if {
    some job, j in input.jobs
    some i, step in j.steps
    step.uses
}
warn_permissions contains {"msg": sprintf("job %s has no permissions", [job]), "_path": sprintf("/jobs/%s/permissions", [job])} if {
    some job, j in input.jobs
    not j.permissions
}
"#;
    let e = run(
        rego,
        &[(".github/workflows/ci.yml", workflow)],
        json!({"inputs": [{"files": [".github/workflows/*.yml"]}]}),
    )
    .unwrap();
    assert_eq!(
        placed(&e),
        [
            (
                "actions/cache@v4 is a tag".into(),
                ".github/workflows/ci.yml:13:9".into()
            ),
            (
                "actions/checkout@v4 is a tag".into(),
                ".github/workflows/ci.yml:6:9".into()
            ),
            (
                "actions/checkout@v4 is a tag".into(),
                ".github/workflows/ci.yml:8:9".into()
            ),
            // A key that is not there: its nearest ancestor, the job.
            (
                "job build has no permissions".into(),
                ".github/workflows/ci.yml:3:3".into()
            ),
            (
                "job other has no permissions".into(),
                ".github/workflows/ci.yml:11:3".into()
            ),
        ]
    );
    let prints: std::collections::BTreeSet<_> =
        e.findings.iter().map(|f| f.fingerprint.clone()).collect();
    assert_eq!(prints.len(), 5, "each place its own fingerprint");
}

#[test]
fn a_match_finds_the_line_inside_a_block() {
    let workflow = "jobs:\n  x:\n    steps:\n      - run: |\n          make\n          echo \"${{ github.head_ref }}\"\n      - run: echo ${{ github.head_ref }} ${{ x }}\n      - run: echo no\n      - run: echo ${{ github.head_ref }}\n";
    let rego = r#"package main
import rego.v1
deny contains {"msg": sprintf("%d", [i]), "_path": ["jobs", "x", "steps", i, "run"], "_match": "${{ github.head_ref }}"} if {
    some i, _ in input.jobs.x.steps
}
"#;
    let e = run(
        rego,
        &[("w.yml", workflow)],
        json!({"inputs": [{"files": ["w.yml"]}]}),
    )
    .unwrap();
    assert_eq!(
        placed(&e),
        [
            ("0".into(), "w.yml:6:17".into()),
            ("1".into(), "w.yml:7:19".into()),
            // Not in its own node: the next step's text is not taken for it.
            ("2".into(), "w.yml:8:9".into()),
            ("3".into(), "w.yml:9:19".into()),
        ]
    );
}

#[test]
fn paths_in_json_toml_and_combined_inputs() {
    let rego = r#"package main
import rego.v1
deny contains {"msg": "debug on", "_path": ["profile", "release", "debug"]} if input.profile.release.debug
deny contains {"msg": "second", "_path": ["items", 1, "name"]} if input.items[1].name == "b"
deny contains {"msg": "in a combined input", "_path": [i, "contents", "items", 0]} if {
    some i, f in input
    f.path == "data.json"
}
"#;
    let files = [
        (
            "Cargo.toml",
            "[package]\nname = \"x\"\n\n[profile.release]\nlto = true\ndebug = true\n",
        ),
        (
            "data.json",
            "{\n  \"items\": [\n    {\"name\": \"a\"},\n    {\"name\": \"b\"}\n  ]\n}\n",
        ),
    ];
    let e = run(
        rego,
        &files,
        json!({"inputs": [{"files": ["Cargo.toml", "data.json"]}]}),
    )
    .unwrap();
    assert_eq!(
        placed(&e),
        [
            ("debug on".into(), "Cargo.toml:6:1".into()),
            ("second".into(), "data.json:4:6".into()),
        ]
    );
    let e = run(
        rego,
        &files,
        json!({"inputs": [{"files": ["Cargo.toml", "data.json"], "combine": true}]}),
    )
    .unwrap();
    assert_eq!(
        placed(&e),
        [("in a combined input".into(), "data.json:3:5".into())]
    );
}

#[test]
fn a_bad_path_fails_closed_with_the_rule() {
    for (result, expect) in [
        (r#"{"msg": "m", "_path": ["a", -1]}"#, "-1"),
        (r#"{"msg": "m", "_path": "a/b"}"#, "JSON pointer"),
        (r#"{"msg": "m", "_path": {"a": 1}}"#, "array of keys"),
        (r#"{"msg": "m", "_path": ["a"], "_match": 3}"#, "`_match`"),
        (
            r#"{"msg": "m", "_path": ["a"], "_loc": {"line": 1}}"#,
            "both `_loc` and `_path`",
        ),
    ] {
        let rego = format!("package main\nimport rego.v1\ndeny contains {result} if true\n");
        let err = run(
            &rego,
            &[("k8s/pod.yaml", POD)],
            json!({"inputs": [{"files": ["k8s/*.yaml"]}]}),
        )
        .unwrap_err();
        assert!(err.contains(expect), "{err}");
        assert!(err.contains("p.rego:3"), "{err}");
    }
}

#[test]
fn terraform_source_is_an_input_with_positions() {
    let rego = r#"package main
import rego.v1
deny contains {"msg": sprintf("%s is public", [name]), "_path": ["resource", "aws_s3_bucket", name, i, "acl"]} if {
    some name, bodies in input.resource.aws_s3_bucket
    some i, b in bodies
    b.acl == "public-read"
}
"#;
    let tf = "resource \"aws_s3_bucket\" \"a\" {\n  acl = \"private\"\n}\n\nresource \"aws_s3_bucket\" \"b\" {\n  bucket = var.name\n  acl    = \"public-read\"\n}\n";
    let e = run(
        rego,
        &[("infra/main.tf", tf)],
        json!({"inputs": [{"files": ["**/*.tf"]}]}),
    )
    .unwrap();
    assert_eq!(
        placed(&e),
        [("b is public".into(), "infra/main.tf:7:3".into())]
    );
    let err = run(
        rego,
        &[("infra/main.tf", "resource \"x\" {\n  a = \n}\n")],
        json!({"inputs": [{"files": ["**/*.tf"]}]}),
    )
    .unwrap_err();
    assert!(err.starts_with("infra/main.tf:2:"), "{err}");
}

#[test]
fn a_combined_finding_is_placed_only_in_a_changed_file() {
    // The bucket is in a.tf; the change (in b.tf) removed its encryption.
    let rego = r#"package main
import rego.v1
deny contains {"msg": "unencrypted", "_path": [i, "contents", "resource", "b", "x", 0]} if {
    some i, f in input
    f.contents.resource.b.x
    not encrypted
}
encrypted if {
    some f in input
    f.contents.resource.enc
}
"#;
    let files = [
        ("infra/a.tf", "resource \"b\" \"x\" {\n}\n"),
        ("infra/b.tf", "# nothing here any more\n"),
    ];
    let config = json!({"inputs": [{"files": ["infra/*.tf"], "combine": true}]});
    let run = |changed: &[&str]| run_changed(rego, &files, config.clone(), Some(changed)).unwrap();
    // Only b.tf changed: the finding has no place (so it is not dropped as
    // being in an unchanged file), and still counts.
    let e = run(&["infra/b.tf"]);
    assert_eq!(e.findings.len(), 1);
    assert!(e.findings[0].locations.is_empty(), "{:?}", e.findings[0]);
    // Neither changed (or one was deleted, which leaves no trace among the
    // files): still no place, still counts.
    let e = run(&["README.md"]);
    assert_eq!(e.findings.len(), 1);
    assert!(e.findings[0].locations.is_empty(), "{:?}", e.findings[0]);
    // a.tf changed: it is placed there.
    assert_eq!(
        placed(&run(&["infra/a.tf"])),
        [("unencrypted".into(), "infra/a.tf:1:1".into())]
    );
    // The fingerprint names the file, not its index among the files.
    let print = &run(&["infra/a.tf"]).findings[0].fingerprint;
    assert!(
        print
            .as_deref()
            .unwrap_or("")
            .contains("infra/a.tf/resource/b/x/0"),
        "{print:?}"
    );
}
