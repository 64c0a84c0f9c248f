//! Comparisons, budgets and artifacts → findings, each with its numbers in
//! SARIF properties, and one summary table for people.

use std::fmt::Write;

use portcullis_sdk::{Evaluation, RuleDecl};
use serde_json::json;

use crate::compare::{Comparison, Mode, Verdict};
use crate::config::{Config, Correction};
use crate::formats::Kind;
use crate::rules::{
    COUNT_REGRESSION, IMPROVEMENT, INCONCLUSIVE, MISSING, OVER_BUDGET, REGRESSION, SIZE_BUDGET,
    SIZE_INCREASE, SUMMARY,
};
use crate::sizes::Artifact;

/// Benchmarks that could not be paired.
#[derive(Default)]
pub struct Notes {
    /// In the baseline (or the newest past run) but not in this run.
    pub missing: Vec<String>,
    /// In this run but not in the baseline.
    pub no_baseline: Vec<String>,
}

pub fn findings(
    config: &Config,
    comparisons: &[Comparison],
    budgets: &[(String, Kind, f64, f64)],
    artifacts: &[Artifact],
    notes: &Notes,
) -> Evaluation {
    let mut out = Evaluation::default();
    let with = |rule: &RuleDecl, name: &str, message: String, props: serde_json::Value| {
        rule.finding(message)
            .fingerprint(format!("{}\0{name}", rule.id()))
            .properties(props)
    };
    for c in comparisons {
        let rule: &RuleDecl = match (&c.verdict, &c.kind) {
            (Verdict::Regressed, Kind::Time) => &REGRESSION,
            (Verdict::Regressed, Kind::Count(_)) => &COUNT_REGRESSION,
            (Verdict::Improved, _) => &IMPROVEMENT,
            (Verdict::Inconclusive(_), _) => &INCONCLUSIVE,
            (Verdict::Unchanged, _) => continue,
        };
        out.push(with(
            rule,
            &c.name,
            message(c, config),
            properties(c, config),
        ));
    }
    for (name, kind, value, limit) in budgets {
        if value > limit {
            out.push(with(
                &OVER_BUDGET,
                name,
                format!(
                    "{name}: median {} is over its budget of {} ({})",
                    amount(kind, *value),
                    amount(kind, *limit),
                    percent(value / limit - 1.0)
                ),
                json!({"benchmark": name, "median": value, "max": limit, "unit": unit(kind)}),
            ));
        }
    }
    for a in artifacts {
        let props = json!({
            "artifact": a.path, "size": a.size, "baseline_size": a.baseline,
            "max": a.max, "max_increase_percent": a.max_increase * 100.0,
        });
        if let Some(max) = a.max
            && a.size as f64 > max
        {
            out.push(with(
                &SIZE_BUDGET,
                &a.path,
                format!(
                    "{}: {} is over its limit of {}",
                    a.path,
                    bytes(a.size as f64),
                    bytes(max)
                ),
                props.clone(),
            ));
        }
        if let Some(base) = a.baseline.filter(|b| *b > 0) {
            let change = a.size as f64 / base as f64 - 1.0;
            let (rule, word): (&RuleDecl, _) = if change > a.max_increase {
                (&SIZE_INCREASE, "grew")
            } else if change < -a.max_increase {
                (&IMPROVEMENT, "shrank")
            } else {
                continue;
            };
            out.push(with(
                rule,
                &a.path,
                format!(
                    "{}: {word} {} ({} → {}), limit {}",
                    a.path,
                    percent(change),
                    bytes(base as f64),
                    bytes(a.size as f64),
                    percent(a.max_increase)
                ),
                props,
            ));
        }
    }
    for name in &notes.missing {
        out.push(with(
            &MISSING,
            name,
            format!("{name}: in the baseline but not in this run"),
            json!({"benchmark": name}),
        ));
    }
    for name in &notes.no_baseline {
        out.push(with(
            &INCONCLUSIVE,
            name,
            format!("{name}: no baseline result, not compared"),
            json!({"benchmark": name}),
        ));
    }
    if !comparisons.is_empty() || !artifacts.is_empty() {
        // Every comparison's numbers, unchanged ones too, for charts (the
        // HTML report draws each change with its interval).
        let all: Vec<serde_json::Value> = comparisons
            .iter()
            .take(MAX_SUMMARISED)
            .map(|c| properties(c, config))
            .collect();
        out.push(
            SUMMARY
                .finding(table(comparisons, artifacts, config))
                .fingerprint(SUMMARY.id())
                .properties(json!({ "comparisons": all })),
        );
    }
    out
}

