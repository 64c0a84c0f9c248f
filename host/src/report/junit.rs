//! JUnit XML: one testsuite per plugin, one testcase per rule. A rule with
//! findings at or above `fail-at` is a failure listing them; findings below
//! it go to the testcase's `system-out`. A plugin that could not be
//! evaluated is a testsuite with one errored testcase.

use std::fmt::Write;

use crate::finding::Finding;
use crate::outcome::Outcome;

pub fn render(outcome: &Outcome) -> String {
    let mut suites = String::new();
    let (mut total_tests, mut total_failures, mut total_errors) = (0usize, 0usize, 0usize);
    for run in &outcome.runs {
        let mut cases = String::new();
        let (mut tests, mut failures, mut errors) = (0, 0, 0);
        if let Some(f) = &run.failure {
            tests += 1;
            errors += 1;
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{}\" name=\"evaluate\" time=\"{:.3}\">\n      <error message=\"{}\" type=\"plugin-failure\"/>\n    </testcase>",
                xml(&run.id),
                run.duration.as_secs_f64(),
                xml(&f.to_string())
            );
        }
        // Findings by rule, in one pass: rendering is linear in rules plus
        // findings.
        let mut by_rule: Vec<Vec<&Finding>> = vec![Vec::new(); run.rules.len()];
        for f in run.findings.iter().filter(|f| f.counts()) {
            if let Some(list) = by_rule.get_mut(f.rule_index) {
                list.push(f);
            }
        }
        for (rule, findings) in run.rules.iter().zip(by_rule) {
            tests += 1;
            let id = format!("{}/{}", run.id, rule.id);
            let (failing, passing): (Vec<&Finding>, Vec<&Finding>) = findings
                .into_iter()
                .partition(|f| f.level >= outcome.fail_at);
            let line = |f: &&Finding| {
                let place = f
                    .locations
                    .first()
                    .map_or(String::new(), |l| match &l.region {
                        Some(r) => format!(
                            "{}:{}:{}: ",
                            l.path,
                            r.start_line,
                            r.start_column.unwrap_or(1)
                        ),
                        None => format!("{}: ", l.path),
                    });
                format!("{place}{} {}", f.level, f.message)
            };
            let _ = write!(
                cases,
                "    <testcase classname=\"{}\" name=\"{}\">",
                xml(&run.id),
                xml(&id)
            );
            if !failing.is_empty() {
                failures += 1;
                let body: Vec<String> = failing.iter().map(line).collect();
                let _ = write!(
                    cases,
                    "\n      <failure message=\"{} finding(s) at or above {}\" type=\"{}\">{}</failure>",
                    failing.len(),
                    outcome.fail_at,
                    xml(&id),
                    xml(&body.join("\n"))
                );
            }
            if !passing.is_empty() {
                let body: Vec<String> = passing.iter().map(line).collect();
                let _ = write!(
                    cases,
                    "\n      <system-out>{}</system-out>",
                    xml(&body.join("\n"))
                );
            }
            let _ = writeln!(
                cases,
                "{}</testcase>",
                if failing.is_empty() && passing.is_empty() {
                    ""
                } else {
                    "\n    "
                }
            );
        }
        total_tests += tests;
        total_failures += failures;
        total_errors += errors;
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{:.3}\">\n{cases}  </testsuite>\n",
            xml(&run.id),
            run.duration.as_secs_f64()
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"portcullis\" tests=\"{total_tests}\" failures=\"{total_failures}\" errors=\"{total_errors}\" time=\"{:.3}\">\n{suites}</testsuites>\n",
        outcome.elapsed.as_secs_f64()
    )
}

/// Escape text for XML attributes and content; characters XML 1.0 cannot
/// hold (controls but tab and newline, U+FFFE, U+FFFF) become U+FFFD, and
/// invisible characters are shown as `\u{…}` escapes.
pub fn xml(s: &str) -> String {
    let s = super::text::visible(s);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn xml_escaping() {
        assert_eq!(
            super::xml("a<b & \"c\"\n\u{1}\u{fffe}\u{202e}"),
            "a&lt;b &amp; &quot;c&quot;&#10;\\u{1}\\u{fffe}\\u{202e}"
        );
    }
}
