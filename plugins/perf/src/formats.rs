//! Benchmark results in each supported format, read into one shape: a
//! [`Run`] maps benchmark names to a [`Series`] of samples (or, for
//! critcmp exports, an estimate with its standard error). Times are in
//! nanoseconds per iteration.

mod cargo_criterion;
mod critcmp;
mod criterion;
mod gbench;
mod generic;
mod hyperfine;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

/// The formats an input may name in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// A criterion output directory (`target/criterion`).
    Criterion,
    /// `cargo criterion --message-format=json` output.
    CargoCriterion,
    /// `critcmp --export <baseline>` output.
    Critcmp,
    /// `hyperfine --export-json` output.
    Hyperfine,
    /// Google Benchmark's `--benchmark_format=json` (or `--benchmark_out`).
    GoogleBenchmark,
    /// portcullis's own `{"benchmarks": [{"name", "unit", "samples"}]}`.
    Json,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Criterion => "criterion",
            Format::CargoCriterion => "cargo-criterion",
            Format::Critcmp => "critcmp",
            Format::Hyperfine => "hyperfine",
            Format::GoogleBenchmark => "google-benchmark",
            Format::Json => "json",
        }
    }
}

/// What a benchmark measures, which decides how it is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Wall or CPU time, noisy: compared statistically. Values in ns.
    Time,
    /// A deterministic count (instructions, allocations, bytes) with its
    /// unit: compared against a plain threshold.
    Count(String),
}

impl Kind {
    /// The kind a unit names, or `None` for a unit we do not know.
    pub fn from_unit(unit: &str) -> Option<(Kind, f64)> {
        let scale = match unit {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            _ => {
                let u = unit.to_ascii_lowercase();
                return COUNT_UNITS
                    .contains(&u.as_str())
                    .then(|| (Kind::Count(unit.to_string()), 1.0));
            }
        };
        Some((Kind::Time, scale))
    }
}

/// Units of deterministic metrics, compared on a plain threshold.
pub const COUNT_UNITS: &[&str] = &[
    "instructions",
    "instrs",
    "ir",
    "cycles",
    "estimated-cycles",
    "allocations",
    "allocs",
    "bytes",
    "count",
    "reads",
    "writes",
    "misses",
];

#[derive(Debug, Clone)]
pub enum Data {
    /// One value per sample (per iteration for time).
    Samples(Vec<f64>),
    /// A point estimate with its standard error, when no samples are kept.
    Estimate { point: f64, se: f64 },
}

#[derive(Debug, Clone)]
pub struct Series {
    pub kind: Kind,
    pub data: Data,
}

impl Series {
    pub fn time(samples: Vec<f64>) -> Series {
        Series {
            kind: Kind::Time,
            data: Data::Samples(samples),
        }
    }

    /// The median sample (or the point estimate).
    pub fn center(&self) -> f64 {
        match &self.data {
            Data::Samples(s) => portcullis_sdk::stats::median(s),
            Data::Estimate { point, .. } => *point,
        }
    }

    pub fn count(&self) -> usize {
        match &self.data {
            Data::Samples(s) => s.len(),
            Data::Estimate { .. } => 1,
        }
    }
}

/// The most samples one benchmark may have on one side: the rank test and
/// the interval on the pairwise differences stay in milliseconds and
/// megabytes up to here.
pub const MAX_SAMPLES: usize = 100_000;

/// One set of results: benchmark name → series.
#[derive(Debug, Default, Clone)]
pub struct Run {
    pub benchmarks: BTreeMap<String, Series>,
}

impl Run {
    /// Add a benchmark; a second series under one name is an error (except
    /// where a format repeats a benchmark on purpose, which merges itself).
    fn insert(&mut self, name: String, series: Series, at: &str) -> Result<(), String> {
        if series.count() == 0 {
            return Err(format!("{at}: benchmark `{name}` has no samples"));
        }
        if series.count() > MAX_SAMPLES {
            return Err(format!(
                "{at}: benchmark `{name}` has {} samples, more than the {MAX_SAMPLES} one comparison takes: record fewer (criterion keeps 100, hyperfine 10 or more)",
                series.count()
            ));
        }
        let bad = match &series.data {
            Data::Samples(s) => s.iter().any(|v| !v.is_finite() || *v < 0.0),
            Data::Estimate { point, se } => !point.is_finite() || *point < 0.0 || !se.is_finite(),
        };
        if bad {
            return Err(format!(
                "{at}: benchmark `{name}` has a negative or non-finite value"
            ));
        }
        if self.benchmarks.insert(name.clone(), series).is_some() {
            return Err(format!("{at}: benchmark `{name}` appears twice"));
        }
        Ok(())
    }
}

/// Read one set of results. `path` is where to read (a directory for
/// criterion, a file otherwise); `shown` names it in messages; `which` is
/// criterion's sample directory (`new` or a saved baseline's name).
pub fn read(format: Format, path: &Path, shown: &str, which: &str) -> Result<Run, String> {
    if format == Format::Criterion {
        let run = criterion::read(path, shown, which)?;
        if run.benchmarks.is_empty() && which != "new" {
            return Err(format!(
                "{shown}: no `{which}` results to compare with: run the baseline's benchmarks with `--save-baseline {which}` first"
            ));
        }
        return not_empty(run, format, shown);
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let run = match format {
        Format::Criterion => unreachable!(),
        Format::CargoCriterion => cargo_criterion::parse(&text, shown),
        Format::Critcmp => critcmp::parse(&text, shown),
        Format::Hyperfine => hyperfine::parse(&text, shown),
        Format::GoogleBenchmark => gbench::parse(&text, shown),
        Format::Json => generic::parse(&text, shown),
    }?;
    not_empty(run, format, shown)
}

/// A result set with no benchmark in it compares nothing: the benchmarks
/// did not run, or this is not the file they wrote. Passing on it would be
/// a gate that checked nothing, so it is an error.
fn not_empty(run: Run, format: Format, shown: &str) -> Result<Run, String> {
    if run.benchmarks.is_empty() {
        return Err(format!(
            "{shown}: no benchmarks in this {} output: the benchmarks did not run, or this is not the file they wrote",
            format.name()
        ));
    }
    Ok(run)
}

/// Parse JSON with the error's line and column in the message.
fn json<'a, T: Deserialize<'a>>(text: &'a str, shown: &str, what: &str) -> Result<T, String> {
    serde_json::from_str(text).map_err(|e| {
        let mut msg = portcullis_sdk::text::escape_controls(&e.to_string());
        if let Some(at) = msg.rfind(" at line ") {
            msg.truncate(at);
        }
        format!("{shown}:{}:{}: not {what}: {msg}", e.line(), e.column())
    })
}
