//! clippy / rustc JSON diagnostics (`cargo clippy --message-format=json`).
//!
//! Each line is one JSON object. `compiler-message` lines become findings:
//! `clippy::<lint>` codes as `clippy/<lint>`, other codes as `rustc/<code>`,
//! code-less errors as `rustc/error`. Summary lines (no code, no spans:
//! "N warnings emitted") and other `reason`s (artifacts, build scripts,
//! `build-finished`) carry no diagnostic and are not findings. A line that is
//! not JSON is an error naming the report and line.
//!
//! A report that says the lint did not run to the end is an error, not a
//! clean result: cargo ends its output with `{"reason":"build-finished",
//! "success":…}`, so a report without that line was cut short (or is not
//! cargo's `--message-format=json`, as is a line without a `reason`, and
//! so was a report of several runs whose last did not end); an
//! internal compiler error means the compiler crashed part way; and
//! `"success": false` with no error diagnostic to show for it means the build
//! failed for a reason the report does not hold. A failed build that does
//! report its errors imports them as `error` findings, which fail the gate.

use portcullis_sdk::{Context, Level, Location, Region, Report, Rule};
use serde::Deserialize;

use super::{Sink, slug};

#[derive(Deserialize)]
struct Line {
    reason: Option<String>,
    message: Option<serde_json::Value>,
    success: Option<bool>,
}

#[derive(Deserialize)]
struct Diagnostic {
    message: String,
    level: String,
    code: Option<Code>,
    #[serde(default)]
    spans: Vec<Span>,
}

#[derive(Deserialize)]
struct Code {
    code: String,
}

#[derive(Deserialize)]
struct Span {
    file_name: String,
    line_start: u32,
    line_end: u32,
    column_start: u32,
    column_end: u32,
    is_primary: bool,
}

pub fn import(ctx: &Context, report: &Report, sink: &mut Sink) -> Result<(), String> {
    // The last `build-finished` line, if nothing but blank lines follows it;
    // a failed one anywhere (several runs appended to one file).
    let mut finished = None;
    let mut failed_at = None;
    let mut errors = 0usize;
    for (n, text) in report.content.lines().enumerate() {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let at = |what: &str| format!("{}:{}: {what}", report.path, n + 1);
        let line: Line = serde_json::from_str(text)
            .map_err(|e| at(&format!("not a clippy/rustc JSON message: {e}")))?;
        if line.reason.as_deref() != Some("build-finished") {
            finished = None;
        }
        match line.reason.as_deref() {
            Some("compiler-message") => {}
            Some("build-finished") => {
                let success = line
                    .success
                    .ok_or_else(|| at("`build-finished` without `success`"))?;
                finished = Some(n + 1);
                if !success && failed_at.is_none() {
                    failed_at = Some(n + 1);
                }
                continue;
            }
            Some(_) => continue,
            None => {
                return Err(at(
                    "a message without `reason`: not cargo's --message-format=json output (run `cargo clippy --message-format=json`)",
                ));
            }
        }
        let message = line
            .message
            .ok_or_else(|| at("compiler-message without `message`"))?;
        let diag = Diagnostic::deserialize(message)
            .map_err(|e| at(&format!("not a rustc diagnostic: {e}")))?;
        let level = match diag.level.as_str() {
            "error: internal compiler error" => {
                return Err(at(&format!(
                    "the compiler crashed (internal compiler error), so the lint did not finish: {}",
                    diag.message.lines().next().unwrap_or_default()
                )));
            }
            "error" => Level::Error,
            "warning" => Level::Warning,
            "note" | "help" | "failure-note" => Level::Note,
            other => {
                return Err(at(&format!("unknown diagnostic level `{other}`")));
            }
        };
        let (tool, code) = match &diag.code {
            Some(c) => match c.code.strip_prefix("clippy::") {
                Some(lint) => ("clippy", lint.to_string()),
                None => ("rustc", c.code.clone()),
            },
            None if diag.spans.is_empty() => continue, // summary line ("aborting due to…")
            None => ("rustc", "error".to_string()),
        };
        if level == Level::Error {
            errors += 1;
        }
        let id = format!("{tool}/{}", slug(&code));
        let rule = sink.rule(&id, || rule_for(tool, &code, &id));
        let mut finding = rule.finding(diag.message.clone());
        let mut spans: Vec<&Span> = diag.spans.iter().filter(|s| s.is_primary).collect();
        spans.extend(diag.spans.iter().filter(|s| !s.is_primary));
        let mut originals = Vec::new();
        for s in spans {
            let Some(path) = sink.place(ctx, &s.file_name) else {
                originals.push(s.file_name.clone());
                continue;
            };
            finding = finding.location(Location::at(
                &path,
                Region::span(s.line_start, s.column_start, s.line_end, s.column_end),
            ));
        }
        let finding = sink.locate(finding, &report.path, originals);
        sink.push(finding, level);
    }
    match (finished, failed_at) {
        (None, _) => Err(format!(
            "{}: ends without cargo's `build-finished` line: the lint did not run to the end or the report was cut short",
            report.path
        )),
        (Some(_), Some(line)) if errors == 0 => Err(format!(
            "{}:{line}: the build failed (`\"success\": false`) and the report holds no error saying why, so the lint did not finish",
            report.path
        )),
        _ => Ok(()),
    }
}

fn rule_for(tool: &str, code: &str, id: &str) -> Rule {
    let (name, help) = if tool == "clippy" {
        (
            format!("clippy::{code}"),
            format!(
                "See [clippy::{code}](https://rust-lang.github.io/rust-clippy/master/index.html#{code})."
            ),
        )
    } else if code.starts_with('E') && code[1..].chars().all(|c| c.is_ascii_digit()) {
        (
            code.to_string(),
            format!("See [{code}](https://doc.rust-lang.org/error_codes/{code}.html)."),
        )
    } else {
        (code.to_string(), format!("rustc diagnostic `{code}`."))
    };
    Rule::new(
        id,
        &name,
        Level::Warning,
        &format!("Diagnostic `{name}` reported by {tool}."),
    )
    .help(&help)
    .tags(&["imported", tool])
}
