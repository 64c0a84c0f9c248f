//! The SARIF import run natively through the SDK harness: real logs from the
//! repository's fixtures (ruff's output, and portcullis's own golden SARIF),
//! small hand-written logs for the spec's corners, and the decisions on logs
//! that are not SARIF 2.1.0.

use portcullis_plugin_lint::Lint;
use portcullis_sdk::testing::{Harness, found, take_logs};
use portcullis_sdk::{Evaluation, Level, ReportFormat, Rule};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures");

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A repository holding `files`; `@@ROOT@@` in a file's content becomes the
/// repository's absolute path (fixtures recorded with `file://` URIs).
fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().to_string_lossy().into_owned();
    let owned: Vec<(&str, String)> = files
        .iter()
        .map(|(p, c)| (*p, c.replace("@@ROOT@@", &root)))
        .collect();
    let borrowed: Vec<(&str, &[u8])> = owned.iter().map(|(p, c)| (*p, c.as_bytes())).collect();
    portcullis_sdk::testing::write_tree(dir.path(), &borrowed);
    dir
}

/// The lint plugin run with `path` as a `format = "sarif"` report.
fn import(dir: &tempfile::TempDir, path: &str) -> Result<Evaluation, String> {
    Harness::new(dir.path())
        .report("r", ReportFormat::Sarif, path)
        .run::<Lint>()
}

/// The plugin's error for a report holding `log`.
fn import_err(log: &str) -> String {
    let dir = repo(&[("r.sarif", log)]);
    import(&dir, "r.sarif").expect_err("not importable")
}

fn f(rule: &str, path: &str, line: u32) -> (String, String, u32) {
    (rule.into(), path.into(), line)
}

fn rule<'a>(eval: &'a Evaluation, id: &str) -> &'a Rule {
    eval.rules
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("rule {id}"))
}

/// (rule, level, message) of every finding, in the order pushed.
fn levels(eval: &Evaluation) -> Vec<(String, Option<Level>, String)> {
    eval.findings
        .iter()
        .map(|f| (f.rule_id.clone(), f.level, f.message.clone()))
        .collect()
}

/// Real output of `ruff check --output-format sarif` (ruff 0.17.6).
fn ruff_repo(sarif: &str) -> tempfile::TempDir {
    repo(&[
        ("app.py", &fixture("reports/py/app.py")),
        ("reports/ruff.sarif", sarif),
    ])
}

#[test]
fn ruff_results_become_findings_with_the_rules_metadata() {
    let dir = ruff_repo(&fixture("reports/py/ruff.sarif"));
    let eval = import(&dir, "reports/ruff.sarif").expect("imports");
    assert_eq!(
        found(&eval),
        vec![f("ruff/e711", "app.py", 7), f("ruff/f401", "app.py", 1)],
        "absolute file:// URIs become repository-relative"
    );
    assert!(eval.findings.iter().all(|f| f.level == Some(Level::Error)));
    let e711 = eval
        .findings
        .iter()
        .find(|f| f.rule_id == "ruff/e711")
        .expect("E711");
    assert_eq!(
        e711.message,
        "Comparison to `None` should be `cond is None`"
    );
    let region = e711.locations[0].region.as_ref().expect("region");
    assert_eq!(
        (
            region.start_line,
            region.start_column,
            region.end_line,
            region.end_column
        ),
        (7, Some(13), Some(7), Some(17))
    );
    assert_eq!(e711.fingerprint, None, "ruff writes no partialFingerprints");
    let ids: Vec<&str> = eval.rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["ruff/e711", "ruff/f401"]);
    let r = rule(&eval, "ruff/e711");
    assert_eq!(r.name, "E711", "ruff names its rules in `properties` only");
    assert_eq!(r.default_level, Level::Error);
    assert_eq!(
        r.short_description,
        "Comparison to `None` should be `cond is None`"
    );
    assert!(
        r.full_description
            .starts_with("## What it does\nChecks for comparisons to `None`")
    );
    assert_eq!(
        r.help_markdown,
        "Comparison to `None` should be `cond is None`\n\n[E711](https://docs.astral.sh/ruff/rules/none-comparison)"
    );
    assert_eq!(r.tags, ["imported", "ruff"]);
    assert_eq!(r.security_severity, None);
}

