//! What every HTML page shares: escaping, the document around a body, its
//! style sheet (light and dark, print), and level badges.
//!
//! The page loads nothing: its Content-Security-Policy refuses every
//! source but its own inline style, and it has no script, so a string
//! that escaped escaping still could not run or fetch anything.

use std::fmt::Write as _;

use crate::diag::Level;

/// `s` as HTML text or attribute value: markup characters as entities,
/// control and invisible characters (bidi overrides, zero-width) shown as
/// `\u{…}` escapes, as the terminal shows them.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if crate::report::text::needs_escape(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A level as a badge (its word, never only its colour).
pub fn badge(level: Level) -> String {
    format!("<span class=\"badge {0}\">{0}</span>", level.as_str())
}

/// A badge for a verdict word (`pass`, `fail`, `error`).
pub fn verdict_badge(verdict: &str, text: &str) -> String {
    let class = match verdict {
        "pass" => "pass",
        "fail" => "error",
        _ => "stopped",
    };
    format!("<span class=\"badge {class}\">{}</span>", esc(text))
}

/// The whole document around `body` (already HTML), titled `title`.
pub fn document(title: &str, body: &str) -> String {
    let mut out = String::with_capacity(body.len() + STYLE.len() + 512);
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'\">\n",
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"color-scheme\" content=\"light dark\">\n");
    out.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n");
    let _ = writeln!(out, "<title>{}</title>", esc(title));
    let _ = writeln!(out, "<style>{STYLE}</style>\n</head>\n<body>");
    out.push_str("<a class=\"skip\" href=\"#main\">Skip to the report</a>\n");
    out.push_str(body);
    out.push_str("</body>\n</html>\n");
    out
}

/// A waiver's row class and status from the days left until it expires:
/// expired and expiring within `soon` days are highlighted.
pub fn expiry(days_left: i64, soon: i64) -> (&'static str, String) {
    let days = |d: i64| count(d.unsigned_abs() as usize, "day", "days");
    if days_left < 0 {
        (
            " class=\"expired\"",
            format!("expired {} ago", days(days_left)),
        )
    } else if days_left <= soon {
        (" class=\"soon\"", format!("expires in {}", days(days_left)))
    } else {
        ("", format!("{} left", days(days_left)))
    }
}

/// A table's header row.
pub fn head_row(cells: &[&str]) -> String {
    let mut out = String::from("<thead><tr>");
    for c in cells {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(c));
    }
    out.push_str("</tr></thead>");
    out
}

/// `n` and the noun, plural when `n` is not 1.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

const STYLE: &str = r#"
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1f2328; --muted: #57606a; --line: #d0d7de; --panel: #f6f8fa;
  --error: #a40e26; --error-bg: #ffebe9; --warning: #7a4d00; --warning-bg: #fff8c5;
  --note: #0a5cab; --note-bg: #ddf4ff; --pass: #116329; --pass-bg: #dafbe1;
  --stopped: #6e3e00; --stopped-bg: #fff1e5; --hit: #fff8c5; --link: #0550ae;
  --bar-error: #cf222e; --bar-warning: #bf8700; --bar-note: #218bff; --bar-other: #8c959f;
  --bar-pass: #2da44e;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --panel: #151b23;
    --error: #ffa198; --error-bg: #3c1618; --warning: #f2cc60; --warning-bg: #332701;
    --note: #a5d6ff; --note-bg: #0c2d6b; --pass: #7ee787; --pass-bg: #0f2d16;
    --stopped: #ffb77c; --stopped-bg: #3d1d00; --hit: #3b2e00; --link: #79c0ff;
    --bar-error: #f85149; --bar-warning: #d29922; --bar-note: #388bfd; --bar-other: #6e7681;
    --bar-pass: #3fb950;
  }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
