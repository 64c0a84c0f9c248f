//! The perf plugin's decision rule on simulated runs (see `sim/mod.rs` for
//! the noise model): no more than 1 % false alarms on unchanged code, and
//! real slowdowns caught. The measured rates are in BENCHMARKS.md
//! (`cargo run --release -p portcullis-plugin-perf --example simulate`).

mod sim;

use serde_json::json;
use sim::{ab_rate, ab_suite_rate, config, history_rate};

const SEEDS: u64 = 2000;

#[test]
fn unchanged_code_raises_at_most_one_percent_false_alarms() {
    let c = config(json!({}));
    for (what, rate) in [
        ("A/A, 100 samples", ab_rate(SEEDS, 100, 0.0, 0.0, &c)),
        ("A/A, 10 samples", ab_rate(SEEDS, 10, 0.0, 0.0, &c)),
        (
            "A/A, 100 samples, 3 % drift",
            ab_rate(SEEDS, 100, 0.0, 0.03, &c),
        ),
        (
            "A/A suites of 50, 100 samples",
            ab_suite_rate(100, 50, 100, &c),
        ),
        (
            "history, 20 runs, 3 % drift",
            history_rate(SEEDS, 20, 50, 0.0, 0.03, &c),
        ),
        (
            "history, 10 runs, 3 % drift",
            history_rate(SEEDS, 10, 50, 0.0, 0.03, &c),
        ),
    ] {
        assert!(rate <= 0.01, "{what}: {:.2} % false alarms", rate * 100.0);
    }
    let iqr = config(json!({"history": {"method": "iqr"}}));
    let rate = history_rate(SEEDS, 20, 50, 0.0, 0.03, &iqr);
    assert!(
        rate <= 0.01,
        "history (IQR), 20 runs: {:.2} %",
        rate * 100.0
    );
}

#[test]
fn without_the_noise_floor_drift_would_alarm() {
    // The floor is what absorbs a 3 % drift between the halves of a job:
    // with it off, 100 samples per side detect the drift itself.
    let c = config(json!({"noise-floor": 0}));
    let rate = ab_rate(500, 100, 0.0, 0.03, &c);
    assert!(rate > 0.5, "{:.1} %", rate * 100.0);
}

#[test]
fn real_slowdowns_are_caught() {
    let c = config(json!({}));
    let rate = ab_rate(SEEDS, 100, 0.10, 0.0, &c);
    assert!(
        rate >= 0.95,
        "10 % slowdown, 100 samples: caught {:.1} %",
        rate * 100.0
    );
    let rate = ab_rate(SEEDS, 10, 0.25, 0.0, &c);
    assert!(
        rate >= 0.90,
        "25 % slowdown, 10 samples: caught {:.1} %",
        rate * 100.0
    );
    let rate = history_rate(SEEDS, 20, 50, 0.15, 0.03, &c);
    assert!(
        rate >= 0.90,
        "history, 15 % slowdown: caught {:.1} %",
        rate * 100.0
    );
}
