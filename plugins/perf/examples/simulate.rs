//! Print the perf plugin's false-alarm and detection rates on simulated
//! runs (the figures in BENCHMARKS.md).
#![allow(clippy::disallowed_macros)]

#[path = "../tests/sim/mod.rs"]
mod sim;

fn main() {
    println!("| scenario | flagged as regressed |\n| --- | ---: |");
    for (what, rate, _) in sim::scenarios(5000) {
        println!("| {what} | {:.2} % |", rate * 100.0);
    }
}
