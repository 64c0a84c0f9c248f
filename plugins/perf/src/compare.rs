//! Compare benchmarks: A/B against a baseline run (Mann-Whitney on
//! log-times, Hodges-Lehmann interval of the ratio, corrected across
//! benchmarks, and a noise floor), or against a history of past runs
//! (prediction interval or IQR fence on log-time). Deterministic counts are
//! compared on a plain threshold in both modes.

use crate::config::{Config, Correction, Method};
use crate::formats::{Data, Kind, Series};
use portcullis_sdk::stats;

/// What a comparison concluded.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Regressed,
    Improved,
    Unchanged,
    /// No verdict could be reached; the reason says why.
    Inconclusive(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Against one baseline run.
    Ab,
    /// Against this many past runs.
    History(usize),
}

/// One benchmark's comparison, with everything a finding reports.
#[derive(Debug, Clone)]
pub struct Comparison {
    pub name: String,
    pub kind: Kind,
    pub mode: Mode,
    /// Baseline median (A/B) or the median of the past runs' medians.
    pub base: f64,
    pub new: f64,
    /// Estimated relative change (0.1 = 10 % slower / larger).
    pub change: f64,
    /// Interval of the relative change: the confidence interval (A/B) or
    /// the prediction interval's bounds relative to `base` (history).
    pub interval: Option<(f64, f64)>,
    pub p: Option<f64>,
    /// `p` after the correction across benchmarks (A/B on time only).
    pub p_adjusted: Option<f64>,
    pub n_base: usize,
    pub n_new: usize,
    /// The noise floor or count threshold applied, as a fraction.
    pub threshold: f64,
    pub verdict: Verdict,
}

/// Per-benchmark settings after overrides.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub noise_floor: f64,
    pub count_threshold: f64,
}

/// A/B comparison of every benchmark pair; `pairs` holds (name, baseline,
/// new, limits). Corrections apply across the time benchmarks of the call.
pub fn ab(pairs: &[(String, &Series, &Series, Limits)], config: &Config) -> Vec<Comparison> {
    let confidence = 1.0 - config.alpha;
    let mut out: Vec<Comparison> = pairs
        .iter()
        .map(|(name, base, new, limits)| ab_one(name, base, new, *limits, confidence, config.alpha))
        .collect();
    // Correct the p-values of the time comparisons that reached a test.
    let tested: Vec<usize> = (0..out.len())
        .filter(|&i| out[i].kind == Kind::Time && out[i].p.is_some())
        .collect();
    let p: Vec<f64> = tested.iter().filter_map(|&i| out[i].p).collect();
    let adjusted = match config.correction {
        Correction::Holm => stats::holm(&p),
        Correction::BenjaminiHochberg => stats::benjamini_hochberg(&p),
        Correction::None => p.clone(),
    };
    for (&i, q) in tested.iter().zip(adjusted) {
        let c = &mut out[i];
        c.p_adjusted = Some(q);
        let (low, high) = c.interval.unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
        c.verdict = if q >= config.alpha {
            Verdict::Unchanged
        } else if low > c.threshold {
            Verdict::Regressed
        } else if high < -c.threshold / (1.0 + c.threshold) {
            Verdict::Improved
        } else {
            Verdict::Unchanged
        };
    }
    out
}

fn ab_one(
    name: &str,
    base: &Series,
    new: &Series,
    limits: Limits,
    confidence: f64,
    alpha: f64,
) -> Comparison {
    // The medians are set by each branch below, from what it computes anyway.
    let mut c = Comparison {
        name: name.to_string(),
        kind: new.kind.clone(),
        mode: Mode::Ab,
        base: f64::NAN,
        new: f64::NAN,
        change: 0.0,
        interval: None,
        p: None,
        p_adjusted: None,
        n_base: base.count(),
        n_new: new.count(),
        threshold: limits.noise_floor,
        verdict: Verdict::Unchanged,
    };
    if let Kind::Count(_) = c.kind {
        c.base = base.center();
        c.new = new.center();
        c.change = relative(c.base, c.new);
        c.threshold = limits.count_threshold;
        c.verdict = threshold_verdict(c.change, c.threshold);
        return c;
    }
    match (&base.data, &new.data) {
        (Data::Samples(b), Data::Samples(n)) => {
            let (sb, sn) = (sorted(b), sorted(n));
            c.base = stats::quantile_sorted(&sb, 0.5);
            c.new = stats::quantile_sorted(&sn, 0.5);
            // ln is monotonic: the logs of sorted samples are sorted.
            let lb: Vec<f64> = sb.iter().map(|x| x.max(f64::MIN_POSITIVE).ln()).collect();
            let ln: Vec<f64> = sn.iter().map(|x| x.max(f64::MIN_POSITIVE).ln()).collect();
            let s = stats::shift(&lb, &ln, confidence);
            c.change = s.estimate.exp_m1();
            if s.p_min >= alpha {
                c.verdict = Verdict::Inconclusive(format!(
                    "{} and {} samples cannot reach significance at alpha {alpha}",
                    b.len(),
                    n.len()
                ));
                return c;
            }
            c.interval = Some((s.low.exp_m1(), s.high.exp_m1()));
            c.p = Some(s.p);
        }
        _ => {
            // An estimate on either side: a z-test on the log ratio with the
            // standard errors (delta method).
            let (b, sb) = estimate(base);
            let (n, sn) = estimate(new);
            (c.base, c.new) = (b, n);
            let se = ((sb / b).powi(2) + (sn / n).powi(2)).sqrt();
            if se.is_nan() || se <= 0.0 || b <= 0.0 || n <= 0.0 {
                c.verdict = Verdict::Inconclusive(
                    "no spread is known for these results (no samples, no standard error)".into(),
                );
                return c;
            }
            let d = (n / b).ln();
            let z = stats::normal_quantile(0.5 + confidence / 2.0);
            c.change = d.exp_m1();
            c.interval = Some(((d - z * se).exp_m1(), (d + z * se).exp_m1()));
            c.p = Some((2.0 * stats::normal_sf(d.abs() / se)).min(1.0));
        }
    }
    c
}

