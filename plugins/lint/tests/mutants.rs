//! Mutation test of the lint plugin's report imports: thousands of mutants
//! of real clippy and SARIF output, each imported through the native
//! harness. Every one is imported or refused with one line naming the
//! report (and, for broken JSON, its line); none panics or hangs.

use portcullis_plugin_lint::Lint;
use portcullis_sdk::ReportFormat;
use portcullis_sdk::testing::Harness;
use portcullis_sdk::testing::mutants::{Mutants, json_place};

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
    Harness::new(dir.path()).report("r", format, "r").run::<Lint>()
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
    let words = ["\"reason\"", "\"compiler-message\"", "\"build-finished\"", "\"success\"", "\"level\"", "\"spans\""];
    Mutants::with_words("clippy-json", &seeds, 3_000, &words).check(
        |text| import(&dir, ReportFormat::ClippyJson, text),
        |text, message| {
            starts_with_report(message)?;
            // A line that is not JSON is named by its number.
            let bad_line = text
                .lines()
                .position(|l| !l.trim().is_empty() && json_place(l.trim()).is_some());
            match bad_line {
                Some(n) if message.starts_with(&format!("r:{}: not a clippy", n + 1)) => Ok(()),
                Some(n) if !message.contains("not a clippy") => {
                    // An earlier line may fail first for another reason.
                    let first = message[2..].split(':').next().unwrap_or("");
                    match first.parse::<usize>() {
                        Ok(l) if l <= n + 1 => Ok(()),
                        _ => Err(format!("line {} is not JSON, but the message names another", n + 1)),
                    }
                }
                Some(n) => Err(format!("line {} is not JSON, but the message names another", n + 1)),
                None => Ok(()),
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
        "\"runs\"", "\"results\"", "\"level\"", "\"ruleId\"", "\"ruleIndex\"", "\"locations\"",
        "\"executionSuccessful\"", "\"suppressions\"", "\"version\"", "\"2.1.0\"", "\"uri\"",
        "\"startLine\"", "\"error\"", "\"none\"",
    ];
    Mutants::with_words("sarif", &seeds, 3_000, &words).check(
        |text| import(&dir, ReportFormat::Sarif, text),
        |text, message| {
            starts_with_report(message)?;
            match json_place(text) {
                Some((line, col)) if !message.starts_with(&format!("r:{line}:{col}: not JSON")) => {
                    Err(format!("broken JSON at {line}:{col} not named so"))
                }
                _ => Ok(()),
            }
        },
    );
}
