//! `critcmp --export <name>`: criterion's estimates for each benchmark of
//! one saved baseline. It keeps no samples, so a benchmark is its median's
//! point estimate with criterion's bootstrap standard error.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::{Data, Kind, Run, Series, json};

#[derive(Deserialize)]
struct Export {
    benchmarks: BTreeMap<String, Benchmark>,
}

#[derive(Deserialize)]
struct Benchmark {
    criterion_benchmark_v1: Id,
    criterion_estimates_v1: Estimates,
}

#[derive(Deserialize)]
struct Id {
    full_id: String,
}

#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
    standard_error: f64,
}

pub fn parse(text: &str, shown: &str) -> Result<Run, String> {
    let e: Export = json(text, shown, "a critcmp --export file")?;
    let mut run = Run::default();
    for b in e.benchmarks.into_values() {
        let m = b.criterion_estimates_v1.median;
        let series = Series {
            kind: Kind::Time,
            data: Data::Estimate {
                point: m.point_estimate,
                se: m.standard_error,
            },
        };
        run.insert(b.criterion_benchmark_v1.full_id, series, shown)?;
    }
    Ok(run)
}
