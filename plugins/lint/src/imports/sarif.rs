//! SARIF 2.1.0 logs from any tool (eslint, ruff, semgrep, trivy…), read
//! through serde-sarif's types, the ones the host writes its SARIF with.
//!
//! Each run's results become `<tool>/<ruleId>` findings, where `<tool>` is
//! the run's `tool.driver.name` in lowercase. Rule metadata (descriptions,
//! help, default level, tags, security-severity) is carried over from the
//! driver's `rules`. A result's level is its own `level`, else the rule's
//! `defaultConfiguration.level`, else `warning` (SARIF's default); `none`
//! maps to note. Results the tool itself marks suppressed (a `suppressions`
//! entry that is not `rejected`) are not findings, and their count is logged.
//!
//! A log that is not SARIF 2.1.0 fails closed, naming the report: broken
//! JSON with `path:line:col`, another `version` as such, and a log that
//! breaks the schema with serde's message and its `path:line:col`. Where a
//! real log may still deviate from serde-sarif's types:
//!
//! - `"runs": null` is valid SARIF (§3.13.4) for a log whose tool never ran
//!   (the engineering system failed before it could). There is nothing to
//!   import from it, and a gate must not pass on a scan that did not
//!   happen, so it is an error saying so rather than zero findings.
//! - A run whose `results` is absent or null, or whose invocations say the
//!   tool failed (`executionSuccessful: false`, or a tool execution or
//!   configuration notification at level `error`: the spec's own test of
//!   whether a run succeeded), is an error naming the run and quoting the
//!   tool's message. `"results": []` is a scan that ran and found nothing.
//! - A result `level` that is not one of SARIF's four lowercase words
//!   (`"Warning"`, `"ERROR"`, regal's `"notice"`) is an error naming the
//!   value and its place. Guessing what a tool meant would let a typo decide
//!   the gate, and GitHub code scanning rejects such a log too, so tools fix
//!   it. (A rule's `defaultConfiguration.level` is only a fallback and stays
//!   lenient: a word it does not know means `warning`.)

use std::collections::BTreeMap;

use portcullis_sdk::{Context, Level, Location, LogLevel, Region, Report, Rule, log};
use serde_json::Value;
use serde_sarif::sarif::{
    ArtifactLocation, Location as SarifLocation, Notification, ReportingDescriptor,
    Result as SarifResult, ResultLevel, Run, Sarif,
};

use super::{Sink, slug};

pub fn import(ctx: &Context, report: &Report, sink: &mut Sink) -> Result<(), String> {
    let bad = |what: &str| format!("{}: not a SARIF 2.1.0 log: {what}", report.path);
    let sarif = parse(report)?;
    let mut suppressed = 0usize;
    for (ri, run) in sarif.runs.iter().enumerate() {
        let driver = &run.tool.driver;
        let tool_name = driver.name.as_str();
        let tool = slug(tool_name);
        let rules: &[ReportingDescriptor] = driver.rules.as_deref().unwrap_or_default();
        let base_ids = run.original_uri_base_ids.as_ref();
        if let Some(why) = failed(run) {
            return Err(bad(&format!("runs[{ri}] ({tool_name}) {why}")));
        }
        let Some(results) = run.results.as_deref() else {
            return Err(bad(&format!(
                "runs[{ri}] ({tool_name}) has no `results`: the tool did not produce results, so there is nothing to check"
            )));
        };
        for (i, result) in results.iter().enumerate() {
            let at = format!("runs[{ri}].results[{i}]");
            if is_suppressed(result) {
                suppressed += 1;
                continue;
            }
            let reference_id = result.rule.as_ref().and_then(|r| r.id.as_deref());
            let rule_meta = result
                .rule_index
                .and_then(|i| usize::try_from(i).ok())
                .and_then(|i| rules.get(i))
                .or_else(|| {
                    let id = result.rule_id.as_deref().or(reference_id)?;
                    rules.iter().find(|r| r.id == id)
                });
            let rule_id = result
                .rule_id
                .as_deref()
                .or(reference_id)
                .or_else(|| rule_meta.map(|r| r.id.as_str()))
                .ok_or_else(|| bad(&format!("{at} has no ruleId")))?;
            let id = format!("{tool}/{}", slug(rule_id));
            let default_level = rule_meta
                .and_then(|r| r.default_configuration.as_ref())
                .and_then(|c| c.level.as_ref())
                .and_then(Value::as_str)
                .and_then(Level::parse)
                .unwrap_or(Level::Warning);
            let rule = sink.rule(&id, || {
                rule_from(&id, rule_id, tool_name, rule_meta, default_level)
            });
            let level = match &result.level {
                Some(ResultLevel::Error) => Level::Error,
                Some(ResultLevel::Warning) => Level::Warning,
                Some(ResultLevel::Note | ResultLevel::None) => Level::Note,
                None => default_level,
            };
            let message = message(result, rule_meta)
                .ok_or_else(|| bad(&format!("{at} has no message text")))?;
            let mut finding = rule.finding(message);
            let mut originals = Vec::new();
            for loc in result.locations.iter().flatten() {
                match location(ctx, sink, loc, base_ids) {
                    Ok(l) => finding = finding.location(l),
                    Err(Some(original)) => originals.push(original),
                    Err(None) => {}
                }
            }
            let mut finding = sink.locate(finding, &report.path, originals);
            if let Some(fp) = result.partial_fingerprints.as_ref().and_then(|m| {
                let mut v: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
                v.sort();
                (!v.is_empty()).then(|| v.join(";"))
            }) {
                finding = finding.fingerprint(format!("{tool}:{fp}"));
            }
            sink.push(finding, level);
        }
    }
    if suppressed > 0 {
        log(
            LogLevel::Info,
            &format!(
                "{}: {suppressed} results suppressed by the tool itself were not imported",
                report.path
            ),
        );
    }
    Ok(())
}

