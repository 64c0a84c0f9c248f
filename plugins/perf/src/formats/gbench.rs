//! Google Benchmark's JSON (`--benchmark_format=json` or
//! `--benchmark_out=<file>`): one entry per run. With
//! `--benchmark_repetitions=N` each repetition is an `iteration` entry of the
//! same `run_name` (these are the samples) and the library adds `aggregate`
//! entries (mean, median, stddev, cv), which are skipped. Times are per
//! iteration in `time_unit`; `real_time` is used.

use serde::Deserialize;

use super::{Data, Kind, Run, Series, json};

#[derive(Deserialize)]
struct Export {
    benchmarks: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    name: String,
    run_name: Option<String>,
    run_type: Option<String>,
    real_time: Option<f64>,
    time_unit: Option<String>,
    error_occurred: Option<bool>,
    error_message: Option<String>,
}

pub fn parse(text: &str, shown: &str) -> Result<Run, String> {
    let e: Export = json(text, shown, "Google Benchmark JSON")?;
    let mut samples: Vec<(String, Vec<f64>)> = Vec::new();
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    let mut aggregates = 0usize;
    for b in e.benchmarks {
        if b.run_type.as_deref().is_some_and(|t| t != "iteration") {
            aggregates += 1;
            continue;
        }
        let name = b.run_name.unwrap_or(b.name);
        if b.error_occurred == Some(true) {
            return Err(format!(
                "{shown}: benchmark `{name}` failed: {}",
                b.error_message.unwrap_or_default()
            ));
        }
        let unit = b.time_unit.unwrap_or_else(|| "ns".into());
        let (Some((Kind::Time, scale)), Some(t)) = (Kind::from_unit(&unit), b.real_time) else {
            return Err(format!(
                "{shown}: benchmark `{name}` has no real_time in a known time_unit (`{unit}`)"
            ));
        };
        match index.get(&name) {
            Some(&i) => samples[i].1.push(t * scale),
            None => {
                index.insert(name.clone(), samples.len());
                samples.push((name, vec![t * scale]));
            }
        }
    }
    if samples.is_empty() && aggregates > 0 {
        return Err(format!(
            "{shown}: holds only aggregates (mean, median, stddev), no samples to compare: run without --benchmark_report_aggregates_only (--benchmark_display_aggregates_only shortens the console and keeps them)"
        ));
    }
    let mut run = Run::default();
    for (name, v) in samples {
        run.insert(
            name,
            Series {
                kind: Kind::Time,
                data: Data::Samples(v),
            },
            shown,
        )?;
    }
    Ok(run)
}
