//! One metric's verdict from its samples: absolute limits on the canary's
//! value, then the canary against the baseline with the Mann-Whitney U test
//! and the Hodges-Lehmann shift (the SDK's `stats`, shared with the perf
//! plugin), behind an effect-size floor.

use portcullis_sdk::MetricSeries;
use portcullis_sdk::stats;
use serde_json::{Value, json};

use crate::config::{Aggregate, Config, Metric, Unit};

/// What a metric came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Threshold,
    Regression,
    Inconclusive,
    Healthy,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Threshold => "threshold",
            Kind::Regression => "regression",
            Kind::Inconclusive => "inconclusive",
            Kind::Healthy => "healthy",
        }
    }
}

#[derive(Debug)]
pub struct Verdict {
    pub kind: Kind,
    /// One line a person on call can act on.
    pub message: String,
    /// The numbers behind it.
    pub properties: Value,
}

/// The answers for one metric's queries.
pub struct Answers<'a> {
    pub canary: &'a [MetricSeries],
    pub baseline: Option<&'a [MetricSeries]>,
    pub traffic: Option<&'a [MetricSeries]>,
}

/// One side's samples (NaN, as 0/0 gives when there is no traffic, left
/// out) and its value.
struct Side {
    sorted: Vec<f64>,
    value: f64,
    nan: usize,
}

impl Side {
    fn json(&self, aggregate: Aggregate) -> Value {
        json!({
            "samples": self.sorted.len(),
            "nan-samples": self.nan,
            aggregate.as_str(): finite(self.value),
            "median": finite(stats::quantile_sorted(&self.sorted, 0.5)),
            "min": finite(self.sorted.first().copied().unwrap_or(f64::NAN)),
            "max": finite(self.sorted.last().copied().unwrap_or(f64::NAN)),
        })
    }
}

/// JSON has no NaN or infinity: those become strings.
fn finite(v: f64) -> Value {
    if v.is_finite() {
        json!(v)
    } else {
        json!(v.to_string())
    }
}

/// The one series of a side's answer. No series: `None`; more than one is
/// an error (the query must aggregate).
fn one<'a>(
    series: &'a [MetricSeries],
    metric: &Metric,
    side: &str,
) -> Result<Option<&'a MetricSeries>, String> {
    match series {
        [] => Ok(None),
        [s] => Ok(Some(s)),
        many => {
            let labels: Vec<String> = many
                .iter()
                .take(2)
                .map(|s| {
                    let l: Vec<String> =
                        s.labels.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
                    format!("{{{}}}", l.join(","))
                })
                .collect();
            Err(format!(
                "metric `{}`: the {side} query returned {} series ({}, …): aggregate it to one (sum, avg, max or histogram_quantile without `by`)",
                metric.name,
                many.len(),
                labels.join(", ")
            ))
        }
    }
}

fn side(series: &MetricSeries, aggregate: Aggregate) -> Side {
    let mut sorted: Vec<f64> = series
        .samples
        .iter()
        .map(|s| s.1)
        .filter(|v| !v.is_nan())
        .collect();
    let nan = series.samples.len() - sorted.len();
    let last = sorted.last().copied().unwrap_or(f64::NAN);
    let last = series
        .samples
        .iter()
        .rev()
        .map(|s| s.1)
        .find(|v| !v.is_nan())
        .unwrap_or(last);
    sorted.sort_by(f64::total_cmp);
    let value = match aggregate {
        Aggregate::Mean => stats::mean(&sorted),
        Aggregate::Median => stats::quantile_sorted(&sorted, 0.5),
        Aggregate::Max => sorted.last().copied().unwrap_or(f64::NAN),
        Aggregate::Min => sorted.first().copied().unwrap_or(f64::NAN),
        Aggregate::Last => last,
        Aggregate::P90 => stats::quantile_sorted(&sorted, 0.90),
        Aggregate::P95 => stats::quantile_sorted(&sorted, 0.95),
        Aggregate::P99 => stats::quantile_sorted(&sorted, 0.99),
    };
    Side { sorted, value, nan }
}