/// The report's log, or why it is not a SARIF 2.1.0 log.
fn parse(report: &Report) -> Result<Sarif, String> {
    let bad = |what: &str| format!("{}: not a SARIF 2.1.0 log: {what}", report.path);
    let wrong_version = || bad("`version` is not \"2.1.0\"");
    let typed = match serde_json::from_str::<Sarif>(&report.content) {
        Ok(sarif) if sarif.version.as_str() == Some("2.1.0") => return Ok(sarif),
        Ok(_) => return Err(wrong_version()),
        Err(e) => e,
    };
    // The typed read stops at the first thing it cannot take, which may come
    // before broken JSON further on or be a symptom of another version: read
    // the text once more as plain JSON to say the most useful thing first.
    let value: Value = serde_json::from_str(&report.content)
        .map_err(|e| format!("{}:{}:{}: not JSON: {e}", report.path, e.line(), e.column()))?;
    if value.get("version").and_then(Value::as_str) != Some("2.1.0") {
        return Err(wrong_version());
    }
    if value.get("runs").is_some_and(Value::is_null) {
        return Err(bad(
            "`runs` is null: the tool that wrote it did not run, so there are no results to check",
        ));
    }
    Err(format!(
        "{}:{}:{}: not a SARIF 2.1.0 log: {}",
        report.path,
        typed.line(),
        typed.column(),
        without_position(&typed)
    ))
}

/// serde's message without the ` at line L column C` it ends with.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&position) {
        Some(message) => message.to_string(),
        None => text,
    }
}

/// Why the run says its tool did not complete, by SARIF's own test (the
/// spec's appendix on deciding whether a run succeeded): an invocation with
/// `executionSuccessful: false`, or a tool execution or configuration
/// notification at level `error`. The first error notification's message is
/// quoted, since it is what the tool had to say about the failure.
fn failed(run: &Run) -> Option<String> {
    for (i, inv) in run.invocations.iter().flatten().enumerate() {
        let notices = || {
            let execution = inv.tool_execution_notifications.iter().flatten();
            execution.chain(inv.tool_configuration_notifications.iter().flatten())
        };
        let is_error =
            |n: &&Notification| n.level.as_ref().and_then(Value::as_str) == Some("error");
        let first_error = notices().find(is_error).map(|n| {
            let m = &n.message;
            m.text
                .clone()
                .or_else(|| m.markdown.clone())
                .unwrap_or_default()
        });
        let said = first_error
            .as_deref()
            .map(|m| format!(": \"{}\"", clip(m)))
            .unwrap_or_default();
        if !inv.execution_successful {
            return Some(format!(
                "did not complete: invocations[{i}].executionSuccessful is false{said}"
            ));
        }
        if first_error.is_some() {
            return Some(format!(
                "reports an error in invocations[{i}], so its results may be incomplete{said}"
            ));
        }
    }
    None
}

