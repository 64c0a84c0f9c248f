//! Human output: findings grouped by file as `path:line:col level rule
//! message`, then a summary line. Colour only when asked (on a terminal).

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::diag::Level;
use crate::finding::Finding;
use crate::outcome::Outcome;

pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    fn level(&self, level: Level) -> String {
        let code = match level {
            Level::Error => "1;31",
            Level::Warning => "1;33",
            Level::Note => "1;36",
        };
        self.paint(code, &format!("{:<7}", level.as_str()))
    }
}

pub fn render(outcome: &Outcome, style: &Style) -> String {
    let mut out = String::new();
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in outcome.counted() {
        by_file
            .entry(f.locations.first().map_or("", |l| l.path.as_str()))
            .or_default()
            .push(f);
    }
    for (path, mut findings) in by_file {
        findings.sort_by_key(|f| {
            let r = f.locations.first().and_then(|l| l.region.as_ref());
            (
                r.map_or(0, |r| r.start_line),
                r.and_then(|r| r.start_column).unwrap_or(0),
                f.rule_id.clone(),
            )
        });
        let path = super::text::visible(path);
        let header = if path.is_empty() {
            "(no location)"
        } else {
            &path
        };
        let _ = writeln!(out, "{}", style.paint("1", header));
        for f in findings {
            let place = match f.locations.first().and_then(|l| l.region.as_ref()) {
                Some(r) => format!("{path}:{}:{}", r.start_line, r.start_column.unwrap_or(1)),
                None if path.is_empty() => "-".to_string(),
                None => path.to_string(),
            };
            let message = super::text::visible(&f.message).replace('\n', "\n        ");
            let _ = writeln!(
                out,
                "  {place}  {}  {}  {}",
                style.level(f.level),
                style.paint("2", &f.rule_id),
                message
            );
        }
    }
    for notice in &outcome.notices {
        let _ = writeln!(out, "note: {}", super::text::visible(notice));
    }
    let _ = writeln!(out, "{}", summary(outcome, style));
    out
}

/// `gate FAILED: 3 errors, 5 warnings from 2 plugins in 0.04 s`
pub fn summary(outcome: &Outcome, style: &Style) -> String {
    let v = &outcome.verdict;
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let mut parts = vec![
        plural(v.counts.error, "error"),
        plural(v.counts.warning, "warning"),
    ];
    if v.counts.note > 0 {
        parts.push(plural(v.counts.note, "note"));
    }
    if v.counts.waived > 0 {
        parts.push(format!("{} waived", v.counts.waived));
    }
    if v.counts.baselined > 0 {
        parts.push(format!("{} in the baseline", v.counts.baselined));
    }
    let word = match v.exit {
        crate::diag::Exit::Pass => style.paint("1;32", v.word()),
        crate::diag::Exit::Fail => style.paint("1;31", v.word()),
        crate::diag::Exit::Error => style.paint("1;31", v.word()),
    };
    let mut line = format!(
        "gate {word}: {} from {} in {:.2} s",
        parts.join(", "),
        plural(
            outcome.runs.iter().filter(|r| !r.is_host()).count(),
            "plugin"
        ),
        outcome.elapsed.as_secs_f64()
    );
    if v.failed_plugins > 0 {
        line.push_str(&format!(
            " ({} could not be evaluated)",
            plural(v.failed_plugins, "plugin")
        ));
    } else if v.exit == crate::diag::Exit::Pass && v.counts.error + v.counts.warning > 0 {
        line.push_str(&format!(" (fail-at {})", outcome.fail_at));
    }
    line.push_str(&format!(
        ", policy {}",
        super::text::visible(&outcome.policy.origin)
    ));
    line
}
