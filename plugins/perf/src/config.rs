//! The plugin's `config` table.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::formats::Format;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Benchmark result sets, each compared with its baseline or history.
    #[serde(default)]
    pub benchmarks: Vec<Input>,
    /// Build artifacts with size budgets.
    #[serde(default)]
    pub sizes: Vec<Sizes>,
    /// Significance level of the A/B test, after the correction.
    #[serde(default = "default_alpha")]
    pub alpha: f64,
    #[serde(default)]
    pub correction: Correction,
    /// Changes smaller than this (percent) are never flagged, however
    /// significant.
    #[serde(default = "default_noise_floor")]
    pub noise_floor: f64,
    /// Deterministic metrics (instructions, allocations) flagged above this
    /// change, in percent.
    #[serde(default = "default_count_threshold")]
    pub count_threshold: f64,
    #[serde(default)]
    pub history: History,
    /// Per-benchmark settings, by glob on the benchmark's name.
    #[serde(default)]
    pub overrides: BTreeMap<String, Override>,
}

fn default_alpha() -> f64 {
    0.01
}
fn default_noise_floor() -> f64 {
    5.0
}
fn default_count_threshold() -> f64 {
    1.0
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Correction {
    #[default]
    Holm,
    BenjaminiHochberg,
    None,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Input {
    pub format: Format,
    /// The results of this change: repository-relative, or under a mount
    /// (`/mnt/<name>/…`).
    pub current: String,
    /// The same results from the baseline (e.g. the merge base, measured in
    /// the same job).
    pub baseline: Option<String>,
    /// A directory of past runs from the main branch, one entry (file, or
    /// directory for criterion) per run.
    pub history: Option<String>,
    /// criterion only: compare with the results saved under this name
    /// (`cargo bench -- --save-baseline <name>` on the baseline, then
    /// `cargo bench -- --baseline <name>` on the change) in `current`.
    pub saved_baseline: Option<String>,
    /// Prefix for the benchmark names of this input (`<name>/<bench>`), to
    /// tell inputs apart.
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct History {
    /// Fewer past runs than this: a note "inconclusive", never a verdict.
    #[serde(default = "default_min_runs")]
    pub min_runs: usize,
    #[serde(default)]
    pub method: Method,
    /// Level of the two-sided prediction interval.
    #[serde(default = "default_confidence")]
    pub confidence: f64,
    /// `iqr` method: flag beyond median ± k·IQR of the past runs.
    #[serde(default = "default_iqr_k")]
    pub iqr_k: f64,
}

impl Default for History {
    fn default() -> Self {
        History {
            min_runs: default_min_runs(),
            method: Method::default(),
            confidence: default_confidence(),
            iqr_k: default_iqr_k(),
        }
    }
}

fn default_min_runs() -> usize {
    10
}
fn default_confidence() -> f64 {
    0.99
}
fn default_iqr_k() -> f64 {
    3.0
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// Student-t prediction interval on log-time.
    #[default]
    PredictionInterval,
    /// Median ± k·IQR on log-time.
    Iqr,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Override {
    pub noise_floor: Option<f64>,
    pub count_threshold: Option<f64>,
    /// Absolute budget on the new median: a duration (`"2 ms"`) for time,
    /// a number for counts.
    pub max: Option<amount::Amount>,
    /// Leave the benchmark out entirely.
    #[serde(default)]
    pub skip: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Sizes {
    /// Directory holding the artifacts (e.g. `target/release`).
    pub current: String,
    /// The same directory from the baseline build.
    pub baseline: Option<String>,
    /// Globs of artifact paths under `current`.
    pub files: Vec<String>,
    /// Absolute limit per file (`"40 MB"`, `"512 KiB"`, or bytes).
    pub max: Option<amount::Amount>,
    /// Growth against the baseline's file, in percent, flagged above this.
    #[serde(default = "default_count_threshold")]
    pub max_increase: f64,
}

/// Amounts written as a number or a string with a unit.
pub mod amount {
    use serde::Deserialize;

    #[derive(Debug, Clone, Deserialize)]
    #[serde(untagged)]
    pub enum Amount {
        Number(f64),
        Text(String),
    }

    impl Amount {
        /// As nanoseconds: `"2 ms"`, `"150us"`, `"1.5 s"`; a bare number is ns.
        pub fn duration_ns(&self) -> Result<f64, String> {
            self.scaled(&[
                ("ns", 1.0),
                ("us", 1e3),
                ("µs", 1e3),
                ("μs", 1e3),
                ("ms", 1e6),
                ("s", 1e9),
            ])
        }

        /// As bytes: `"40 MB"`, `"512 KiB"`, `"1.2GiB"`; a bare number is bytes.
        pub fn bytes(&self) -> Result<f64, String> {
            self.scaled(&[
                ("B", 1.0),
                ("kB", 1e3),
                ("KB", 1e3),
                ("MB", 1e6),
                ("GB", 1e9),
                ("KiB", 1024.0),
                ("MiB", 1024.0 * 1024.0),
                ("GiB", 1024.0 * 1024.0 * 1024.0),
            ])
        }

        pub fn plain(&self) -> Result<f64, String> {
            self.scaled(&[])
        }

        fn scaled(&self, units: &[(&str, f64)]) -> Result<f64, String> {
            let text = match self {
                Amount::Number(n) if n.is_finite() && *n >= 0.0 => return Ok(*n),
                Amount::Number(n) => return Err(format!("`{n}` is not a non-negative number")),
                Amount::Text(t) => t.trim(),
            };
            let split = text
                .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
                .unwrap_or(text.len());
            let (num, unit) = text.split_at(split);
            let num: f64 = num
                .replace('_', "")
                .parse()
                .map_err(|_| format!("`{text}` is not an amount"))?;
            let unit = unit.trim();
            if unit.is_empty() {
                return Ok(num);
            }
            units
                .iter()
                .find(|(u, _)| *u == unit)
                .map(|(_, s)| num * s)
                .ok_or_else(|| {
                    let known: Vec<&str> = units.iter().map(|(u, _)| *u).collect();
                    format!(
                        "`{text}`: unknown unit `{unit}` (expected one of {})",
                        known.join(", ")
                    )
                })
        }
    }
}
