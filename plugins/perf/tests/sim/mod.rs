//! Simulated benchmark runs for the perf plugin's false-alarm and power
//! figures (shared by `tests/simulation.rs`, which asserts them, and
//! `examples/simulate.rs`, which prints them for BENCHMARKS.md).
//!
//! Noise model: each sample is the true time × a log-normal jitter (σ = 5 %)
//! and, for 5 % of samples, × a Pareto(α = 1.5) outlier factor (heavy
//! tailed: infinite variance, occasional 3–10× stalls). In history mode
//! each run also carries its own log-normal shift (σ = 3 %), the
//! run-to-run drift of shared CI machines.

#![allow(dead_code)]

use portcullis_plugin_perf::compare::{self, Limits, Verdict};
use portcullis_plugin_perf::config::Config;
use portcullis_plugin_perf::formats::Series;

/// SplitMix64: small, fast, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    pub fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    pub fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    /// One noisy sample of a benchmark whose true time is `t`.
    pub fn sample(&mut self, t: f64) -> f64 {
        let mut x = t * (0.05 * self.normal()).exp();
        if self.uniform() < 0.05 {
            x *= self.uniform().powf(-1.0 / 1.5);
        }
        x
    }

    pub fn samples(&mut self, t: f64, n: usize) -> Vec<f64> {
        (0..n).map(|_| self.sample(t)).collect()
    }
}

pub fn config(extra: serde_json::Value) -> Config {
    let mut v = serde_json::json!({"benchmarks": []});
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    serde_json::from_value(v).expect("config")
}

fn limits(c: &Config) -> Limits {
    Limits {
        noise_floor: c.noise_floor / 100.0,
        count_threshold: c.count_threshold / 100.0,
    }
}

/// A/B: the fraction of `seeds` single-benchmark comparisons flagged as
/// regressed, with `n` samples per side, the new side `slowdown` slower and
/// additionally shifted by `drift` (a difference between the two halves of
/// a job that is not the change's doing).
pub fn ab_rate(seeds: u64, n: usize, slowdown: f64, drift: f64, c: &Config) -> f64 {
    let mut flagged = 0;
    for seed in 0..seeds {
        let mut rng = Rng::new(seed);
        let base = Series::time(rng.samples(1000.0, n));
        let new = Series::time(rng.samples(1000.0 * (1.0 + slowdown) * (1.0 + drift), n));
        let out = compare::ab(&[("b".into(), &base, &new, limits(c))], c);
        if out[0].verdict == Verdict::Regressed {
            flagged += 1;
        }
    }
    flagged as f64 / seeds as f64
}

/// A/B over suites of `size` unchanged benchmarks (corrected together):
/// the fraction of all benchmarks flagged.
pub fn ab_suite_rate(seeds: u64, size: usize, n: usize, c: &Config) -> f64 {
    let mut flagged = 0;
    for seed in 0..seeds {
        let mut rng = Rng::new(1_000_000 + seed);
        let sides: Vec<(Series, Series)> = (0..size)
            .map(|i| {
                let t = 100.0 * (i + 1) as f64;
                (
                    Series::time(rng.samples(t, n)),
                    Series::time(rng.samples(t, n)),
                )
            })
            .collect();
        let pairs: Vec<_> = sides
            .iter()
            .enumerate()
            .map(|(i, (b, n))| (format!("b{i}"), b, n, limits(c)))
            .collect();
        flagged += compare::ab(&pairs, c)
            .iter()
            .filter(|x| x.verdict == Verdict::Regressed)
            .count();
    }
    flagged as f64 / (seeds as usize * size) as f64
}

/// History mode: `runs` past runs and one new run of `n` samples each,
/// every run shifted by its own log-normal drift (σ = `drift`); the new
/// run is `slowdown` slower. Returns the fraction flagged as regressed.
pub fn history_rate(
    seeds: u64,
    runs: usize,
    n: usize,
    slowdown: f64,
    drift: f64,
    c: &Config,
) -> f64 {
    let mut flagged = 0;
    for seed in 0..seeds {
        let mut rng = Rng::new(2_000_000 + seed);
        let run = |rng: &mut Rng, t: f64| {
            let shift = (drift * rng.normal()).exp();
            Series::time(rng.samples(t * shift, n))
        };
        let past: Vec<Series> = (0..runs).map(|_| run(&mut rng, 1000.0)).collect();
        let new = run(&mut rng, 1000.0 * (1.0 + slowdown));
        let refs: Vec<&Series> = past.iter().collect();
        if compare::history("b", &refs, &new, limits(c), c).verdict == Verdict::Regressed {
            flagged += 1;
        }
    }
    flagged as f64 / seeds as f64
}

/// What a scenario's rate must satisfy.
#[derive(Debug, Clone, Copy)]
pub enum Bound {
    AtMost(f64),
    AtLeast(f64),
    /// Reported, not required.
    None,
}

/// Every scenario of BENCHMARKS.md with its measured rate on `seeds` seeds.
pub fn scenarios(seeds: u64) -> Vec<(&'static str, f64, Bound)> {
    use serde_json::json;
    let c = config(json!({}));
    let iqr = config(json!({"history": {"method": "iqr"}}));
    let off = config(json!({"noise-floor": 0}));
    let suites = (seeds / 25).max(20);
    vec![
        (
            "A/A, 100 samples per side",
            ab_rate(seeds, 100, 0.0, 0.0, &c),
            Bound::AtMost(0.01),
        ),
        (
            "A/A, 10 samples per side",
            ab_rate(seeds, 10, 0.0, 0.0, &c),
            Bound::AtMost(0.01),
        ),
        (
            "A/A, 100 samples, 3 % drift between sides",
            ab_rate(seeds, 100, 0.0, 0.03, &c),
            Bound::AtMost(0.01),
        ),
        (
            "A/A, same, noise floor off",
            ab_rate(seeds, 100, 0.0, 0.03, &off),
            Bound::AtLeast(0.5),
        ),
        (
            "A/A, suites of 50 benchmarks (Holm), per benchmark",
            ab_suite_rate(suites, 50, 100, &c),
            Bound::AtMost(0.01),
        ),
        (
            "history A/A, 20 runs, 3 % run drift",
            history_rate(seeds, 20, 50, 0.0, 0.03, &c),
            Bound::AtMost(0.01),
        ),
        (
            "history A/A, 10 runs, 3 % run drift",
            history_rate(seeds, 10, 50, 0.0, 0.03, &c),
            Bound::AtMost(0.01),
        ),
        (
            "history A/A, 20 runs, IQR fence (k = 3)",
            history_rate(seeds, 20, 50, 0.0, 0.03, &iqr),
            Bound::AtMost(0.01),
        ),
        (
            "10 % slowdown, 100 samples per side",
            ab_rate(seeds, 100, 0.10, 0.0, &c),
            Bound::AtLeast(0.95),
        ),
        (
            "25 % slowdown, 10 samples per side",
            ab_rate(seeds, 10, 0.25, 0.0, &c),
            Bound::AtLeast(0.90),
        ),
        (
            "6 % slowdown, 100 samples per side",
            ab_rate(seeds, 100, 0.06, 0.0, &c),
            Bound::None,
        ),
        (
            "history, 15 % slowdown, 20 runs",
            history_rate(seeds, 20, 50, 0.15, 0.03, &c),
            Bound::AtLeast(0.90),
        ),
        (
            "history, 10 % slowdown, 20 runs",
            history_rate(seeds, 20, 50, 0.10, 0.03, &c),
            Bound::None,
        ),
    ]
}
