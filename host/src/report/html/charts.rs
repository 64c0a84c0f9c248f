//! Charts as inline SVG: stacked horizontal bars and intervals around zero.
//! Each chart is an image with a name for screen readers; the numbers it
//! draws are also in the page's text or tables beside it.

use std::fmt::Write as _;

use super::page::esc;

/// One coloured part of a bar.
pub struct Part {
    pub value: f64,
    /// CSS class: `error`, `warning`, `note`, `pass`, `other`.
    pub class: &'static str,
    /// What the part is, shown on hover.
    pub label: String,
}

pub struct Row {
    pub label: String,
    pub parts: Vec<Part>,
    /// Printed after the bar (e.g. the total).
    pub value_text: String,
}

const WIDTH: f64 = 760.0;
const LABEL: f64 = 240.0;
const VALUE: f64 = 110.0;
const ROW: f64 = 26.0;
/// Percentages beyond this are drawn at it (plugins' numbers are untrusted).
const LIMIT: f64 = 1e6;

/// A bar's length: finite, not negative, bounded.
fn sane(v: f64) -> f64 {
    if v.is_finite() {
        v.clamp(0.0, 1e15)
    } else {
        0.0
    }
}

/// Stacked horizontal bars, scaled to `max` (else the largest total), with
/// an optional dashed guide (e.g. a minimum) at a value.
pub fn bars(name: &str, rows: &[Row], max: Option<f64>, guide: Option<(f64, &str)>) -> String {
    let total = |r: &Row| r.parts.iter().map(|p| sane(p.value)).sum::<f64>();
    let largest = rows.iter().map(total).fold(0.0_f64, f64::max);
    let max = sane(max.unwrap_or(largest)).max(f64::MIN_POSITIVE);
    let span = WIDTH - LABEL - VALUE;
    let height = ROW * rows.len() as f64 + 22.0;
    let mut svg = open(name, height);
    for (i, row) in rows.iter().enumerate() {
        let y = 6.0 + ROW * i as f64;
        row_label(&mut svg, y + 14.0, &row.label);
        let mut x = LABEL;
        for part in &row.parts {
            let w = (sane(part.value) / max * span).min(LABEL + span - x);
            if w <= 0.0 {
                continue;
            }
            let _ = write!(
                svg,
                "<rect class=\"{}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"18\"><title>{}</title></rect>",
                part.class,
                esc(&part.label)
            );
            x += w;
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            x + 6.0,
            y + 14.0,
            esc(&row.value_text)
        );
    }
    let axis_y = 6.0 + ROW * rows.len() as f64;
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{LABEL}\" y1=\"2\" x2=\"{LABEL}\" y2=\"{axis_y:.1}\"/>"
    );
    if let Some((at, label)) = guide
        && at.is_finite()
        && at >= 0.0
    {
        let x = LABEL + (at / max).min(1.0) * span;
        let _ = write!(
            svg,
            "<line class=\"guide\" x1=\"{x:.1}\" y1=\"2\" x2=\"{x:.1}\" y2=\"{axis_y:.1}\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            axis_y + 14.0,
            esc(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One estimate with its interval, in percent.
pub struct Interval {
    pub label: String,
    pub value: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// `error` (worse), `pass` (better), `other`.
    pub class: &'static str,
    /// Shown after the interval and on hover.
    pub text: String,
}

/// Estimates with their intervals around a zero line, with dashed guides
/// at `±threshold`.
pub fn intervals(name: &str, rows: &[Interval], threshold: Option<f64>) -> String {
    let mut lo = 0.0_f64;
    let mut hi = 0.0_f64;
    for r in rows {
        for v in [Some(r.value), r.low, r.high].into_iter().flatten() {
            if v.is_finite() {
                lo = lo.min(v.max(-LIMIT));
                hi = hi.max(v.min(LIMIT));
            }
        }
    }
    if let Some(t) = threshold.filter(|t| t.is_finite() && *t > 0.0) {
        lo = lo.min(-t);
        hi = hi.max(t);
    }
    let pad = ((hi - lo) * 0.08).max(1.0);
    let (lo, hi) = (lo - pad, hi + pad);
    let span = WIDTH - LABEL - VALUE;
    let x = |v: f64| LABEL + (v.clamp(lo, hi) - lo) / (hi - lo) * span;
    let axis_y = 6.0 + ROW * rows.len() as f64;
    let mut svg = open(name, axis_y + 22.0);
    let zero = x(0.0);
    let _ = write!(
        svg,
        "<line class=\"axis\" x1=\"{zero:.1}\" y1=\"2\" x2=\"{zero:.1}\" y2=\"{axis_y:.1}\"/><text x=\"{zero:.1}\" y=\"{:.1}\" text-anchor=\"middle\">0%</text>",
        axis_y + 14.0
    );
    if let Some(t) = threshold.filter(|t| t.is_finite() && *t > 0.0) {
        for v in [-t, t] {
            let at = x(v);
            let _ = write!(
                svg,
                "<line class=\"guide\" x1=\"{at:.1}\" y1=\"2\" x2=\"{at:.1}\" y2=\"{axis_y:.1}\"/><text x=\"{at:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
                axis_y + 14.0,
                esc(&signed(v))
            );
        }
    }
    for (i, r) in rows.iter().enumerate() {
        let y = 6.0 + ROW * i as f64 + 9.0;
        row_label(&mut svg, y + 5.0, &r.label);
        if let (Some(l), Some(h)) = (r.low, r.high)
            && l.is_finite()
            && h.is_finite()
        {
            let _ = write!(
                svg,
                "<line class=\"whisker {}\" x1=\"{:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\"/>",
                r.class,
                x(l),
                x(h)
            );
        }
        if r.value.is_finite() {
            let _ = write!(
                svg,
                "<circle class=\"{}\" cx=\"{:.1}\" cy=\"{y:.1}\" r=\"5\"><title>{}</title></circle>",
                r.class,
                x(r.value),
                esc(&r.text)
            );
        }
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\">{}</text>",
            LABEL + span + 8.0,
            y + 5.0,
            esc(&shorten(&r.text, 16))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A legend for the classes a chart uses.
pub fn legend(items: &[(&str, &str)]) -> String {
    let mut out = String::from("<ul class=\"legend\">");
    for (class, label) in items {
        let _ = write!(out, "<li><i class=\"{class}\"></i>{}</li>", esc(label));
    }
    out.push_str("</ul>");
    out
}

/// A row's label, right-aligned before the plot, at baseline `y`.
fn row_label(svg: &mut String, y: f64, label: &str) {
    let _ = write!(
        svg,
        "<text x=\"{:.0}\" y=\"{y:.1}\" text-anchor=\"end\">{}</text>",
        LABEL - 8.0,
        esc(&shorten(label, 34))
    );
}

fn open(name: &str, height: f64) -> String {
    format!(
        "<svg role=\"img\" aria-label=\"{0}\" viewBox=\"0 0 {WIDTH} {height:.0}\" width=\"{WIDTH}\" height=\"{height:.0}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{0}</title>",
        esc(name)
    )
}

/// `v` percent with its sign.
pub fn signed(v: f64) -> String {
    if v > 0.0 {
        format!("+{v:.1}%")
    } else {
        format!("{v:.1}%")
    }
}

/// At most `n` characters, with `…` when cut.
fn shorten(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n - 1).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_scale_to_the_largest_total_and_escape_labels() {
        let rows = [
            Row {
                label: "<lint>".into(),
                parts: vec![
                    Part {
                        value: 2.0,
                        class: "error",
                        label: "2 errors".into(),
                    },
                    Part {
                        value: 2.0,
                        class: "note",
                        label: "2 notes".into(),
                    },
                ],
                value_text: "4".into(),
            },
            Row {
                label: "secrets".into(),
                parts: vec![Part {
                    value: 1.0,
                    class: "warning",
                    label: "1 warning".into(),
                }],
                value_text: "1".into(),
            },
        ];
        let svg = bars("findings", &rows, None, None);
        assert!(svg.contains("&lt;lint&gt;") && !svg.contains("<lint>"));
        // The largest total spans the whole bar area; the other a quarter.
        let span = WIDTH - LABEL - VALUE;
        assert!(svg.contains(&format!("width=\"{:.1}\"", span / 2.0)));
        assert!(svg.contains(&format!("width=\"{:.1}\"", span / 4.0)));
    }

    #[test]
    fn intervals_include_zero_and_the_threshold() {
        let rows = [Interval {
            label: "parse".into(),
            value: 12.0,
            low: Some(8.0),
            high: Some(16.0),
            class: "error",
            text: "+12.0%".into(),
        }];
        let svg = intervals("changes", &rows, Some(5.0));
        assert!(svg.contains(">0%<") && svg.contains(">+5.0%<") && svg.contains(">-5.0%<"));
        assert!(svg.contains("<circle class=\"error\""));
        // Absurd numbers from a plugin still draw finite coordinates.
        let rows = [Interval {
            label: "x".into(),
            value: 1e308,
            low: Some(-1e308),
            high: Some(f64::INFINITY),
            class: "other",
            text: "?".into(),
        }];
        let svg = intervals("absurd", &rows, Some(f64::NAN));
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
        let rows = [Row {
            label: "x".into(),
            parts: vec![
                Part {
                    value: f64::INFINITY,
                    class: "note",
                    label: "x".into(),
                },
                Part {
                    value: -5.0,
                    class: "note",
                    label: "y".into(),
                },
            ],
            value_text: "x".into(),
        }];
        let svg = bars("absurd", &rows, None, Some((f64::NAN, "min")));
        assert!(!svg.contains("NaN") && !svg.contains("inf"), "{svg}");
    }
}