fn message(c: &Comparison, config: &Config) -> String {
    let base = amount(&c.kind, c.base);
    let new = amount(&c.kind, c.new);
    match (&c.verdict, &c.kind, c.mode) {
        (Verdict::Inconclusive(why), _, _) => format!("{}: inconclusive: {why}", c.name),
        (_, Kind::Count(u), _) => format!(
            "{}: {u} {} ({base} → {new}), threshold {}",
            c.name,
            percent(c.change),
            percent(c.threshold)
        ),
        (v, Kind::Time, Mode::Ab) => format!(
            "{}: {:.1}% {} ({}% CI {}), median {base} → {new}, p = {} ({}), n = {}/{}",
            c.name,
            c.change.abs() * 100.0,
            direction(v),
            level(config.alpha),
            c.interval.map_or("-".into(), |(lo, hi)| format!(
                "{} to {}",
                percent(lo),
                percent(hi)
            )),
            pvalue(c.p_adjusted.or(c.p)),
            correction(config.correction),
            c.n_base,
            c.n_new
        ),
        (v, Kind::Time, Mode::History(runs)) => format!(
            "{}: {:.1}% {} than the median of {runs} past runs ({} the {}% {}), median {base} → {new}",
            c.name,
            c.change.abs() * 100.0,
            direction(v),
            if *v == Verdict::Regressed {
                "above"
            } else {
                "below"
            },
            level(1.0 - config.history.confidence),
            match config.history.method {
                crate::config::Method::PredictionInterval => "prediction interval",
                crate::config::Method::Iqr => "IQR fence",
            }
        ),
    }
}

fn direction(v: &Verdict) -> &'static str {
    if *v == Verdict::Regressed {
        "slower"
    } else {
        "faster"
    }
}

/// Comparisons listed in the summary's properties, at most.
const MAX_SUMMARISED: usize = 500;

fn properties(c: &Comparison, config: &Config) -> serde_json::Value {
    let pct = |v: f64| if v.is_finite() { Some(v * 100.0) } else { None };
    json!({
        "benchmark": c.name,
        "verdict": match &c.verdict {
            Verdict::Regressed => "regressed",
            Verdict::Improved => "improved",
            Verdict::Inconclusive(_) => "inconclusive",
            Verdict::Unchanged => "unchanged",
        },
        "mode": match c.mode { Mode::Ab => "ab", Mode::History(_) => "history" },
        "unit": unit(&c.kind),
        "baseline_median": c.base,
        "new_median": c.new,
        "change_percent": pct(c.change),
        "interval_low_percent": c.interval.and_then(|i| pct(i.0)),
        "interval_high_percent": c.interval.and_then(|i| pct(i.1)),
        "confidence": match c.mode {
            Mode::Ab => 1.0 - config.alpha,
            Mode::History(_) => config.history.confidence,
        },
        "p_value": c.p,
        "p_adjusted": c.p_adjusted,
        "correction": correction(config.correction),
        "samples_baseline": if c.mode == Mode::Ab { Some(c.n_base) } else { None },
        "samples_new": c.n_new,
        "runs": match c.mode { Mode::History(n) => Some(n), Mode::Ab => None },
        "threshold_percent": c.threshold * 100.0,
    })
}