/// Judge one metric. `Err` is a query whose answer cannot be judged (more
/// than one series, no data for a required metric): the run fails closed.
pub fn judge(config: &Config, metric: &Metric, answers: &Answers<'_>) -> Result<Verdict, String> {
    let unit = metric.unit;
    let name = &metric.name;
    let min_samples = metric.min_samples(config);
    let mut props = json!({
        "metric": name,
        "query": metric.query,
        "aggregate": metric.aggregate.as_str(),
        "limits": {
            "max": metric.max,
            "min": metric.min,
            "max-increase": metric.max_increase,
            "max-decrease": metric.max_decrease,
            "min-difference": metric.min_difference,
            "min-samples": min_samples,
            "min-traffic": metric.min_traffic,
            "alpha": config.alpha,
        },
    });
    let inconclusive = |why: String, props: Value| Verdict {
        kind: Kind::Inconclusive,
        message: format!("{name}: {why}"),
        properties: props,
    };
    let no_data = |what: &str| {
        format!(
            "metric `{name}`: the {what} query returned no data in the window; check the query and its labels, or set `required = false` to treat no data as inconclusive"
        )
    };

    // No data at all first: a query that matches nothing is most often
    // a wrong label, which must not pass for a quiet canary.
    let Some(canary) = one(answers.canary, metric, "canary")? else {
        if metric.required {
            return Err(no_data("canary"));
        }
        return Ok(inconclusive("no data on canary".into(), props));
    };
    // Then traffic: with too few requests the ratios mean nothing.
    if let (Some(traffic), Some(min)) = (answers.traffic, metric.min_traffic) {
        let served = match one(traffic, metric, "traffic")? {
            Some(s) => side(s, Aggregate::Last).value,
            None => 0.0,
        };
        let served = if served.is_nan() { 0.0 } else { served };
        props["traffic"] = finite(served);
        if served < min {
            return Ok(inconclusive(
                format!(
                    "only {} requests on canary, at least {} needed",
                    number(served),
                    number(min)
                ),
                props,
            ));
        }
    }

    let canary = side(canary, metric.aggregate);
    props["canary"] = canary.json(metric.aggregate);
    if canary.sorted.len() < min_samples {
        let nan = match canary.nan {
            0 => String::new(),
            n => format!(" ({n} more were NaN: no traffic?)"),
        };
        return Ok(inconclusive(
            format!(
                "{} samples on canary{nan}, at least {min_samples} needed",
                canary.sorted.len()
            ),
            props,
        ));
    }
    if canary.value.is_nan() {
        return Ok(inconclusive(
            format!(
                "the canary's {} is not a number (its samples are not all finite)",
                metric.aggregate.as_str()
            ),
            props,
        ));
    }
    // The baseline's samples, checked after the absolute limits (which do
    // not need it) but shown beside them.
    let baseline_series = match answers.baseline {
        None => None,
        Some(series) => Some(one(series, metric, "baseline")?),
    };
    let baseline: Option<Side> = baseline_series.flatten().map(|s| side(s, metric.aggregate));
    let shown = |v: f64| format_value(v, unit);
    let baseline_value = baseline
        .as_ref()
        .filter(|b| !b.sorted.is_empty())
        .map(|b| shown(b.value));

    // Absolute limits.
    let broken = match (metric.max, metric.min) {
        (Some(max), _) if canary.value > max => Some(("limit", max)),
        (_, Some(min)) if canary.value < min => Some(("minimum", min)),
        _ => None,
    };
    if let Some((word, limit)) = broken {
        let (value, limit) = against_limit(canary.value, limit, unit);
        let message = match &baseline_value {
            Some(b) => format!("{name} {value} on canary vs {b} on baseline, {word} {limit}"),
            None => format!("{name} {value} on canary, {word} {limit}"),
        };
        return Ok(Verdict {
            kind: Kind::Threshold,
            message,
            properties: props,
        });
    }

    // Then the baseline.
    if let Some(None) = baseline_series {
        if metric.required {
            return Err(no_data("baseline"));
        }
        return Ok(inconclusive("no data on baseline".into(), props));
    }
    if let Some(b) = &baseline {
        props["baseline"] = b.json(metric.aggregate);
        if b.sorted.len() < min_samples {
            return Ok(inconclusive(
                format!(
                    "{} samples on baseline, at least {min_samples} needed",
                    b.sorted.len()
                ),
                props,
            ));
        }
    }
    let versus = match &baseline_value {
        Some(b) => format!(
            "{name} {} on canary vs {b} on baseline",
            shown(canary.value)
        ),
        None => format!("{name} {} on canary", shown(canary.value)),
    };

    // Canary against baseline.
    let mut allowed = Vec::new();
    if let Some(max) = metric.max {
        allowed.push(format!("limit {}", shown(max)));
    }
    if let Some(min) = metric.min {
        allowed.push(format!("minimum {}", shown(min)));
    }
    if let Some(b) = &baseline
        && (metric.max_increase.is_some() || metric.max_decrease.is_some())
    {
        let shift = stats::shift(&b.sorted, &canary.sorted, 1.0 - config.alpha);
        let base_median = stats::quantile_sorted(&b.sorted, 0.5);
        let canary_median = stats::quantile_sorted(&canary.sorted, 0.5);
        props["comparison"] = json!({
            "shift": finite(shift.estimate),
            "shift-low": finite(shift.low),
            "shift-high": finite(shift.high),
            "p": finite(shift.p),
            "confidence": 1.0 - config.alpha,
        });
        if !(shift.estimate.is_finite() && base_median.is_finite()) {
            return Ok(inconclusive(
                "the shift from the baseline is not a finite number (infinite samples?)".into(),
                props,
            ));
        }
        if shift.p_min >= config.alpha {
            return Ok(inconclusive(
                format!(
                    "{} and {} samples are too few for a test at alpha {}",
                    canary.sorted.len(),
                    b.sorted.len(),
                    config.alpha
                ),
                props,
            ));
        }
        let floor = |fraction: f64| (fraction * base_median.abs()).max(metric.min_difference);
        let significant = shift.p < config.alpha;
        let relative = |d: f64| {
            if base_median != 0.0 {
                format!("{:.0} %", 100.0 * d.abs() / base_median.abs())
            } else {
                shown(d.abs())
            }
        };
        let test = format!(
            "Mann-Whitney {}, {} vs {} samples",
            p_value(shift.p),
            canary.sorted.len(),
            b.sorted.len()
        );
        if let Some(up) = metric.max_increase {
            if significant && shift.estimate > floor(up) {
                return Ok(Verdict {
                    kind: Kind::Regression,
                    message: format!(
                        "{name} {} on canary vs {} on baseline (medians): {} higher, allowed {:.0} % ({test})",
                        shown(canary_median),
                        shown(base_median),
                        relative(shift.estimate),
                        100.0 * up
                    ),
                    properties: props,
                });
            }
            allowed.push(format!("+{:.0} %", 100.0 * up));
        }
        if let Some(down) = metric.max_decrease {
            if significant && -shift.estimate > floor(down) {
                return Ok(Verdict {
                    kind: Kind::Regression,
                    message: format!(
                        "{name} {} on canary vs {} on baseline (medians): {} lower, allowed {:.0} % ({test})",
                        shown(canary_median),
                        shown(base_median),
                        relative(shift.estimate),
                        100.0 * down
                    ),
                    properties: props,
                });
            }
            allowed.push(format!("-{:.0} %", 100.0 * down));
        }
    }
    Ok(Verdict {
        kind: Kind::Healthy,
        message: format!("{versus}, within {}", allowed.join(" and ")),
        properties: props,
    })
}