/// portcullis's own SARIF (the host's golden output) read back: waived
/// results are suppressed, `SRCROOT` locations resolve, fingerprints and tags
/// carry over, and each run is its own tool.
#[test]
fn portcullis_own_sarif_is_imported_without_its_waived_results() {
    let dir = repo(&[("reports/gate.sarif", &fixture("golden/sarif.json"))]);
    take_logs();
    let eval = import(&dir, "reports/gate.sarif").expect("imports");
    assert_eq!(
        found(&eval),
        vec![
            f("lint/lint-invalid-json", "docs/old.json", 1),
            f("lint/lint-invalid-yaml", "config/app.yaml", 2),
            f("lint/lint-merge-conflict", "src/lib.rs", 2),
            f(
                "portcullis/portcullis-waiver-expiring",
                "portcullis.toml",
                12
            ),
        ]
    );
    let logs = take_logs();
    assert!(
        logs.contains(
            &"LogLevel::Info: reports/gate.sarif: 1 results suppressed by the tool itself were not imported"
                .to_string()
        ),
        "the waived large-file result is counted: {logs:?}"
    );
    let conflict = eval
        .findings
        .iter()
        .find(|f| f.rule_id == "lint/lint-merge-conflict")
        .expect("conflict");
    assert_eq!(conflict.level, Some(Level::Error));
    assert_eq!(
        conflict.fingerprint.as_deref(),
        Some("lint:portcullis/v1=07b7266df1cd351b5fbb7570d79120a9")
    );
    let yaml = eval
        .findings
        .iter()
        .find(|f| f.rule_id == "lint/lint-invalid-yaml")
        .expect("yaml");
    assert_eq!(yaml.level, Some(Level::Note), "the result's own level wins");
    let r = rule(&eval, "lint/lint-merge-conflict");
    assert_eq!(r.name, "MergeConflictMarker");
    assert_eq!(r.default_level, Level::Error);
    assert_eq!(r.tags, ["imported", "lint", "hygiene"]);
    assert!(
        r.help_markdown.starts_with("## What it checks\n")
            && r.help_markdown
                .contains("## How to fix\nResolve the conflict and remove the markers."),
        "the rule's help (its declaration's doc comment) is carried over: {}",
        r.help_markdown
    );
    assert!(
        eval.rules.iter().all(|r| r.id != "lint/lint-large-file"),
        "a rule whose only result is suppressed is not listed"
    );
}

