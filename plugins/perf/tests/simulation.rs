//! The perf plugin's decision rule on simulated runs (see `sim/mod.rs` for
//! the noise model): no more than 1 % false alarms on unchanged code, real
//! slowdowns caught, and the noise floor shown to be what absorbs drift.
//! The rates on more seeds are in BENCHMARKS.md
//! (`cargo run --release -p portcullis-plugin-perf --example simulate`).

mod sim;

use sim::{Bound, scenarios};

#[test]
fn false_alarms_and_detection_rates_meet_their_bounds() {
    let mut failures = Vec::new();
    for (what, rate, bound) in scenarios(2000) {
        let ok = match bound {
            Bound::AtMost(b) => rate <= b,
            Bound::AtLeast(b) => rate >= b,
            Bound::None => true,
        };
        if !ok {
            failures.push(format!("{what}: {:.2} % ({bound:?})", rate * 100.0));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
