//! `hyperfine --export-json`: one result per command with every run's
//! wall time in seconds (`times`). Older exports without `times` carry only
//! the mean and standard deviation, kept as an estimate.

use serde::Deserialize;

use super::{Data, Kind, Run, Series, json};

#[derive(Deserialize)]
struct Export {
    results: Vec<Result_>,
}

#[derive(Deserialize)]
struct Result_ {
    command: String,
    mean: f64,
    stddev: Option<f64>,
    times: Option<Vec<f64>>,
}

pub fn parse(text: &str, shown: &str) -> Result<Run, String> {
    let e: Export = json(text, shown, "a hyperfine --export-json file")?;
    let mut run = Run::default();
    for r in e.results {
        let series = match r.times {
            Some(times) => Series::time(times.iter().map(|t| t * 1e9).collect()),
            None => Series {
                kind: Kind::Time,
                data: Data::Estimate {
                    point: r.mean * 1e9,
                    se: r.stddev.unwrap_or(0.0) * 1e9,
                },
            },
        };
        run.insert(r.command, series, shown)?;
    }
    Ok(run)
}