/// A series as (point, standard error): samples give their median and the
/// median's asymptotic standard error (1.2533 σ / √n).
fn estimate(s: &Series) -> (f64, f64) {
    match &s.data {
        Data::Estimate { point, se } => (*point, *se),
        Data::Samples(v) => (
            stats::median(v),
            1.2533 * stats::std_dev(v) / (v.len() as f64).sqrt(),
        ),
    }
}

/// History mode: `past` holds the benchmark's series from each past run
/// (oldest first).
pub fn history(
    name: &str,
    past: &[&Series],
    new: &Series,
    limits: Limits,
    config: &Config,
) -> Comparison {
    let h = &config.history;
    let logs: Vec<f64> = past
        .iter()
        .map(|s| s.center().max(f64::MIN_POSITIVE).ln())
        .collect();
    let mut sorted = logs.clone();
    sorted.sort_by(f64::total_cmp);
    let base = stats::median(&sorted).exp();
    let mut c = Comparison {
        name: name.to_string(),
        kind: new.kind.clone(),
        mode: Mode::History(past.len()),
        base,
        new: new.center(),
        change: 0.0,
        interval: None,
        p: None,
        p_adjusted: None,
        n_base: past.len(),
        n_new: new.count(),
        threshold: limits.noise_floor,
        verdict: Verdict::Unchanged,
    };
    c.change = relative(base, c.new);
    if let Kind::Count(_) = c.kind {
        // Deterministic: the newest past run is the baseline.
        let Some(last) = past.last() else {
            c.change = 0.0;
            c.verdict = Verdict::Inconclusive("no past run holds this benchmark".into());
            return c;
        };
        c.base = last.center();
        c.change = relative(c.base, c.new);
        c.threshold = limits.count_threshold;
        c.verdict = threshold_verdict(c.change, c.threshold);
        return c;
    }
    if past.len() < h.min_runs.max(2) {
        c.verdict = Verdict::Inconclusive(format!(
            "{} past run{} hold this benchmark, {} needed",
            past.len(),
            if past.len() == 1 { "" } else { "s" },
            h.min_runs.max(2)
        ));
        return c;
    }
    let x = c.new.max(f64::MIN_POSITIVE).ln();
    let center = base.ln();
    let (low, high) = match h.method {
        Method::PredictionInterval => {
            let n = logs.len() as f64;
            let mu = stats::mean(&logs);
            let sd = stats::std_dev(&logs);
            let scale = sd * (1.0 + 1.0 / n).sqrt();
            let t = stats::t_quantile(0.5 + h.confidence / 2.0, n - 1.0);
            if scale > 0.0 {
                c.p = Some((2.0 * stats::t_sf((x - mu).abs() / scale, n - 1.0)).min(1.0));
            }
            (mu - t * scale, mu + t * scale)
        }
        Method::Iqr => {
            let iqr = stats::quantile_sorted(&sorted, 0.75) - stats::quantile_sorted(&sorted, 0.25);
            (center - h.iqr_k * iqr, center + h.iqr_k * iqr)
        }
    };
    c.interval = Some(((low - center).exp_m1(), (high - center).exp_m1()));
    c.verdict = if x > high && c.change > c.threshold {
        Verdict::Regressed
    } else if x < low && c.change < -c.threshold / (1.0 + c.threshold) {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    };
    c
}

fn threshold_verdict(change: f64, threshold: f64) -> Verdict {
    if change > threshold {
        Verdict::Regressed
    } else if change < -threshold {
        Verdict::Improved
    } else {
        Verdict::Unchanged
    }
}

fn relative(base: f64, new: f64) -> f64 {
    if base > 0.0 {
        new / base - 1.0
    } else if new > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut s = v.to_vec();
    s.sort_unstable_by(f64::total_cmp);
    s
}
