//! The example policies shipped in `policies/rego/` pass their own tests,
//! and their tests cover them.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use portcullis_plugin_rego::Rego;
use portcullis_sdk::testing::Harness;
use serde_json::{Value, json};

fn repo() -> std::path::PathBuf {
    std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[test]
fn shipped_policies_pass_their_tests_with_full_coverage() {
    let e = Harness::new(repo())
        .config(json!({"policy": ["policies/rego"], "mode": "test", "coverage": true}))
        .run::<Rego>()
        .unwrap();
    let mut results: Vec<(String, String)> = Vec::new();
    let mut coverage = Value::Null;
    for f in &e.findings {
        let p: Value = serde_json::from_str(f.properties.as_deref().unwrap()).unwrap();
        if f.rule_id == "coverage" {
            coverage = p;
        } else {
            results.push((p["test"].as_str().unwrap().into(), f.message.clone()));
        }
    }
    let failed: Vec<&String> = results
        .iter()
        .filter(|(_, m)| !m.starts_with("PASS"))
        .map(|(_, m)| m)
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    assert!(results.len() >= 20, "{results:#?}");
    for pkg in ["kubernetes", "terraform", "github_actions", "cargo"] {
        assert!(
            results
                .iter()
                .any(|(t, _)| t.starts_with(&format!("data.{pkg}_test."))),
            "{pkg} has tests"
        );
    }
    let percent = coverage["percent"].as_f64().unwrap();
    assert!(percent >= 90.0, "coverage {percent}: {coverage:#}");
}
