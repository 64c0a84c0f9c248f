//! The canary plugin's verdicts under the native harness, with the answers
//! a Prometheus would give (the e2e tests run the real server).

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use portcullis_plugin_canary::{Canary, RULES};
use portcullis_sdk::testing::{Harness, assert_rules_well_formed};
use portcullis_sdk::{Evaluation, MetricSeries, MetricsQuery, MetricsWindow, NativeMetrics};
use serde_json::json;

const WINDOW: MetricsWindow = MetricsWindow {
    start: 1_767_226_800_000,
    end: 1_767_227_400_000,
    step: 30_000,
};

fn series(values: &[f64]) -> MetricSeries {
    MetricSeries {
        labels: vec![],
        samples: values
            .iter()
            .enumerate()
            .map(|(i, v)| (WINDOW.start + i as i64 * 30_000, *v))
            .collect(),
    }
}

fn q(promql: &str, shift: u32) -> MetricsQuery {
    MetricsQuery {
        promql: promql.into(),
        shift_seconds: shift,
    }
}

/// Samples around `center`, spread by ±`spread`, deterministic.
fn around(center: f64, spread: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| center + spread * (((i * 37) % 11) as f64 / 10.0 - 0.5))
        .collect()
}

fn run(
    config: serde_json::Value,
    answers: Vec<(MetricsQuery, Result<Vec<MetricSeries>, String>)>,
) -> Result<Evaluation, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    Harness::new(dir.path())
        .config(config)
        .metrics(NativeMetrics {
            window: WINDOW,
            answers,
        })
        .run::<Canary>()
}

fn verdicts(eval: &Evaluation) -> Vec<(String, String)> {
    eval.findings
        .iter()
        .map(|f| (f.rule_id.clone(), f.message.clone()))
        .collect()
}

#[test]
fn rules_are_well_formed() {
    assert_rules_well_formed(RULES);
}

#[test]
fn a_throughput_drop_is_a_regression_and_a_tiny_significant_shift_is_not() {
    let config = json!({"metrics": [
        {"name": "throughput", "unit": "number", "query": "c", "baseline": "b", "max-decrease": 0.1},
        {"name": "cpu", "query": "cc", "baseline": "cb", "max-increase": 0.1, "min-difference": 0.5},
    ]});
    let eval = run(
        config,
        vec![
            (q("c", 0), Ok(vec![series(&around(80.0, 4.0, 20))])),
            (q("b", 0), Ok(vec![series(&around(100.0, 4.0, 20))])),
            // 0.2 higher on a median of 1: 20 % and significant, but under
            // the 0.5 floor.
            (q("cc", 0), Ok(vec![series(&around(1.2, 0.01, 20))])),
            (q("cb", 0), Ok(vec![series(&around(1.0, 0.01, 20))])),
        ],
    )
    .expect("evaluates");
    let v = verdicts(&eval);
    assert_eq!(v[0].0, "regression", "{v:?}");
    assert!(
        v[0].1.starts_with(
            "throughput 80 on canary vs 100 on baseline (medians): 20 % lower, allowed 10 %"
        ),
        "{v:?}"
    );
    assert_eq!(v[1].0, "healthy", "{v:?}");
}

#[test]
fn no_data_many_series_and_nan_samples() {
    let config =
        json!({"metrics": [{"name": "errors", "unit": "ratio", "query": "c", "max": 0.01}]});
    // No series for a required metric: the run fails closed.
    let e = run(config.clone(), vec![(q("c", 0), Ok(vec![]))]).unwrap_err();
    assert!(e.contains("returned no data in the window"), "{e}");
    // Several series: the query must aggregate.
    let e = run(
        config.clone(),
        vec![(
            q("c", 0),
            Ok(vec![series(&[0.0]), series(&[0.0]), series(&[0.0])]),
        )],
    )
    .unwrap_err();
    assert!(e.contains("returned 3 series"), "{e}");
    // NaN (0/0 without traffic) samples are not samples.
    let mut values = vec![f64::NAN; 15];
    values.extend([0.002; 5]);
    let eval = run(config.clone(), vec![(q("c", 0), Ok(vec![series(&values)]))]).unwrap();
    assert_eq!(
        verdicts(&eval),
        vec![(
            "inconclusive".into(),
            "errors: 5 samples on canary (15 more were NaN: no traffic?), at least 10 needed"
                .into()
        )]
    );
    // A metric that may have no data is inconclusive without it.
    let optional =
        json!({"metrics": [{"name": "errors", "query": "c", "max": 0.01, "required": false}]});
    let eval = run(optional, vec![(q("c", 0), Ok(vec![]))]).unwrap();
    assert_eq!(verdicts(&eval)[0].0, "inconclusive");
    // A failed query fails the evaluation, naming it.
    let e = run(config, vec![(q("c", 0), Err("answered HTTP 503".into()))]).unwrap_err();
    assert_eq!(e, "query `c`: answered HTTP 503");
}