/// The summary: one row per comparison and artifact.
fn table(comparisons: &[Comparison], artifacts: &[Artifact], config: &Config) -> String {
    let mut rows: Vec<[String; 7]> = vec![[
        "benchmark".into(),
        "baseline".into(),
        "new".into(),
        "change".into(),
        format!("{}% interval", level(config.alpha)),
        "p".into(),
        "verdict".into(),
    ]];
    for c in comparisons {
        rows.push([
            c.name.clone(),
            amount(&c.kind, c.base),
            amount(&c.kind, c.new),
            percent(c.change),
            interval(c.interval),
            pvalue(c.p_adjusted.or(c.p)),
            match &c.verdict {
                Verdict::Regressed => "regressed".into(),
                Verdict::Improved => "improved".into(),
                Verdict::Unchanged => "unchanged".into(),
                Verdict::Inconclusive(_) => "inconclusive".into(),
            },
        ]);
    }
    for a in artifacts {
        let change = a
            .baseline
            .filter(|b| *b > 0)
            .map(|b| a.size as f64 / b as f64 - 1.0);
        rows.push([
            a.path.clone(),
            a.baseline.map_or("-".into(), |b| bytes(b as f64)),
            bytes(a.size as f64),
            change.map_or("-".into(), percent),
            "-".into(),
            "-".into(),
            match change {
                Some(c) if c > a.max_increase => "grew".into(),
                Some(c) if c < -a.max_increase => "shrank".into(),
                _ if a.max.is_some_and(|m| a.size as f64 > m) => "over limit".into(),
                _ => "ok".into(),
            },
        ]);
    }
    let widths: Vec<usize> = (0..7)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let regressed = comparisons
        .iter()
        .filter(|c| c.verdict == Verdict::Regressed)
        .count();
    let improved = comparisons
        .iter()
        .filter(|c| c.verdict == Verdict::Improved)
        .count();
    let mut out = format!(
        "{} benchmarks compared: {regressed} regressed, {improved} improved",
        comparisons.len()
    );
    if !artifacts.is_empty() {
        let _ = write!(out, "; {} artifacts measured", artifacts.len());
    }
    for r in rows {
        out.push('\n');
        let line: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
    }
    out
}

fn unit(kind: &Kind) -> &str {
    match kind {
        Kind::Time => "ns",
        Kind::Count(u) => u,
    }
}

fn amount(kind: &Kind, v: f64) -> String {
    match kind {
        Kind::Time => duration(v),
        Kind::Count(u) => format!("{} {u}", count(v)),
    }
}

/// Nanoseconds with a readable unit and 4 significant digits.
pub fn duration(ns: f64) -> String {
    let (v, u) = if ns >= 1e9 {
        (ns / 1e9, "s")
    } else if ns >= 1e6 {
        (ns / 1e6, "ms")
    } else if ns >= 1e3 {
        (ns / 1e3, "µs")
    } else {
        (ns, "ns")
    };
    format!("{} {u}", sig4(v))
}

fn sig4(v: f64) -> String {
    let decimals = if v >= 100.0 {
        1
    } else if v >= 10.0 {
        2
    } else {
        3
    };
    format!("{v:.decimals$}")
}

fn count(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        sig4(v)
    }
}

pub fn bytes(b: f64) -> String {
    if b >= 1024.0 * 1024.0 {
        format!("{} MiB", sig4(b / 1024.0 / 1024.0))
    } else if b >= 10.0 * 1024.0 {
        format!("{} KiB", sig4(b / 1024.0))
    } else {
        format!("{b} B")
    }
}

fn percent(v: f64) -> String {
    if v.is_infinite() {
        return if v > 0.0 {
            "+∞".into()
        } else {
            "-∞".into()
        };
    }
    format!("{:+.1}%", v * 100.0)
}

fn interval(i: Option<(f64, f64)>) -> String {
    match i {
        Some((lo, hi)) => format!("[{}, {}]", percent(lo), percent(hi)),
        None => "-".into(),
    }
}

fn pvalue(p: Option<f64>) -> String {
    match p {
        None => "-".into(),
        Some(p) if p < 1e-3 => format!("{p:.1e}"),
        Some(p) => format!("{p:.3}"),
    }
}

/// "99" for alpha 0.01.
fn level(alpha: f64) -> String {
    let l = (1.0 - alpha) * 100.0;
    if (l - l.round()).abs() < 1e-9 {
        format!("{}", l.round())
    } else {
        format!("{l:.1}")
    }
}

fn correction(c: Correction) -> &'static str {
    match c {
        Correction::Holm => "Holm",
        Correction::BenjaminiHochberg => "Benjamini-Hochberg",
        Correction::None => "uncorrected",
    }
}
