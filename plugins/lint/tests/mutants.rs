//! Mutation test of the lint plugin's report imports: thousands of mutants
//! of real clippy and SARIF output, each imported through the native
//! harness. Every one is imported or refused with one line naming the
//! report (and, for broken JSON, its line); none panics or hangs.

use portcullis_plugin_lint::Lint;
use portcullis_sdk::ReportFormat;
use portcullis_sdk::testing::Harness;
use portcullis_sdk::testing::mutants::{Mutants, json_located};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The lint plugin importing `text` as the report `r` in format `format`.
fn import(
    dir: &tempfile::TempDir,
    format: ReportFormat,
    text: &str,
) -> Result<portcullis_sdk::Evaluation, String> {
    std::fs::write(dir.path().join("r"), text).expect("write the mutant");
    Harness::new(dir.path())
        .report("r", format, "r")
        .run::<Lint>()
}

fn starts_with_report(message: &str) -> Result<(), String> {
    if message.starts_with("r:") {
        Ok(())
    } else {
        Err("does not name the report".into())
    }
}

#[test]
fn clippy_json_mutants() {
    let dir = tempfile::tempdir().expect("tempdir");
    let seeds = [
        fixture("reports/clippy-demo/clippy-output.jsonl"),
        fixture("reports/clippy-broken/clippy-output.jsonl"),
        fixture("reports/clippy-buildrs/clippy-output.jsonl"),
    ];
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let words = [
        "\"reason\"",
        "\"compiler-message\"",
        "\"build-finished\"",
        "\"success\"",
        "\"level\"",
        "\"spans\"",
    ];
    Mutants::with_words("clippy-json", &seeds, 3_000, &words).check(
        |text| import(&dir, ReportFormat::ClippyJson, text),
        |text, message| {
            starts_with_report(message)?;
            // A line refused as not JSON is named by its number, and is
            // one that is not JSON.
            let named: Option<usize> = message[2..].split(':').next().and_then(|n| n.parse().ok());
            if !message.contains("not a clippy/rustc JSON message") {
                return Ok(());
            }
            let line = named.ok_or("names no line")?;
            match text.lines().nth(line.wrapping_sub(1)) {
                Some(l) if serde_json::from_str::<serde_json::Value>(l.trim()).is_err() => Ok(()),
                _ => Err(format!("line {line} is JSON, or not in the report")),
            }
        },
    );
}

#[test]
fn sarif_mutants() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_string_lossy().into_owned();
    let seeds = [
        fixture("reports/py/ruff.sarif").replace("@@ROOT@@", &root),
        fixture("golden/sarif.json"),
    ];
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let words = [
        "\"runs\"",
        "\"results\"",
        "\"level\"",
        "\"ruleId\"",
        "\"ruleIndex\"",
        "\"locations\"",
        "\"executionSuccessful\"",
        "\"suppressions\"",
        "\"version\"",
        "\"2.1.0\"",
        "\"uri\"",
        "\"startLine\"",
        "\"error\"",
        "\"none\"",
    ];
    Mutants::with_words("sarif", &seeds, 3_000, &words).check(
        |text| import(&dir, ReportFormat::Sarif, text),
        |text, message| {
            starts_with_report(message)?;
            json_located("r", text, message)
        },
    );
}
