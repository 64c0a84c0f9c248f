//! Time the perf plugin natively on 1 000 benchmarks × 100 samples per
//! side, by phase (compare with the sandboxed figure from the gate bench).
#![allow(clippy::disallowed_macros)]

use std::time::Instant;

use portcullis_plugin_perf::compare::{self, Limits};
use portcullis_plugin_perf::formats::{self, Format};

fn main() {
    let dir = tempfile::tempdir().expect("dir");
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        1.0 + ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.1
    };
    for (file, slow) in [("base.json", false), ("new.json", true)] {
        let list: Vec<serde_json::Value> = (0..1000)
            .map(|i| {
                let t = 1000.0 + i as f64 * 10.0;
                let f = if slow && i % 50 == 0 { 1.2 } else { 1.0 };
                let samples: Vec<f64> = (0..100).map(|_| t * f * noise()).collect();
                serde_json::json!({"name": format!("b{i}"), "unit": "ns", "samples": samples})
            })
            .collect();
        std::fs::write(
            dir.path().join(file),
            serde_json::json!({ "benchmarks": list }).to_string(),
        )
        .expect("write");
    }
    let t = Instant::now();
    let base =
        formats::read(Format::Json, &dir.path().join("base.json"), "base", "new").expect("base");
    let new = formats::read(Format::Json, &dir.path().join("new.json"), "new", "new").expect("new");
    let parsed = t.elapsed();
    let config: portcullis_plugin_perf::Config =
        serde_json::from_value(serde_json::json!({"benchmarks": []})).expect("config");
    let limits = Limits {
        noise_floor: 0.05,
        count_threshold: 0.01,
    };
    let pairs: Vec<_> = new
        .benchmarks
        .iter()
        .map(|(n, s)| (n.clone(), &base.benchmarks[n], s, limits))
        .collect();
    let t = Instant::now();
    let out = compare::ab(&pairs, &config);
    let compared = t.elapsed();
    let logs = |s: &formats::Series| -> Vec<f64> {
        let formats::Data::Samples(v) = &s.data else {
            return Vec::new();
        };
        let mut l: Vec<f64> = v.iter().map(|x| x.ln()).collect();
        l.sort_by(f64::total_cmp);
        l
    };
    let sides: Vec<(Vec<f64>, Vec<f64>)> = pairs.iter().map(|p| (logs(p.1), logs(p.2))).collect();
    let t = Instant::now();
    let mut acc = 0.0;
    for (b, n) in &sides {
        acc += portcullis_sdk::stats::shift(b, n, 0.99).estimate;
    }
    println!("shift alone {:?} ({acc})", t.elapsed());
    let flagged = out
        .iter()
        .filter(|c| c.verdict == compare::Verdict::Regressed)
        .count();
    println!("parse {parsed:?}, compare {compared:?}, {flagged} regressed");
}