fn p_value(p: f64) -> String {
    if p < 0.0001 {
        "p < 0.0001".into()
    } else {
        format!("p = {}", significant(p, 2))
    }
}

/// `v` in the metric's unit, for messages.
pub fn format_value(v: f64, unit: Unit) -> String {
    format_digits(v, unit, 0)
}

/// `v` and `limit` in the metric's unit, with more digits when they would
/// read the same (`500.3 ms`, limit `500 ms`).
fn against_limit(v: f64, limit: f64, unit: Unit) -> (String, String) {
    let (a, b) = (format_value(v, unit), format_value(limit, unit));
    if a != b || v == limit {
        return (a, b);
    }
    (format_digits(v, unit, 3), b)
}

fn format_digits(v: f64, unit: Unit, extra: i32) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    match unit {
        Unit::Number => significant(v, 4 + extra),
        Unit::Ratio => format!("{} %", significant(v * 100.0, 2 + extra)),
        Unit::Percent => format!("{} %", significant(v, 3 + extra)),
        Unit::Seconds if v.abs() < 1.0 => format!("{} ms", significant(v * 1000.0, 3 + extra)),
        Unit::Seconds => format!("{} s", significant(v, 3 + extra)),
        Unit::Bytes => {
            let (d, u) = [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
                .into_iter()
                .find(|(d, _)| v.abs() >= *d as f64)
                .unwrap_or((1, "B"));
            format!("{} {u}", significant(v / d as f64, 3 + extra))
        }
    }
}

fn number(v: f64) -> String {
    significant(v, 4)
}

/// `v` to `digits` significant digits, trailing zeros dropped; whole
/// numbers as they are.
fn significant(v: f64, digits: i32) -> String {
    if v == 0.0 || !v.is_finite() {
        return v.to_string();
    }
    if v.fract() == 0.0 && v.abs() < 1e15 {
        return format!("{v:.0}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = (digits - 1 - magnitude).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_shown_in_their_unit() {
        assert_eq!(format_value(0.041, Unit::Ratio), "4.1 %");
        assert_eq!(format_value(0.003, Unit::Ratio), "0.3 %");
        assert_eq!(format_value(0.01, Unit::Ratio), "1 %");
        assert_eq!(format_value(0.3124, Unit::Seconds), "312 ms");
        assert_eq!(format_value(1.5, Unit::Seconds), "1.5 s");
        assert_eq!(format_value(1536.0, Unit::Bytes), "1.5 KiB");
        assert_eq!(format_value(1234.5678, Unit::Number), "1235");
        assert_eq!(format_value(0.012345, Unit::Number), "0.01235");
        assert_eq!(
            against_limit(0.50031, 0.5, Unit::Seconds),
            ("500.31 ms".to_string(), "500 ms".to_string())
        );
    }
}
