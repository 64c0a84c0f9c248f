//! Print the perf plugin's false-alarm and detection rates on simulated
//! runs (the figures in BENCHMARKS.md).
#![allow(clippy::disallowed_macros)]

#[path = "../tests/sim/mod.rs"]
mod sim;

use serde_json::json;
use sim::{ab_rate, ab_suite_rate, config, history_rate};

fn main() {
    let seeds = 5000;
    let c = config(json!({}));
    let iqr = config(json!({"history": {"method": "iqr"}}));
    let off = config(json!({"noise-floor": 0}));
    let rows: Vec<(&str, f64)> = vec![
        (
            "A/A, 100 samples per side",
            ab_rate(seeds, 100, 0.0, 0.0, &c),
        ),
        ("A/A, 10 samples per side", ab_rate(seeds, 10, 0.0, 0.0, &c)),
        (
            "A/A, 100 samples, 3 % drift between sides",
            ab_rate(seeds, 100, 0.0, 0.03, &c),
        ),
        (
            "A/A, same, noise floor off",
            ab_rate(seeds, 100, 0.0, 0.03, &off),
        ),
        (
            "A/A, suites of 50 benchmarks (Holm), per benchmark",
            ab_suite_rate(200, 50, 100, &c),
        ),
        (
            "history A/A, 20 runs, 3 % run drift",
            history_rate(seeds, 20, 50, 0.0, 0.03, &c),
        ),
        (
            "history A/A, 10 runs, 3 % run drift",
            history_rate(seeds, 10, 50, 0.0, 0.03, &c),
        ),
        (
            "history A/A, 20 runs, IQR fence (k = 3)",
            history_rate(seeds, 20, 50, 0.0, 0.03, &iqr),
        ),
        (
            "10 % slowdown, 100 samples per side",
            ab_rate(seeds, 100, 0.10, 0.0, &c),
        ),
        (
            "25 % slowdown, 10 samples per side",
            ab_rate(seeds, 10, 0.25, 0.0, &c),
        ),
        (
            "6 % slowdown, 100 samples per side",
            ab_rate(seeds, 100, 0.06, 0.0, &c),
        ),
        (
            "history, 15 % slowdown, 20 runs",
            history_rate(seeds, 20, 50, 0.15, 0.03, &c),
        ),
        (
            "history, 10 % slowdown, 20 runs",
            history_rate(seeds, 20, 50, 0.10, 0.03, &c),
        ),
    ];
    println!("| scenario | flagged as regressed |\n| --- | ---: |");
    for (what, rate) in rows {
        println!("| {what} | {:.2} % |", rate * 100.0);
    }
}
