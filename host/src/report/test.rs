//! `portcullis test`'s human output.

use crate::diag::Exit;
use crate::test_cmd::{FixtureStatus, TestReport, TestStatus};

/// Human output: failures always, passes with `verbose`, then a summary;
/// plugin text in it neutralised for the terminal.
pub fn render(r: &TestReport, verbose: bool) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for t in &r.tests {
        let show = verbose || matches!(t.status, TestStatus::Fail | TestStatus::Error);
        if show {
            let word = t.status.as_str().to_uppercase();
            let detail = if t.message.is_empty() {
                String::new()
            } else {
                format!(": {}", t.message)
            };
            let _ = writeln!(out, "{word:<5} {} ({}:{}){detail}", t.name, t.file, t.line);
        }
    }
    for f in &r.fixtures {
        if verbose || f.result != FixtureStatus::Pass {
            let _ = writeln!(
                out,
                "{:<5} fixture {}",
                f.result.as_str().to_uppercase(),
                f.name
            );
            for d in &f.diffs {
                let _ = writeln!(out, "        {d}");
            }
        }
    }
    for n in &r.notes {
        let _ = writeln!(out, "note: {n}");
    }
    for e in &r.errors {
        let _ = writeln!(out, "ERROR {e}");
    }
    if let Some(c) = &r.coverage {
        let _ = writeln!(
            out,
            "coverage: {:.1}% of policy lines evaluated ({} of {})",
            c.percent, c.covered, c.total
        );
        for f in c.files.iter().filter(|f| !f.not_covered.is_empty()) {
            let lines: Vec<String> = f.not_covered.iter().map(u32::to_string).collect();
            let _ = writeln!(out, "  {}: not covered: lines {}", f.file, lines.join(", "));
        }
    }
    let tests = |results: &[&str]| {
        r.tests
            .iter()
            .filter(|t| results.contains(&t.status.as_str()))
            .count()
    };
    let fixtures = |results: &[&str]| {
        r.fixtures
            .iter()
            .filter(|f| results.contains(&f.result.as_str()))
            .count()
    };
    let mut parts = Vec::new();
    if !r.tests.is_empty() {
        let mut s = format!(
            "{} tests passed, {} failed",
            tests(&["pass"]),
            tests(&["fail", "error"])
        );
        let skipped = tests(&["skip"]);
        if skipped > 0 {
            let _ = write!(s, ", {skipped} skipped");
        }
        parts.push(s);
    }
    if !r.fixtures.is_empty() {
        let updated = fixtures(&["updated"]);
        parts.push(if updated > 0 {
            format!("{updated} fixture expectations written")
        } else {
            format!(
                "{} fixtures passed, {} failed",
                fixtures(&["pass"]),
                fixtures(&["fail", "error"])
            )
        });
    }
    if !r.errors.is_empty() {
        parts.push(format!(
            "{} error{}",
            r.errors.len(),
            if r.errors.len() == 1 { "" } else { "s" }
        ));
    }
    if let (Some(c), Some(t)) = (&r.coverage, r.coverage_threshold) {
        parts.push(format!(
            "coverage {:.1}% {} the {t}% threshold",
            c.percent,
            if c.percent + 1e-9 < t {
                "is below"
            } else {
                "meets"
            }
        ));
    }
    let word = match r.exit() {
        Exit::Pass => "passed",
        Exit::Fail => "FAILED",
        Exit::Error => "could not be evaluated",
    };
    let _ = writeln!(out, "policy tests {word}: {}", parts.join("; "));
    // Test names, messages and diffs come from plugins and fixtures.
    super::text::visible(&out).into_owned()
}
