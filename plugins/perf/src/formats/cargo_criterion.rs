//! `cargo criterion --message-format=json`: one JSON message per line; a
//! `benchmark-complete` message holds the raw samples (`iteration_count`
//! and `measured_values`, total per sample, in `unit`). Other messages
//! (`group-complete`) are skipped; a line that is not JSON is an error.

use serde::Deserialize;

use super::{Kind, Run, Series};

#[derive(Deserialize)]
struct Message {
    reason: String,
    id: Option<String>,
    iteration_count: Option<Vec<f64>>,
    measured_values: Option<Vec<f64>>,
    unit: Option<String>,
}

pub fn parse(text: &str, shown: &str) -> Result<Run, String> {
    let mut run = Run::default();
    for (n, line) in text.lines().enumerate() {
        let at = format!("{shown}:{}", n + 1);
        if line.trim().is_empty() {
            continue;
        }
        let m: Message = serde_json::from_str(line)
            .map_err(|e| format!("{at}: not a cargo-criterion JSON message: {e}"))?;
        if m.reason != "benchmark-complete" {
            continue;
        }
        let (Some(id), Some(iters), Some(values)) = (m.id, m.iteration_count, m.measured_values)
        else {
            return Err(format!(
                "{at}: benchmark-complete message without id, iteration_count or measured_values"
            ));
        };
        if iters.len() != values.len() || iters.iter().any(|i| *i <= 0.0) {
            return Err(format!(
                "{at}: iteration_count and measured_values do not pair up"
            ));
        }
        let unit = m.unit.unwrap_or_else(|| "ns".into());
        let (kind, scale) =
            Kind::from_unit(&unit).ok_or_else(|| format!("{at}: unknown unit `{unit}`"))?;
        let samples = values
            .iter()
            .zip(&iters)
            .map(|(v, i)| v / i * scale)
            .collect();
        run.insert(
            id,
            Series {
                kind,
                data: super::Data::Samples(samples),
            },
            &at,
        )?;
    }
    Ok(run)
}
