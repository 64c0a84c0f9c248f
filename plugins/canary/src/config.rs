//! The plugin's `config` table: the metrics, their queries and limits.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Samples a metric needs in the window (each side) before it is
    /// judged; fewer is `inconclusive`.
    #[serde(default = "default_min_samples")]
    pub min_samples: usize,
    /// Significance of the Mann-Whitney test behind `regression`.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    pub metrics: Vec<Metric>,
}

fn default_min_samples() -> usize {
    10
}

fn default_alpha() -> f64 {
    0.05
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Metric {
    /// How messages name it: `error ratio`, `p99 latency`.
    pub name: String,
    /// PromQL for the canary: one series over the window.
    pub query: String,
    /// PromQL for the baseline (the stable version's pods, say).
    pub baseline: Option<String>,
    /// Run the baseline (`baseline`, else `query`) this long before the
    /// window (`1h`, `1d`), or `window` for the same span just before it.
    pub baseline_shift: Option<String>,
    #[serde(default)]
    pub unit: Unit,
    /// What one number of the window is: the samples' mean by default.
    #[serde(default)]
    pub aggregate: Aggregate,
    /// The canary's value may not be above this.
    pub max: Option<f64>,
    /// The canary's value may not be below this.
    pub min: Option<f64>,
    /// How much higher than the baseline's median the canary may be, as a
    /// fraction (0.2 = 20 %): higher is worse.
    pub max_increase: Option<f64>,
    /// How much lower it may be (throughput, success ratio): lower is worse.
    pub max_decrease: Option<f64>,
    /// A difference smaller than this (in the metric's unit) is never a
    /// regression, however significant: the effect-size floor.
    #[serde(default)]
    pub min_difference: f64,
    /// PromQL whose last value is how many requests the canary served in
    /// the window (`sum(increase(http_requests_total{track="canary"}[10m]))`).
    pub traffic: Option<String>,
    /// Fewer requests than this is `inconclusive`.
    pub min_traffic: Option<f64>,
    /// This metric's own `min-samples`.
    pub min_samples: Option<usize>,
    /// No data at all is an error (exit 2); `false` makes it inconclusive.
    #[serde(default = "yes")]
    pub required: bool,
}

/// How a metric's numbers are shown.
#[derive(Debug, Default, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Unit {
    /// Plain numbers.
    #[default]
    Number,
    /// A fraction shown as a percentage (0.041 → 4.1 %).
    Ratio,
    /// Already a percentage.
    Percent,
    /// Seconds, shown in ms below one second.
    Seconds,
    Bytes,
}

#[derive(Debug, Default, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Aggregate {
    #[default]
    Mean,
    Median,
    Max,
    Min,
    Last,
    P90,
    P95,
    P99,
}

impl Aggregate {
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregate::Mean => "mean",
            Aggregate::Median => "median",
            Aggregate::Max => "max",
            Aggregate::Min => "min",
            Aggregate::Last => "last",
            Aggregate::P90 => "p90",
            Aggregate::P95 => "p95",
            Aggregate::P99 => "p99",
        }
    }
}

/// When the baseline is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shift {
    Seconds(u32),
    /// The window's own length: just before it.
    Window,
}

impl Metric {
    pub fn min_samples(&self, config: &Config) -> usize {
        self.min_samples.unwrap_or(config.min_samples)
    }

    /// The baseline's query and shift, when the metric has a baseline.
    pub fn baseline(&self) -> Result<Option<(&str, Shift)>, String> {
        let shift = match self.baseline_shift.as_deref() {
            None => Shift::Seconds(0),
            Some("window") => Shift::Window,
            Some(s) => Shift::Seconds(seconds(s)?),
        };
        Ok(match (&self.baseline, &self.baseline_shift) {
            (Some(q), _) => Some((q.as_str(), shift)),
            (None, Some(_)) => Some((self.query.as_str(), shift)),
            (None, None) => None,
        })
    }
}

impl Config {
    pub fn validate(&self) -> Result<(), String> {
        if self.metrics.is_empty() {
            return Err("config.metrics: list at least one metric to judge".into());
        }
        if !(self.alpha > 0.0 && self.alpha <= 0.5) {
            return Err("config.alpha: must be above 0 and at most 0.5".into());
        }
        if self.min_samples < 2 {
            return Err("config.min-samples: must be at least 2".into());
        }
        for (i, m) in self.metrics.iter().enumerate() {
            let key = format!("config.metrics[{i}]");
            if m.name.trim().is_empty() || m.name.chars().any(char::is_control) {
                return Err(format!("{key}.name: give the metric a one-line name"));
            }
            if self.metrics[..i].iter().any(|o| o.name == m.name) {
                return Err(format!("{key}.name: `{}` is named twice", m.name));
            }
            if m.query.trim().is_empty() {
                return Err(format!("{key}.query: empty"));
            }
            let baseline = m
                .baseline()
                .map_err(|e| format!("{key}.baseline-shift: {e}"))?;
            if let Some((q, Shift::Seconds(0))) = baseline
                && q == m.query
            {
                return Err(format!(
                    "{key}.baseline: the same query at the same time as the canary compares it with itself"
                ));
            }
            let compares = m.max_increase.is_some() || m.max_decrease.is_some();
            if compares && baseline.is_none() {
                return Err(format!(
                    "{key}: max-increase and max-decrease compare with a baseline: give `baseline` or `baseline-shift`"
                ));
            }
            if !compares && m.max.is_none() && m.min.is_none() {
                return Err(format!(
                    "{key}: nothing to judge: give `max`, `min`, `max-increase` or `max-decrease`"
                ));
            }
            for (name, v) in [
                ("max", m.max),
                ("min", m.min),
                ("max-increase", m.max_increase),
                ("max-decrease", m.max_decrease),
                ("min-traffic", m.min_traffic),
            ] {
                if v.is_some_and(|v| !v.is_finite()) {
                    return Err(format!("{key}.{name}: must be a finite number"));
                }
            }
            if m.max_increase.is_some_and(|v| v < 0.0) || m.max_decrease.is_some_and(|v| v < 0.0) {
                return Err(format!(
                    "{key}: max-increase and max-decrease are fractions of the baseline, 0 or more"
                ));
            }
            if !(m.min_difference.is_finite() && m.min_difference >= 0.0) {
                return Err(format!("{key}.min-difference: must be 0 or more"));
            }
            if m.min_traffic.is_some() != m.traffic.is_some() {
                return Err(format!(
                    "{key}: `traffic` (the query) and `min-traffic` go together"
                ));
            }
            if m.min_samples.is_some_and(|n| n < 2) {
                return Err(format!("{key}.min-samples: must be at least 2"));
            }
        }
        Ok(())
    }
}

/// `1h`, `30m`, `1d`, `90s` in seconds.
fn seconds(s: &str) -> Result<u32, String> {
    let bad = || format!("`{s}` is not a duration (like 30m, 1h, 1d) or `window`");
    let digits = s.bytes().take_while(u8::is_ascii_digit).count();
    let n: u64 = s[..digits].parse().map_err(|_| bad())?;
    let unit = match &s[digits..] {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 604_800,
        _ => return Err(bad()),
    };
    n.checked_mul(unit)
        .and_then(|v| u32::try_from(v).ok())
        .filter(|&v| v > 0)
        .ok_or_else(bad)
}