/// Hand-written (not tool output): the level fallbacks, rule lookup by
/// index, by id and by reference, message strings, security-severity as a
/// string and as a number, suppression statuses, uriBaseIds and
/// percent-encoded URIs, and a run that found nothing (`"results": []`).
#[test]
fn levels_rules_messages_and_locations_follow_the_spec() {
    let log = r#"{
  "version": "2.1.0",
  "runs": [
    {
      "tool": {"driver": {"name": "Sec Scan", "rules": [
        {"id": "S1", "name": "Injection", "defaultConfiguration": {"level": "error"},
         "shortDescription": {"text": "Injection."},
         "help": {"text": "Escape it.", "markdown": "**Escape** it."},
         "helpUri": "https://example.com/S1",
         "properties": {"tags": ["security", "external/cwe/cwe-89"], "security-severity": "8.8"},
         "messageStrings": {"default": {"text": "Tainted query."}}},
        {"id": "S2", "properties": {"security-severity": 4.5}},
        {"id": "S3", "defaultConfiguration": {"level": "none"}}
      ]}},
      "originalUriBaseIds": {"SRC": {"uri": "file://@@ROOT@@/"}},
      "results": [
        {"ruleId": "S1", "ruleIndex": 0, "message": {"id": "default"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/a%20b.py", "uriBaseId": "SRC"},
                                             "region": {"startLine": 3, "startColumn": 2}}}],
         "partialFingerprints": {"b": "2", "a": "1"}},
        {"ruleIndex": 1, "level": "none", "message": {"markdown": "Weak *hash*."},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "lib/c.py"}}}]},
        {"rule": {"id": "S3"}, "message": {"text": "Default none is a note."}},
        {"ruleId": "S2", "ruleIndex": -1, "level": "warning", "message": {"text": "By id."},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "/elsewhere/x.py"}}}]},
        {"ruleId": "S9", "message": {"text": "Unknown rule: warning."}},
        {"ruleId": "S1", "message": {"text": "Rejected suppression: still a finding."},
         "suppressions": [{"kind": "inSource", "status": "rejected"}]},
        {"ruleId": "S1", "message": {"text": "Under review: suppressed."},
         "suppressions": [{"kind": "inSource", "status": "underReview"}]},
        {"ruleId": "S1", "message": {"text": "No status: suppressed."},
         "suppressions": [{"kind": "external"}]}
      ]
    },
    {"tool": {"driver": {"name": "found-nothing"}}, "results": []}
  ]
}"#;
    let dir = repo(&[("r.sarif", log)]);
    take_logs();
    let eval = import(&dir, "r.sarif").expect("imports");
    let s = |id: &str, level: Level, msg: &str| (id.to_string(), Some(level), msg.to_string());
    assert_eq!(
        levels(&eval),
        vec![
            s("sec-scan/s1", Level::Error, "Tainted query."),
            s("sec-scan/s2", Level::Note, "Weak *hash*."),
            s("sec-scan/s3", Level::Note, "Default none is a note."),
            s("sec-scan/s2", Level::Warning, "By id."),
            s("sec-scan/s9", Level::Warning, "Unknown rule: warning."),
            s(
                "sec-scan/s1",
                Level::Error,
                "Rejected suppression: still a finding."
            ),
        ]
    );
    assert!(
        take_logs().contains(
            &"LogLevel::Info: r.sarif: 2 results suppressed by the tool itself were not imported"
                .to_string()
        )
    );
    let first = &eval.findings[0];
    assert_eq!(first.locations[0].path, "src/a b.py");
    assert_eq!(first.fingerprint.as_deref(), Some("sec-scan:a=1;b=2"));
    assert_eq!(eval.findings[1].locations[0].path, "lib/c.py");
    assert_eq!(
        eval.findings[3].locations[0].path, "r.sarif",
        "a location outside the repository falls back to the report"
    );
    let s1 = rule(&eval, "sec-scan/s1");
    assert_eq!(s1.name, "Injection");
    assert_eq!(s1.default_level, Level::Error);
    assert_eq!(
        s1.help_markdown,
        "**Escape** it.\n\n[S1](https://example.com/S1)"
    );
    assert_eq!(
        s1.tags,
        ["imported", "sec-scan", "security", "external/cwe/cwe-89"]
    );
    assert_eq!(s1.security_severity, Some(8.8));
    let s2 = rule(&eval, "sec-scan/s2");
    assert_eq!(s2.security_severity, Some(4.5));
    assert_eq!(s2.short_description, "`S2` reported by Sec Scan.");
    assert_eq!(s2.default_level, Level::Warning);
    assert_eq!(rule(&eval, "sec-scan/s3").default_level, Level::Note);
    assert_eq!(rule(&eval, "sec-scan/s9").default_level, Level::Warning);
}

