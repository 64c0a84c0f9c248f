//! GitHub Actions: workflow commands that annotate the pull request, and a
//! markdown job summary for `$GITHUB_STEP_SUMMARY`.

use std::fmt::Write;

use crate::diag::Level;
use crate::outcome::Outcome;

/// One `::error …::message` line per finding and per plugin failure, then
/// the summary line.
pub fn render(outcome: &Outcome) -> String {
    let mut out = String::new();
    for f in outcome.counted() {
        let command = match f.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Note => "notice",
        };
        let mut props = Vec::new();
        if let Some(loc) = f.locations.first() {
            props.push(format!("file={}", property(&loc.path)));
            if let Some(r) = &loc.region {
                props.push(format!("line={}", r.start_line));
                if let Some(c) = r.start_column {
                    props.push(format!("col={c}"));
                }
                if let Some(e) = r.end_line {
                    props.push(format!("endLine={e}"));
                }
                if let (Some(e), Some(_)) = (r.end_column, r.end_line) {
                    props.push(format!("endColumn={e}"));
                }
            }
        }
        props.push(format!("title={}", property(&f.rule_id)));
        let _ = writeln!(out, "::{command} {}::{}", props.join(","), data(&f.message));
    }
    for failure in outcome.failures() {
        let _ = writeln!(out, "::error title=portcullis::{}", data(&failure));
    }
    let _ = writeln!(
        out,
        "{}",
        super::human::summary(outcome, &super::human::Style { color: false })
    );
    out
}

/// Escape a command's message (`%`, CR, LF; invisible characters shown).
pub fn data(s: &str) -> String {
    super::text::visible(s)
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escape a command property (also `:` and `,`).
pub fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The markdown job summary: verdict, counts by plugin and level, the first
/// findings at or above `fail-at`.
pub fn step_summary(outcome: &Outcome) -> String {
    let v = &outcome.verdict;
    let mut md = String::new();
    let icon = match v.exit {
        crate::diag::Exit::Pass => "✅",
        crate::diag::Exit::Fail => "❌",
        crate::diag::Exit::Error => "⚠️",
    };
    let _ = writeln!(md, "## {icon} portcullis: gate {}\n", v.word());
    let _ = writeln!(
        md,
        "| plugin | errors | warnings | notes | status |\n| --- | ---: | ---: | ---: | --- |"
    );
    for run in &outcome.runs {
        let counts = crate::outcome::Counts::of(&run.findings);
        let status = match &run.failure {
            None => "ok".to_string(),
            Some(f) => format!("could not be evaluated: {}", cell(&f.to_string())),
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {status} |",
            cell(&run.id),
            counts.error,
            counts.warning,
            counts.note
        );
    }
    let failing: Vec<_> = outcome
        .counted()
        .filter(|f| f.level >= outcome.fail_at)
        .collect();
    if !failing.is_empty() {
        let _ = writeln!(md, "\n### Findings at or above `{}`\n", outcome.fail_at);
        let _ = writeln!(
            md,
            "| level | rule | location | message |\n| --- | --- | --- | --- |"
        );
        for f in failing.iter().take(50) {
            let place = f
                .locations
                .first()
                .map_or(String::new(), |l| match &l.region {
                    Some(r) => format!("{}:{}", l.path, r.start_line),
                    None => l.path.clone(),
                });
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                f.level,
                cell(&f.rule_id),
                cell(&place),
                cell(&f.message)
            );
        }
        if failing.len() > 50 {
            let _ = writeln!(md, "\n…and {} more.", failing.len() - 50);
        }
    }
    let waivers: Vec<_> = outcome
        .findings()
        .filter(|f| {
            f.rule_id == "portcullis/waiver-expiring" || f.rule_id == "portcullis/waiver-expired"
        })
        .collect();
    if !waivers.is_empty() {
        let _ = writeln!(md, "\n### Waivers expired or expiring soon\n");
        for f in waivers {
            let _ = writeln!(md, "- {}", cell(&f.message));
        }
    }
    let _ = writeln!(
        md,
        "\n{}",
        super::human::summary(outcome, &super::human::Style { color: false })
    );
    md
}

/// Plugin text as literal text in a markdown table cell or list item.
fn cell(s: &str) -> String {
    super::text::markdown(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_workflow_command_rules() {
        assert_eq!(data("100% done\r\nnext"), "100%25 done\\u{d}%0Anext");
        assert_eq!(data("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(property("a:b,c%d\n"), "a%3Ab%2Cc%25d%0A");
    }
}
