//! `portcullis test`'s Rego side: every `test_*` rule of the `*_test.rego`
//! modules, with OPA's semantics (a test passes when it is defined and not
//! false; `with input as …` / `with data.x as …` override per test;
//! `todo_test_*` are skipped), and which policy lines were evaluated.

use portcullis_sdk::{Evaluation, Finding, Level};
use serde_json::json;

use crate::policies::{Policies, rego_error};

pub fn run(engine: &mut regorus::Engine, p: &Policies, coverage: bool) -> Evaluation {
    let mut out = Evaluation::default();
    if coverage {
        engine.set_enable_coverage(true);
    }
    for m in p.modules.iter().filter(|m| m.is_test) {
        for (name, line) in &m.rules {
            let skipped = name.starts_with("todo_test_");
            if !name.starts_with("test_") && !skipped {
                continue;
            }
            let query = format!("data.{}.{name}", m.package);
            let (result, detail) = if skipped {
                ("skip", String::new())
            } else {
                match engine.eval_rule(query.clone()) {
                    Ok(regorus::Value::Undefined) => ("fail", "undefined".to_string()),
                    Ok(regorus::Value::Bool(false)) => ("fail", "false".to_string()),
                    Ok(_) => ("pass", String::new()),
                    Err(e) => ("error", rego_error(&e.to_string())),
                }
            };
            let level = match result {
                "pass" | "skip" => Level::Note,
                _ => Level::Error,
            };
            let message = match result {
                "pass" => format!("PASS {query}"),
                "skip" => format!("SKIP {query}"),
                "fail" => format!("FAIL {query} ({detail})"),
                _ => format!("ERROR {query}: {detail}"),
            };
            let mut finding = Finding::new("test", message).level(level);
            // Policies under a mount live outside the repository: their
            // place is in the properties only.
            if !m.path.starts_with('/') {
                finding = finding.at_line(&m.path, *line);
            }
            out.push(finding.fingerprint(query.clone()).properties(json!({
                "test": query, "package": m.package, "name": name,
                "file": m.path, "line": line, "result": result, "detail": detail,
            })));
        }
    }
    if coverage {
        let report = engine.get_coverage_report().ok();
        let mut files = Vec::new();
        let (mut covered, mut total) = (0usize, 0usize);
        for f in report.iter().flat_map(|r| r.files.iter()) {
            if f.path.ends_with("_test.rego") {
                continue;
            }
            // The engine lists lines of the rules it entered; a rule no test
            // reached at all counts with its head line.
            let mut not_covered = f.not_covered.clone();
            if let Some(m) = p.modules.iter().find(|m| m.path == f.path) {
                for (_, line) in &m.rules {
                    if !f.covered.contains(line) {
                        not_covered.insert(*line);
                    }
                }
            }
            covered += f.covered.len();
            total += f.covered.len() + not_covered.len();
            files.push(json!({
                "file": f.path,
                "covered": f.covered,
                "not_covered": not_covered,
            }));
        }
        // Policy files no test reached at all are wholly uncovered.
        for m in p.modules.iter().filter(|m| !m.is_test) {
            if !files.iter().any(|f| f["file"] == m.path.as_str()) {
                let lines: Vec<u32> = m.rules.iter().map(|(_, l)| *l).collect();
                total += lines.len();
                files.push(json!({"file": m.path, "covered": [], "not_covered": lines}));
            }
        }
        let percent = if total == 0 {
            100.0
        } else {
            covered as f64 * 100.0 / total as f64
        };
        out.push(
            Finding::new(
                "coverage",
                format!("{percent:.1}% of policy lines evaluated ({covered} of {total})"),
            )
            .level(Level::Note)
            .fingerprint("coverage")
            .properties(
                json!({"percent": percent, "covered": covered, "total": total, "files": files}),
            ),
        );
    }
    out
}
