//! SARIF 2.1.0 logs from any tool (eslint, ruff, semgrep, trivy…).
//!
//! Each run's results become `<tool>/<ruleId>` findings, where `<tool>` is
//! the run's `tool.driver.name` in lowercase. Rule metadata (descriptions,
//! help, default level, tags, security-severity) is carried over from the
//! driver's `rules`. A result's level is its own `level`, else the rule's
//! `defaultConfiguration.level`, else `warning` (SARIF's default); `none`
//! maps to note. Results the tool itself marks suppressed (a `suppressions`
//! entry that is not `rejected`) are not findings, and their count is logged.

use portcullis_sdk::{Context, Finding, Level, Location, LogLevel, Region, Report, Rule, log};
use serde_json::Value;

use super::{Sink, slug};

pub fn import(ctx: &Context, report: &Report, sink: &mut Sink) -> Result<(), String> {
    let log_value: Value = serde_json::from_str(&report.content)
        .map_err(|e| format!("{}:{}:{}: not JSON: {e}", report.path, e.line(), e.column()))?;
    let bad = |what: &str| format!("{}: not a SARIF 2.1.0 log: {what}", report.path);
    if log_value.get("version").and_then(Value::as_str) != Some("2.1.0") {
        return Err(bad("`version` is not \"2.1.0\""));
    }
    let runs = log_value
        .get("runs")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("no `runs` array"))?;
    let mut suppressed = 0usize;
    for (ri, run) in runs.iter().enumerate() {
        let driver = run
            .pointer("/tool/driver")
            .ok_or_else(|| bad(&format!("runs[{ri}] has no tool.driver")))?;
        let tool_name = driver
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(&format!("runs[{ri}].tool.driver has no name")))?;
        let tool = slug(tool_name);
        let rules: Vec<&Value> = driver
            .get("rules")
            .and_then(Value::as_array)
            .map(|r| r.iter().collect())
            .unwrap_or_default();
        let base_ids = run.get("originalUriBaseIds");
        let Some(results) = run.get("results").and_then(Value::as_array) else {
            continue;
        };
        for (i, result) in results.iter().enumerate() {
            let at = format!("runs[{ri}].results[{i}]");
            if is_suppressed(result) {
                suppressed += 1;
                continue;
            }
            let rule_index = result
                .get("ruleIndex")
                .and_then(Value::as_u64)
                .map(|i| i as usize);
            let rule_meta = rule_index.and_then(|i| rules.get(i).copied()).or_else(|| {
                let id = result.get("ruleId").and_then(Value::as_str)?;
                rules
                    .iter()
                    .copied()
                    .find(|r| r.get("id").and_then(Value::as_str) == Some(id))
            });
            let rule_id = result
                .get("ruleId")
                .and_then(Value::as_str)
                .or_else(|| result.pointer("/rule/id").and_then(Value::as_str))
                .or_else(|| rule_meta.and_then(|r| r.get("id")).and_then(Value::as_str))
                .ok_or_else(|| bad(&format!("{at} has no ruleId")))?;
            let id = format!("{tool}/{}", slug(rule_id));
            let default_level = rule_meta
                .and_then(|r| r.pointer("/defaultConfiguration/level"))
                .and_then(Value::as_str)
                .and_then(Level::parse)
                .unwrap_or(Level::Warning);
            if !sink.has_rule(&id) {
                sink.rule(rule_from(&id, rule_id, tool_name, rule_meta, default_level));
            }
            let level = match result.get("level").and_then(Value::as_str) {
                Some(word) => Level::parse(word)
                    .ok_or_else(|| bad(&format!("{at}.level `{word}` is not a SARIF level")))?,
                None => default_level,
            };
            let message = result
                .pointer("/message/text")
                .or_else(|| result.pointer("/message/markdown"))
                .and_then(Value::as_str)
                .map(str::to_string)
                .or_else(|| {
                    let mid = result.pointer("/message/id").and_then(Value::as_str)?;
                    rule_meta?
                        .pointer(&format!("/messageStrings/{mid}/text"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .ok_or_else(|| bad(&format!("{at} has no message text")))?;
            let mut finding = Finding::new(&id, message);
            if let Some(locs) = result.get("locations").and_then(Value::as_array) {
                for loc in locs {
                    if let Some(l) = location(ctx, loc, base_ids) {
                        finding = finding.location(l);
                    }
                }
            }
            if finding.locations.is_empty() {
                finding = finding.in_file(&report.path);
            }
            if let Some(fp) = result
                .get("partialFingerprints")
                .and_then(Value::as_object)
                .and_then(|m| {
                    let mut v: Vec<_> = m
                        .iter()
                        .filter_map(|(k, v)| Some(format!("{k}={}", v.as_str()?)))
                        .collect();
                    v.sort();
                    (!v.is_empty()).then(|| v.join(";"))
                })
            {
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

fn is_suppressed(result: &Value) -> bool {
    result
        .get("suppressions")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|s| s.get("status").and_then(Value::as_str) != Some("rejected"))
        })
}

fn location(ctx: &Context, loc: &Value, base_ids: Option<&Value>) -> Option<Location> {
    let phys = loc.get("physicalLocation")?;
    let uri = phys
        .pointer("/artifactLocation/uri")
        .and_then(Value::as_str)?;
    let uri = percent_decode(uri);
    // Resolve a uriBaseId that names an absolute base (e.g. %SRCROOT%).
    let full = match phys
        .pointer("/artifactLocation/uriBaseId")
        .and_then(Value::as_str)
    {
        Some(base) => match base_ids
            .and_then(|b| b.pointer(&format!("/{base}/uri")))
            .and_then(Value::as_str)
        {
            Some(base_uri) => format!("{}/{}", percent_decode(base_uri).trim_end_matches('/'), uri),
            None => uri,
        },
        None => uri,
    };
    let path = ctx.repo_relative(&full)?;
    let region = phys.get("region").and_then(|r| {
        let n = |k: &str| r.get(k).and_then(Value::as_u64).map(|v| v as u32);
        Some(Region {
            start_line: n("startLine")?,
            start_column: n("startColumn"),
            end_line: n("endLine"),
            end_column: n("endColumn"),
        })
    });
    Some(Location { path, region })
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

fn rule_from(id: &str, rule_id: &str, tool: &str, meta: Option<&Value>, level: Level) -> Rule {
    let text = |p: &str| meta.and_then(|m| m.pointer(p)).and_then(Value::as_str);
    let short = text("/shortDescription/text")
        .map(str::to_string)
        .unwrap_or_else(|| format!("`{rule_id}` reported by {tool}."));
    let full = text("/fullDescription/text")
        .map(str::to_string)
        .unwrap_or_else(|| short.clone());
    let mut help = text("/help/markdown")
        .or_else(|| text("/help/text"))
        .map(str::to_string)
        .unwrap_or_else(|| full.clone());
    if let Some(uri) = text("/helpUri") {
        help.push_str(&format!("\n\n[{rule_id}]({uri})"));
    }
    let name = text("/name").unwrap_or(rule_id);
    let mut rule = Rule::new(id, name, level, &short).full(&full).help(&help);
    let mut tags = vec!["imported".to_string(), slug(tool)];
    if let Some(t) = meta
        .and_then(|m| m.pointer("/properties/tags"))
        .and_then(Value::as_array)
    {
        tags.extend(t.iter().filter_map(Value::as_str).map(str::to_string));
    }
    rule.tags = tags;
    rule.security_severity = meta
        .and_then(|m| m.pointer("/properties/security-severity"))
        .and_then(|v| {
            v.as_str()
                .and_then(|s| s.parse().ok())
                .or(v.as_f64().map(|f| f as f32))
        });
    rule
}