a { color: var(--link); }
a:focus-visible, [tabindex]:focus-visible { outline: 3px solid var(--link); outline-offset: 2px; }
.skip { position: absolute; left: -10000px; }
.skip:focus { left: 8px; top: 8px; background: var(--bg); padding: 4px 8px; z-index: 1; }
header, main, footer, nav { max-width: 1100px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 20px; }
h1 { font-size: 1.6rem; margin: 0 0 8px; }
h2 { font-size: 1.25rem; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 1.05rem; margin: 20px 0 6px; overflow-wrap: anywhere; }
p { margin: 6px 0; }
.muted { color: var(--muted); }
nav ul { list-style: none; padding: 0; margin: 12px 0 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
.verdict { border: 1px solid var(--line); border-left-width: 6px; border-radius: 6px; padding: 12px 16px;
  margin: 12px 0; background: var(--panel); }
.verdict.pass { border-left-color: var(--pass); }
.verdict.fail { border-left-color: var(--error); }
.verdict.error { border-left-color: var(--stopped); }
.verdict .big { font-size: 1.3rem; font-weight: 700; }
.verdict h2 { margin: 0 0 4px; border: 0; padding: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; padding: 0; list-style: none; }
.cards li { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 96px; }
.cards .n { display: block; font-size: 1.3rem; font-weight: 700; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: .8rem; font-weight: 600;
  line-height: 1.6; white-space: nowrap; border: 1px solid currentColor; }
.badge.error { color: var(--error); background: var(--error-bg); }
.badge.warning { color: var(--warning); background: var(--warning-bg); }
.badge.note { color: var(--note); background: var(--note-bg); }
.badge.pass { color: var(--pass); background: var(--pass-bg); }
.badge.stopped, .badge.expired { color: var(--stopped); background: var(--stopped-bg); }
.badge.other { color: var(--muted); background: var(--panel); }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: .92rem; }
th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--line);
  overflow-wrap: anywhere; }
th { background: var(--panel); overflow-wrap: normal; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.soon td { background: var(--warning-bg); }
tr.expired td { background: var(--error-bg); }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace;
  font-size: .86rem; }
.finding { border: 1px solid var(--line); border-radius: 6px; margin: 8px 0; padding: 8px 12px; }
.finding .head { display: flex; flex-wrap: wrap; gap: 4px 10px; align-items: baseline; }
.finding .msg { white-space: pre-wrap; overflow-wrap: anywhere; margin: 4px 0; }
pre.code { margin: 6px 0 0; padding: 6px 0; background: var(--panel); border-radius: 4px;
  white-space: pre-wrap; overflow-wrap: anywhere; }
pre.code span { display: block; padding: 0 8px; }
pre.code .hit { background: var(--hit); }
pre.code .ln { display: inline; padding: 0 10px 0 0; color: var(--muted); user-select: none; }
.help { overflow-wrap: anywhere; background: var(--panel); padding: 4px 12px;
  border-radius: 4px; margin: 4px 0; }
.help h4, .help h5, .help h6 { margin: 10px 0 2px; font-size: .95rem; }
.help pre { white-space: pre-wrap; }
figure { margin: 12px 0; }
figcaption { font-weight: 600; margin-bottom: 4px; }
svg { max-width: 100%; height: auto; }
svg text { fill: var(--fg); font-size: 12px; font-family: inherit; }
svg .axis { stroke: var(--muted); stroke-width: 1; }
svg .guide { stroke: var(--muted); stroke-width: 1; stroke-dasharray: 4 3; }
svg .error { fill: var(--bar-error); } svg .warning { fill: var(--bar-warning); }
svg .note { fill: var(--bar-note); } svg .other { fill: var(--bar-other); }
svg .pass { fill: var(--bar-pass); }
svg .whisker { stroke: var(--fg); stroke-width: 2; }
svg .whisker.error { stroke: var(--bar-error); } svg .whisker.pass { stroke: var(--bar-pass); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: .85rem; margin: 2px 0; padding: 0; list-style: none; }
.legend i { display: inline-block; width: 10px; height: 10px; margin-right: 4px; border-radius: 2px; }
.legend .error { background: var(--bar-error); } .legend .warning { background: var(--bar-warning); }
.legend .note { background: var(--bar-note); } .legend .other { background: var(--bar-other); }
.legend .pass { background: var(--bar-pass); }
footer { color: var(--muted); font-size: .85rem; padding-bottom: 24px; margin-top: 32px; }
@media print {
  body { font-size: 11pt; background: #fff; color: #000; }
  nav, .skip { display: none; }
  .finding, figure, tr { break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waivers_expired_or_expiring_soon_are_highlighted() {
        assert_eq!(
            expiry(-1, 14),
            (" class=\"expired\"", "expired 1 day ago".into())
        );
        assert_eq!(
            expiry(0, 14),
            (" class=\"soon\"", "expires in 0 days".into())
        );
        assert_eq!(
            expiry(14, 14),
            (" class=\"soon\"", "expires in 14 days".into())
        );
        assert_eq!(expiry(15, 14), ("", "15 days left".into()));
        assert_eq!(expiry(i64::MIN, 14).0, " class=\"expired\"");
    }

    #[test]
    fn markup_and_invisible_characters_are_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script>&\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;&quot;"
        );
        assert_eq!(esc("a\u{202e}b\u{1b}[31m"), "a\\u{202e}b\\u{1b}[31m");
        assert_eq!(esc("line\nnext\ttab"), "line\nnext\ttab");
    }
}