#[test]
fn broken_json_and_other_versions_fail_closed() {
    assert!(
        import_err("{\n  \"version\": \"2.1.0\",\n  \"runs\": [}\n")
            .starts_with("r.sarif:3:12: not JSON: "),
        "{}",
        import_err("{\n  \"version\": \"2.1.0\",\n  \"runs\": [}\n")
    );
    assert_eq!(
        import_err(r#"{"version": "2.0.0", "runs": []}"#),
        "r.sarif: not a SARIF 2.1.0 log: `version` is not \"2.1.0\""
    );
    assert_eq!(
        import_err("[]"),
        "r.sarif: not a SARIF 2.1.0 log: `version` is not \"2.1.0\""
    );
}

#[test]
fn a_log_that_breaks_the_schema_fails_closed_with_its_place() {
    // Hand-written: a result without its required `message`.
    let log = "{\"version\": \"2.1.0\", \"runs\": [{\n  \"tool\": {\"driver\": {\"name\": \"t\"}},\n  \"results\": [{\"ruleId\": \"R\"}]\n}]}";
    assert_eq!(
        import_err(log),
        "r.sarif:3:29: not a SARIF 2.1.0 log: missing field `message`"
    );
    assert_eq!(
        import_err(r#"{"version": "2.1.0"}"#),
        "r.sarif:1:20: not a SARIF 2.1.0 log: missing field `runs`"
    );
}

/// Decision: `"runs": null` is valid SARIF for a log whose tool never ran;
/// the gate does not pass on a scan that did not happen.
#[test]
fn runs_null_fails_closed_saying_the_tool_did_not_run() {
    assert_eq!(
        import_err(r#"{"version": "2.1.0", "runs": null}"#),
        "r.sarif: not a SARIF 2.1.0 log: `runs` is null: the tool that wrote it did not run, so there are no results to check"
    );
    // An empty list is a scan that ran and found nothing.
    let dir = repo(&[("r.sarif", r#"{"version": "2.1.0", "runs": []}"#)]);
    assert_eq!(found(&import(&dir, "r.sarif").expect("imports")), vec![]);
}

/// Decision: a result level in another case, or a word SARIF does not have,
/// fails closed naming the value and its place (ruff's real log, with one
/// level edited).
#[test]
fn a_result_level_sarif_does_not_have_fails_closed() {
    let ruff = fixture("reports/py/ruff.sarif");
    let at = ruff.find("\"level\": \"error\"").expect("a result level");
    let line = ruff[..at].lines().count();
    let column = ruff[..at].rsplit('\n').next().map_or(0, str::len) + "\"level\": \"error\"".len();
    for word in ["Error", "ERROR", "notice"] {
        let edited = ruff.replacen("\"level\": \"error\"", &format!("\"level\": \"{word}\""), 1);
        let dir = ruff_repo(&edited);
        let err = import(&dir, "reports/ruff.sarif").expect_err(word);
        let column = column + word.len() - "error".len();
        assert_eq!(
            err,
            format!(
                "reports/ruff.sarif:{line}:{column}: not a SARIF 2.1.0 log: unknown variant `{word}`, expected one of `none`, `note`, `warning`, `error`"
            )
        );
    }
}

/// ruff's real log with its run edited by `edit` (a JSON value).
fn ruff_edited(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut log: serde_json::Value =
        serde_json::from_str(&fixture("reports/py/ruff.sarif")).expect("ruff.sarif");
    edit(&mut log["runs"][0]);
    serde_json::to_string_pretty(&log).expect("json")
}

fn ruff_err(log: &str) -> String {
    let dir = ruff_repo(log);
    import(&dir, "reports/ruff.sarif").expect_err("not a clean result")
}

/// SARIF's own test of whether a run succeeded: `results` present, every
/// invocation `executionSuccessful`, no error notification. Before, each of
/// these imported as zero findings (or as the results it did hold), a pass.
#[test]
fn a_run_that_says_its_tool_failed_is_not_a_clean_result() {
    let p = "reports/ruff.sarif: not a SARIF 2.1.0 log: runs[0] (ruff)";
    for results in [serde_json::Value::Null, serde_json::json!("absent")] {
        let log = ruff_edited(|run| match results.is_null() {
            true => run["results"] = serde_json::Value::Null,
            false => drop(run.as_object_mut().expect("a run object").remove("results")),
        });
        assert_eq!(
            ruff_err(&log),
            format!(
                "{p} has no `results`: the tool did not produce results, so there is nothing to check"
            )
        );
    }
    let failed = ruff_edited(|run| {
        run["results"] = serde_json::json!([]);
        run["invocations"] = serde_json::json!([{
            "executionSuccessful": false,
            "exitCode": 2,
            "toolExecutionNotifications": [
                {"level": "warning", "message": {"text": "slow"}},
                {"level": "error", "message": {"text": "app.py:1:1: SyntaxError:\n  unexpected token"}}
            ]
        }]);
    });
    assert_eq!(
        ruff_err(&failed),
        format!(
            "{p} did not complete: invocations[0].executionSuccessful is false: \"app.py:1:1: SyntaxError: unexpected token\""
        )
    );
    let config_error = ruff_edited(|run| {
        run["invocations"] = serde_json::json!([{
            "executionSuccessful": true,
            "toolConfigurationNotifications": [
                {"level": "error", "message": {"text": "unknown rule selector `E9999`"}}
            ]
        }]);
    });
    assert_eq!(
        ruff_err(&config_error),
        format!(
            "{p} reports an error in invocations[0], so its results may be incomplete: \"unknown rule selector `E9999`\""
        )
    );
    // A successful invocation with warnings only is a run that completed.
    let fine = ruff_edited(|run| {
        run["invocations"] = serde_json::json!([{
            "executionSuccessful": true,
            "toolExecutionNotifications": [{"level": "warning", "message": {"text": "slow"}}]
        }]);
    });
    let dir = ruff_repo(&fine);
    assert!(!found(&import(&dir, "reports/ruff.sarif").expect("imports")).is_empty());
}

/// ruff's real log as written in another checkout of the repository (a
/// container's `/src/demo`): its `file://` URIs name that root.
fn ruff_from_elsewhere() -> tempfile::TempDir {
    repo(&[
        ("app.py", &fixture("reports/py/app.py")),
        (
            "reports/ruff.sarif",
            &fixture("reports/py/ruff.sarif").replace("@@ROOT@@", "/src/demo"),
        ),
    ])
}

#[test]
fn places_outside_the_repository_are_kept_and_said_never_moved_silently() {
    let dir = ruff_from_elsewhere();
    take_logs();
    let eval = import(&dir, "reports/ruff.sarif").expect("imports");
    assert!(!eval.findings.is_empty());
    for finding in &eval.findings {
        assert_eq!(finding.locations.len(), 1);
        assert_eq!(finding.locations[0].path, "reports/ruff.sarif");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(
                finding.properties.as_deref().expect("properties")
            )
            .expect("json")["original-uris"],
            serde_json::json!(["file:///src/demo/app.py"]),
            "the original place is kept"
        );
    }
    let logs = take_logs();
    let notice = logs
        .iter()
        .find(|l| l.contains("outside the repository"))
        .unwrap_or_else(|| panic!("no notice: {logs:?}"));
    assert!(
        notice.contains(&format!("{} findings", eval.findings.len()))
            && notice.contains("`file:///src/demo/app.py`")
            && notice.contains("checkout-roots"),
        "{notice}"
    );
}

/// (rule, path, line) of each finding.
type Places = Vec<(String, String, u32)>;

/// ruff's log in `dir` imported with `checkout-roots = [root]`, and the
/// same log as written in the repository itself: their findings' places.
fn mapped_and_here(dir: &tempfile::TempDir, root: &str) -> (Places, Places) {
    let eval = Harness::new(dir.path())
        .config(serde_json::json!({ "checkout-roots": [root] }))
        .report("r", ReportFormat::Sarif, "reports/ruff.sarif")
        .run::<Lint>()
        .expect("imports");
    assert!(eval.findings.iter().all(|f| f.properties.is_none()));
    let here = import(
        &ruff_repo(&fixture("reports/py/ruff.sarif")),
        "reports/ruff.sarif",
    )
    .expect("imports");
    (found(&eval), found(&here))
}

#[test]
fn a_checkout_root_maps_another_checkouts_paths_to_the_repository() {
    let dir = ruff_from_elsewhere();
    let (mapped, here) = mapped_and_here(&dir, "/src/demo/");
    assert_eq!(mapped, here, "the same places as a log written here");
    let err = Harness::new(dir.path())
        .config(serde_json::json!({"checkout-roots": ["src/demo"]}))
        .run::<Lint>()
        .expect_err("relative root");
    assert_eq!(
        err,
        "config: checkout-roots: `src/demo` is not an absolute path"
    );
}

#[test]
fn a_log_written_on_windows_maps_with_its_checkout_root() {
    // ruff's log as a Windows runner writes it: `file:///C:/a/demo/app.py`.
    let dir = repo(&[
        ("app.py", &fixture("reports/py/app.py")),
        (
            "reports/ruff.sarif",
            &fixture("reports/py/ruff.sarif").replace("@@ROOT@@", "/C:/a/demo"),
        ),
    ]);
    let unmapped = import(&dir, "reports/ruff.sarif").expect("imports");
    assert!(
        unmapped
            .findings
            .iter()
            .all(|f| f.locations[0].path == "reports/ruff.sarif"),
        "a Windows path is never taken for a relative one"
    );
    let (mapped, here) = mapped_and_here(&dir, "C:\\a\\demo");
    assert_eq!(mapped, here);
    let err = Harness::new(dir.path())
        .config(serde_json::json!({"checkout-roots": ["/"]}))
        .run::<Lint>()
        .expect_err("the root");
    assert!(err.contains("is the file system's root"), "{err}");
}