/// At most 200 characters of `text` on one line.
fn clip(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(200) {
        Some((at, _)) => format!("{}…", &one_line[..at]),
        None => one_line,
    }
}

fn is_suppressed(result: &SarifResult) -> bool {
    result
        .suppressions
        .iter()
        .flatten()
        .any(|s| s.status.as_ref().and_then(Value::as_str) != Some("rejected"))
}

/// The result's message: its text, else its Markdown, else the rule's
/// message string its `id` names.
fn message(result: &SarifResult, rule: Option<&ReportingDescriptor>) -> Option<String> {
    let m = &result.message;
    m.text.clone().or_else(|| m.markdown.clone()).or_else(|| {
        let id = m.id.as_deref()?;
        Some(rule?.message_strings.as_ref()?.get(id)?.text.clone())
    })
}

/// The location in the repository; `Err` with the location's URI when it
/// names a place outside it (or one no checkout root maps), `Err(None)`
/// when it names no artifact at all.
fn location(
    ctx: &Context,
    sink: &Sink,
    loc: &SarifLocation,
    base_ids: Option<&BTreeMap<String, ArtifactLocation>>,
) -> Result<Location, Option<String>> {
    let phys = loc.physical_location.as_ref().ok_or(None)?;
    let artifact = phys.artifact_location.as_ref().ok_or(None)?;
    let uri = percent_decode(artifact.uri.as_deref().ok_or(None)?);
    // Resolve a uriBaseId that names an absolute base (e.g. %SRCROOT%).
    let base_uri = artifact
        .uri_base_id
        .as_ref()
        .and_then(|base| base_ids?.get(base)?.uri.as_deref());
    let full = match base_uri {
        Some(base_uri) => format!("{}/{}", percent_decode(base_uri).trim_end_matches('/'), uri),
        None => uri,
    };
    let path = sink.place(ctx, &full).ok_or_else(|| Some(full.clone()))?;
    let region = phys.region.as_ref().and_then(|r| {
        let n = |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok());
        Some(Region {
            start_line: n(r.start_line)?,
            start_column: n(r.start_column),
            end_line: n(r.end_line),
            end_column: n(r.end_column),
        })
    });
    Ok(Location { path, region })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(hi), Some(lo)) = (hex_digit(bytes[i + 1]), hex_digit(bytes[i + 2]))
        {
            out.push(hi << 4 | lo);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn rule_from(
    id: &str,
    rule_id: &str,
    tool: &str,
    meta: Option<&ReportingDescriptor>,
    level: Level,
) -> Rule {
    let short = meta
        .and_then(|m| m.short_description.as_ref())
        .map(|d| d.text.clone())
        .unwrap_or_else(|| format!("`{rule_id}` reported by {tool}."));
    let full = meta
        .and_then(|m| m.full_description.as_ref())
        .map(|d| d.text.clone())
        .unwrap_or_else(|| short.clone());
    let mut help = meta
        .and_then(|m| m.help.as_ref())
        .map(|h| h.markdown.clone().unwrap_or_else(|| h.text.clone()))
        .unwrap_or_else(|| full.clone());
    if let Some(uri) = meta.and_then(|m| m.help_uri.as_deref()) {
        help.push_str(&format!("\n\n[{rule_id}]({uri})"));
    }
    let name = meta.and_then(|m| m.name.as_deref()).unwrap_or(rule_id);
    let mut rule = Rule::new(id, name, level, &short).full(&full).help(&help);
    let properties = meta.and_then(|m| m.properties.as_ref());
    let mut tags = vec!["imported".to_string(), slug(tool)];
    tags.extend(properties.and_then(|p| p.tags.clone()).unwrap_or_default());
    rule.tags = tags;
    // GitHub's security-severity: a string holding a number, by its docs;
    // some tools write the number itself.
    rule.security_severity = properties
        .and_then(|p| p.additional_properties.get("security-severity"))
        .and_then(|v| {
            v.as_str()
                .and_then(|s| s.parse().ok())
                .or(v.as_f64().map(|f| f as f32))
        });
    rule
}
