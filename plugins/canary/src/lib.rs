//! The canary plugin: after a deploy, whether the new version may stay.
//! Each configured metric is queried through the host (plugins have no
//! network: the host runs the PromQL against the server the policy grants),
//! judged against absolute limits and against a baseline, and reported as
//! one finding — its verdict, with the numbers.
//!
//! Data path: config → the PromQL queries (canary, baseline, traffic) →
//! the host's `query-metrics` → one series per query → `judge` (limits,
//! then Mann-Whitney against the baseline with an effect-size floor) → a
//! finding per metric.

pub mod config;
pub mod judge;
pub mod rules;

use portcullis_sdk::{
    Context, Evaluation, MetricSeries, MetricsQuery, Plugin, PluginInfo, export_plugin,
};

pub use config::Config;
use config::Shift;
pub use rules::RULES;

pub struct Canary;

impl Plugin for Canary {
    fn describe() -> PluginInfo {
        PluginInfo::new("canary", env!("CARGO_PKG_VERSION")).rules(RULES)
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        let config: Config = ctx.config()?;
        config.validate()?;

        // Every query of every metric, asked in one call (the host runs
        // them in parallel); a baseline shifted by the window's own length
        // needs the window first, so it goes in a second call.
        let mut queries: Vec<MetricsQuery> = Vec::new();
        let mut later: Vec<(usize, &str)> = Vec::new();
        let mut plan = Vec::with_capacity(config.metrics.len());
        for metric in &config.metrics {
            let canary = slot(&mut queries, &metric.query, 0);
            let baseline = match metric.baseline()? {
                Some((q, Shift::Seconds(s))) => Some(slot(&mut queries, q, s)),
                Some((q, Shift::Window)) => {
                    later.push((plan.len(), q));
                    None
                }
                None => None,
            };
            let traffic = metric.traffic.as_deref().map(|q| slot(&mut queries, q, 0));
            plan.push((canary, baseline, traffic));
        }
        let answer = ctx.query_metrics(&queries)?;
        let mut results = answer.results;
        if !later.is_empty() {
            let span = (answer.window.end - answer.window.start + 999) / 1000;
            let shift = u32::try_from(span).map_err(|_| "the analysis window is too long")?;
            let first = queries.len();
            let more: Vec<MetricsQuery> = later
                .iter()
                .map(|(_, q)| MetricsQuery {
                    promql: (*q).to_string(),
                    shift_seconds: shift,
                })
                .collect();
            results.extend(ctx.query_metrics(&more)?.results);
            for (i, (metric, _)) in later.iter().enumerate() {
                plan[*metric].1 = Some(first + i);
            }
        }
        let series: Vec<Result<Vec<MetricSeries>, String>> = results;
        let get = |i: usize| -> Result<&[MetricSeries], String> {
            match series.get(i) {
                Some(Ok(s)) => Ok(s.as_slice()),
                Some(Err(e)) => Err(format!("query `{}`: {e}", query_text(&queries, &later, i))),
                None => Err("the host answered fewer queries than were asked".into()),
            }
        };

        let mut out = Evaluation::default();
        for (metric, (canary, baseline, traffic)) in config.metrics.iter().zip(plan) {
            let answers = judge::Answers {
                canary: get(canary)?,
                baseline: baseline.map(get).transpose()?,
                traffic: traffic.map(get).transpose()?,
            };
            let mut verdict = judge::judge(&config, metric, &answers)?;
            verdict.properties["window"] = serde_json::json!({
                "start-ms": answer.window.start,
                "end-ms": answer.window.end,
                "step-ms": answer.window.step,
            });
            verdict.properties["verdict"] = verdict.kind.as_str().into();
            let rule = match verdict.kind {
                judge::Kind::Threshold => &rules::THRESHOLD,
                judge::Kind::Regression => &rules::REGRESSION,
                judge::Kind::Inconclusive => &rules::INCONCLUSIVE,
                judge::Kind::Healthy => &rules::HEALTHY,
            };
            out.push(
                rule.finding(verdict.message)
                    .fingerprint(format!("canary:{}", metric.name))
                    .properties(verdict.properties),
            );
        }
        Ok(out)
    }
}

/// The index of `promql` shifted by `shift` seconds in `queries`, added
/// when new (two metrics may share a traffic query).
fn slot(queries: &mut Vec<MetricsQuery>, promql: &str, shift: u32) -> usize {
    if let Some(i) = queries
        .iter()
        .position(|q| q.promql == promql && q.shift_seconds == shift)
    {
        return i;
    }
    queries.push(MetricsQuery {
        promql: promql.to_string(),
        shift_seconds: shift,
    });
    queries.len() - 1
}

fn query_text<'a>(queries: &'a [MetricsQuery], later: &[(usize, &'a str)], i: usize) -> &'a str {
    match queries.get(i) {
        Some(q) => &q.promql,
        None => later.get(i - queries.len()).map_or("", |(_, q)| q),
    }
}

export_plugin!(Canary);