#[test]
fn a_baseline_before_the_window_is_the_same_query_shifted_by_its_length() {
    let config = json!({"metrics": [
        {"name": "latency", "unit": "seconds", "query": "c", "baseline-shift": "window", "max-increase": 0.2},
        {"name": "latency last week", "unit": "seconds", "query": "c", "baseline-shift": "7d", "max-increase": 0.2},
    ]});
    let eval = run(
        config,
        vec![
            (q("c", 0), Ok(vec![series(&around(0.3, 0.02, 20))])),
            (q("c", 600), Ok(vec![series(&around(0.2, 0.02, 20))])),
            (q("c", 604_800), Ok(vec![series(&around(0.3, 0.02, 20))])),
        ],
    )
    .expect("evaluates");
    let v = verdicts(&eval);
    assert_eq!(v[0].0, "regression", "{v:?}");
    assert!(
        v[0].1
            .starts_with("latency 300 ms on canary vs 200 ms on baseline (medians): 50 % higher"),
        "{v:?}"
    );
    assert_eq!(v[1].0, "healthy", "{v:?}");
}

#[test]
fn configs_that_cannot_judge_are_refused() {
    for (config, error) in [
        (
            json!({"metrics": []}),
            "config.metrics: list at least one metric",
        ),
        (
            json!({"metrics": [{"name": "e", "query": "c", "max-increase": 0.1}]}),
            "config.metrics[0]: max-increase and max-decrease compare with a baseline",
        ),
        (
            json!({"metrics": [{"name": "e", "query": "c"}]}),
            "config.metrics[0]: nothing to judge",
        ),
        (
            json!({"metrics": [{"name": "e", "query": "c", "max": 1, "traffic": "t"}]}),
            "config.metrics[0]: `traffic` (the query) and `min-traffic` go together",
        ),
        (
            json!({"metrics": [{"name": "e", "query": "c", "baseline": "c", "max-increase": 0.1}]}),
            "compares it with itself",
        ),
        (
            json!({"metrics": [{"name": "e", "query": "c", "max": 1, "baseline-shift": "soon"}]}),
            "config.metrics[0].baseline-shift: `soon` is not a duration",
        ),
        (
            json!({"metrics": [{"name": "e", "query": "c", "max": 1, "typo": 1}]}),
            "unknown field `typo`",
        ),
    ] {
        let e = run(config, vec![]).unwrap_err();
        assert!(e.contains(error), "{e} (wanted {error})");
    }
}

#[test]
fn limits_hold_whatever_the_baseline_and_non_numbers_are_never_healthy() {
    let config = json!({"metrics": [
        {"name": "errors", "unit": "ratio", "query": "c", "baseline": "b", "max": 0.01, "max-increase": 0.5},
    ]});
    // A baseline too thin to compare with does not hide a breached limit.
    let eval = run(
        config.clone(),
        vec![
            (q("c", 0), Ok(vec![series(&around(0.2, 0.01, 20))])),
            (q("b", 0), Ok(vec![series(&around(0.003, 0.001, 3))])),
        ],
    )
    .unwrap();
    assert_eq!(verdicts(&eval)[0].0, "threshold", "{:?}", verdicts(&eval));
    // +Inf and -Inf samples average to NaN: not a number to judge.
    let mut values = around(0.002, 0.001, 18);
    values.extend([f64::INFINITY, f64::NEG_INFINITY]);
    let eval = run(
        config,
        vec![
            (q("c", 0), Ok(vec![series(&values)])),
            (q("b", 0), Ok(vec![series(&around(0.003, 0.001, 20))])),
        ],
    )
    .unwrap();
    assert_eq!(
        verdicts(&eval)[0].0,
        "inconclusive",
        "{:?}",
        verdicts(&eval)
    );
    // And inconclusive fails the gate unless the policy says otherwise.
    assert_eq!(eval.findings[0].level, None);
    assert_eq!(
        portcullis_plugin_canary::rules::INCONCLUSIVE
            .rule()
            .default_level,
        portcullis_sdk::Level::Error
    );
}
