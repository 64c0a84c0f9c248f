//! portcullis's own format, for any harness:
//!
//! ```json
//! {"benchmarks": [
//!   {"name": "parse/small", "unit": "ns", "samples": [1520.0, 1498.5, 1510.2]},
//!   {"name": "parse/small instructions", "unit": "instructions", "samples": [48211]}
//! ]}
//! ```
//!
//! `unit` is a time unit (`ns`, `us`, `ms`, `s`; compared statistically) or
//! a deterministic count (`instructions`, `allocations`, `bytes`, …; compared
//! on a threshold). `deterministic` overrides the choice for other units.

use serde::Deserialize;

use super::{COUNT_UNITS, Data, Kind, Run, Series, json};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Export {
    benchmarks: Vec<Benchmark>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Benchmark {
    name: String,
    unit: String,
    samples: Vec<f64>,
    deterministic: Option<bool>,
}

pub fn parse(text: &str, shown: &str) -> Result<Run, String> {
    let e: Export = json(text, shown, "portcullis benchmark JSON")?;
    let mut run = Run::default();
    for b in e.benchmarks {
        let (kind, scale) = match (Kind::from_unit(&b.unit), b.deterministic) {
            (Some((Kind::Time, scale)), None | Some(false)) => (Kind::Time, scale),
            (Some((Kind::Time, _)), Some(true)) => (Kind::Count(b.unit.clone()), 1.0),
            (Some((k @ Kind::Count(_), _)), None | Some(true)) => (k, 1.0),
            (_, Some(true)) => (Kind::Count(b.unit.clone()), 1.0),
            _ => {
                return Err(format!(
                    "{shown}: benchmark `{}`: unit `{}` is neither a time unit (ns, us, ms, s) nor a count ({}); set \"deterministic\": true for another deterministic metric",
                    b.name,
                    b.unit,
                    COUNT_UNITS.join(", ")
                ));
            }
        };
        let samples = b.samples.iter().map(|v| v * scale).collect();
        run.insert(
            b.name,
            Series {
                kind,
                data: Data::Samples(samples),
            },
            shown,
        )?;
    }
    Ok(run)
}
