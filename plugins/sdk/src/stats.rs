//! The statistics behind the perf and canary plugins' decisions, on plain
//! `f64` slices: order statistics, the Mann-Whitney U test with the Hodges-Lehmann shift
//! and its distribution-free confidence interval, Holm and Benjamini-Hochberg
//! adjustments, and the normal and Student-t distributions they need.
//!
//! The perf plugin compares log-times, so a shift is a ratio; the canary
//! plugin compares a metric's samples as they are (an error ratio can be 0).

/// The median of `v` (sorted or not); NaN for an empty slice.
pub fn median(v: &[f64]) -> f64 {
    quantile(v, 0.5)
}

/// The `q` quantile of `v` with linear interpolation (type 7, as R and
/// numpy's default); NaN for an empty slice.
pub fn quantile(v: &[f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    quantile_sorted(&s, q)
}

pub fn quantile_sorted(s: &[f64], q: f64) -> f64 {
    if s.is_empty() {
        return f64::NAN;
    }
    let h = (s.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    s[lo] + (h - lo as f64) * (s[hi] - s[lo])
}

pub fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Sample standard deviation (n − 1).
pub fn std_dev(v: &[f64]) -> f64 {
    if v.len() < 2 {
        return 0.0;
    }
    let m = mean(v);
    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
}

/// The two-sample comparison of `new` against `base` (both sorted,
/// ascending): the Mann-Whitney U test and the Hodges-Lehmann estimate of
/// the shift `new − base` with its confidence interval.
#[derive(Debug, Clone, Copy)]
pub struct Shift {
    /// Hodges-Lehmann estimate: the median of all pairwise differences.
    pub estimate: f64,
    /// Confidence interval of the shift at the requested level; infinite
    /// bounds when the samples are too small for that level.
    pub low: f64,
    pub high: f64,
    /// Two-sided p-value of the Mann-Whitney U test (normal approximation
    /// with tie and continuity corrections).
    pub p: f64,
    /// The smallest two-sided p-value these sample sizes can produce
    /// (complete separation): when it is not below alpha, no test can be
    /// significant and the comparison is inconclusive.
    pub p_min: f64,
}

/// Compare two sorted samples. `confidence` is the interval's level (e.g.
/// 0.99).
pub fn shift(base: &[f64], new: &[f64], confidence: f64) -> Shift {
    debug_assert!(base.is_sorted_by(|a, b| a <= b) && new.is_sorted_by(|a, b| a <= b));
    let (n, m) = (base.len() as f64, new.len() as f64);
    let nm = n * m;
    let (u, ties) = mann_whitney_u(base, new);
    let total = n + m;
    let var = nm / 12.0 * ((total + 1.0) - ties / (total * (total - 1.0)));
    let p = if var <= 0.0 {
        1.0
    } else {
        let d = (u - nm / 2.0).abs() - 0.5;
        (2.0 * normal_sf(d.max(0.0) / var.sqrt())).min(1.0)
    };
    let var0 = nm * (total + 1.0) / 12.0;
    let p_min = (2.0 * normal_sf(((nm / 2.0) - 0.5) / var0.sqrt())).min(1.0);
    let pairs = base.len() as u64 * new.len() as u64;
    let z = normal_quantile(0.5 + confidence / 2.0);
    let c = (nm / 2.0 - z * var0.sqrt()).floor();
    let (low, high) = if c < 1.0 {
        (f64::NEG_INFINITY, f64::INFINITY)
    } else {
        let k = c as u64;
        (
            kth_difference(base, new, k),
            kth_difference(base, new, pairs - k + 1),
        )
    };
    let estimate = median_difference(base, new);
    Shift {
        estimate,
        low,
        high,
        p,
        p_min,
    }
}

/// U statistic of `new` (pairs where new > base, ties counting a half) and
/// the tie term Σ(t³ − t) over groups of equal values.
fn mann_whitney_u(base: &[f64], new: &[f64]) -> (f64, f64) {
    let (mut i, mut j) = (0, 0);
    let mut u = 0.0;
    let mut ties = 0.0;
    while i < base.len() || j < new.len() {
        let v = match (base.get(i), new.get(j)) {
            (Some(a), Some(b)) => a.min(*b),
            (Some(a), None) => *a,
            (None, Some(b)) => *b,
            (None, None) => unreachable!(),
        };
        let (i0, j0) = (i, j);
        while i < base.len() && base[i] == v {
            i += 1;
        }
        while j < new.len() && new[j] == v {
            j += 1;
        }
        let (bt, nt) = ((i - i0) as f64, (j - j0) as f64);
        // Each new value in this group beats every base value below it and
        // ties with the base values equal to it.
        u += nt * (i0 as f64 + bt / 2.0);
        let t = bt + nt;
        ties += t * t * t - t;
    }
    (u, ties)
}

/// How many pairwise differences `new[j] − base[i]` are at most `v`, in
/// one branch-free merge over the sorted inputs.
fn count_at_most(base: &[f64], new: &[f64], v: f64) -> u64 {
    let (n, m) = (base.len(), new.len());
    let (mut i, mut j) = (0usize, 0usize);
    let mut count = 0u64;
    // For ascending base[i], base[i] + v ascends: the bound on new moves
    // right. Each step either admits new[j] or settles base[i].
    while i < n && j < m {
        let admit = new[j] <= base[i] + v;
        j += admit as usize;
        count += (!admit) as u64 * j as u64;
        i += (!admit) as usize;
    }
    count + (n - i) as u64 * j as u64
}

/// The k-th smallest (1-based) of the n·m differences `new[j] − base[i]`,
/// exactly, without materialising them.
pub fn kth_difference(base: &[f64], new: &[f64], k: u64) -> f64 {
    ranked_differences(base, new, k, k)[0]
}

/// The differences of ranks `k1..=k2` (1-based, `k1 <= k2`), exactly.
///
/// Narrows a value bracket `(lo, hi]` around those ranks with O(n + m)
/// counts, each aimed by interpolating the count (the differences' CDF is
/// smooth, so two or three rounds usually suffice), then lists the few
/// differences left in the bracket and sorts them.
fn ranked_differences(base: &[f64], new: &[f64], k1: u64, k2: u64) -> Vec<f64> {
    let (Some(&b0), Some(&b1), Some(&n0), Some(&n1)) =
        (base.first(), base.last(), new.first(), new.last())
    else {
        return vec![f64::NAN; (k2 - k1 + 1) as usize];
    };
    const FEW: u64 = 256;
    // Invariant: count(lo) < k1 and count(hi) >= k2.
    let mut lo = n0 - b1;
    let mut c_lo = count_at_most(base, new, lo);
    if c_lo >= k1 {
        // k1 is the smallest difference; start below it.
        lo = f64::NEG_INFINITY;
        c_lo = 0;
    }
    let mut hi = n1 - b0;
    let mut c_hi = base.len() as u64 * new.len() as u64;
    for _ in 0..64 {
        if c_hi - c_lo <= FEW + (k2 - k1) || !lo.is_finite() {
            break;
        }
        // Aim just below k1 and just above k2, so one round shrinks the
        // bracket from both sides.
        let margin = (c_hi - c_lo) / 32 + 16;
        let span = (c_hi - c_lo) as f64;
        let mut narrowed = false;
        for target in [
            k1.saturating_sub(margin).max(c_lo + 1),
            (k2 + margin).min(c_hi),
        ] {
            let v = lo + (hi - lo) * ((target - c_lo) as f64 / span);
            if !(v > lo && v < hi) {
                continue;
            }
            let c = count_at_most(base, new, v);
            if c < k1 && c > c_lo {
                (lo, c_lo) = (v, c);
                narrowed = true;
            } else if c >= k2 && c < c_hi {
                (hi, c_hi) = (v, c);
                narrowed = true;
            }
        }
        if !narrowed {
            // Interpolation missed (a very uneven CDF): halve instead.
            let v = lo + (hi - lo) / 2.0;
            if !(v > lo && v < hi) {
                break;
            }
            let c = count_at_most(base, new, v);
            if c < k1 {
                (lo, c_lo) = (v, c);
            } else {
                (hi, c_hi) = (v, c);
            }
        }
    }
    // List the differences in (lo, hi] and pick the ranks.
    let mut inside = Vec::with_capacity((c_hi - c_lo) as usize);
    let (mut a, mut b) = (0, 0);
    for x in base {
        while a < new.len() && new[a] <= x + lo {
            a += 1;
        }
        while b < new.len() && new[b] <= x + hi {
            b += 1;
        }
        inside.extend(new[a.min(b)..b].iter().map(|y| y - x));
    }
    let from = (k1 - c_lo - 1) as usize;
    let to = (k2 - c_lo - 1) as usize;
    if to >= inside.len() {
        return vec![f64::NAN; to - from + 1];
    }
    // Only the ranks asked for need to be in place.
    inside.select_nth_unstable_by(from, f64::total_cmp);
    if to > from {
        inside[from + 1..].sort_unstable_by(f64::total_cmp);
    }
    inside[from..=to].to_vec()
}

/// The median of the differences (the Hodges-Lehmann estimate).
fn median_difference(base: &[f64], new: &[f64]) -> f64 {
    let pairs = base.len() as u64 * new.len() as u64;
    if pairs % 2 == 1 {
        return kth_difference(base, new, pairs.div_ceil(2));
    }
    let two = ranked_differences(base, new, pairs / 2, pairs / 2 + 1);
    (two[0] + two[1]) / 2.0
}

/// Holm's step-down adjustment (controls the family-wise error rate).
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![0.0; m];
    let mut running: f64 = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        running = running.max(((m - rank) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// Benjamini-Hochberg's step-up adjustment (controls the false discovery rate).
pub fn benjamini_hochberg(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]));
    let mut out = vec![0.0; m];
    let mut running: f64 = 1.0;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min((m as f64 / (rank + 1) as f64 * p[i]).min(1.0));
        out[i] = running;
    }
    out
}

/// P(Z > z) for a standard normal Z.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Complementary error function, with relative error below 1.2e-7
/// everywhere (Chebyshev fit after Press et al.).
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 { r } else { 2.0 - r }
}

/// The standard normal quantile (Acklam's rational approximation, relative
/// error below 1.2e-9).
pub fn normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < 0.024_25 {
        tail((-2.0 * p.ln()).sqrt())
    } else if p > 1.0 - 0.024_25 {
        -tail((-2.0 * (1.0 - p).ln()).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

/// P(T > t) for Student's t with `df` degrees of freedom.
pub fn t_sf(t: f64, df: f64) -> f64 {
    let x = df / (df + t * t);
    let tail = 0.5 * inc_beta(df / 2.0, 0.5, x);
    if t >= 0.0 { tail } else { 1.0 - tail }
}

/// The `p` quantile of Student's t with `df` degrees of freedom (p > 0.5),
/// by bisection on the survival function.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    let target = 1.0 - p;
    let (mut lo, mut hi) = (0.0, 1e6);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if t_sf(mid, df) > target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-10 {
            break;
        }
    }
    (lo + hi) / 2.0
}

/// Regularized incomplete beta function I_x(a, b) (continued fraction,
/// after Press et al.).
fn inc_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_cf(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_cf(b, a, 1.0 - x) / b
    }
}

fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn distributions_match_published_tables() {
        // Normal: Φ(1.96) = 0.975, Φ(2.5758) = 0.995, Φ(-3) = 0.001349898.
        assert!(close(normal_sf(1.959_964), 0.025, 1e-5));
        assert!(close(normal_sf(-3.0), 1.0 - 0.001_349_898, 1e-7));
        assert!(close(normal_sf(5.0), 2.866_516e-7, 1e-5));
        assert!(close(normal_quantile(0.995), 2.575_829, 1e-6));
        assert!(close(normal_quantile(0.001), -3.090_232, 1e-6));
        // Student t quantiles from the standard table.
        for (p, df, t) in [
            (0.975, 1.0, 12.706_205),
            (0.995, 9.0, 3.249_836),
            (0.995, 19.0, 2.860_935),
            (0.975, 29.0, 2.045_230),
            (0.995, 99.0, 2.626_405),
        ] {
            assert!(close(t_quantile(p, df), t, 1e-5), "t({p}, {df})");
        }
        assert!(close(t_sf(2.0, 10.0), 0.036_694_017, 1e-6));
    }

    #[test]
    fn mann_whitney_matches_scipy() {
        // scipy.stats.mannwhitneyu(y, x, alternative="two-sided",
        // method="asymptotic", use_continuity=True).
        let x = [1.1, 2.2, 3.3, 4.4, 5.5, 6.6, 7.7];
        let y = [3.0, 5.0, 7.0, 9.0, 11.0, 13.0];
        let s = shift(&x, &y, 0.95);
        // scipy 1.17.1: U = 33, p = 0.10041249398610284
        assert!(close(s.p, 0.100_412_493_986, 1e-6), "{}", s.p);
        // With ties: tie-corrected variance.
        let x = [1.0, 2.0, 2.0, 3.0, 3.0, 3.0];
        let y = [3.0, 3.0, 4.0, 4.0, 5.0, 6.0];
        let s = shift(&x, &y, 0.95);
        // scipy 1.17.1: U = 33, p = 0.015663353642897587
        assert!(close(s.p, 0.015_663_353_643, 1e-6), "{}", s.p);
        // Identical samples: no evidence at all.
        let s = shift(&[1.0; 10], &[1.0; 10], 0.99);
        assert_eq!(s.p, 1.0);
        assert_eq!(s.estimate, 0.0);
    }

    #[test]
    fn hodges_lehmann_interval_matches_a_brute_force_one() {
        let x: Vec<f64> = (0..37).map(|i| ((i * 7919) % 101) as f64 / 10.0).collect();
        let y: Vec<f64> = (0..23)
            .map(|i| ((i * 104_729) % 97) as f64 / 10.0 + 1.5)
            .collect();
        let (mut x, mut y) = (x, y);
        x.sort_by(f64::total_cmp);
        y.sort_by(f64::total_cmp);
        let mut diffs: Vec<f64> = y
            .iter()
            .flat_map(|b| x.iter().map(move |a| b - a))
            .collect();
        diffs.sort_by(f64::total_cmp);
        for k in [1u64, 2, 100, 425, 426, 850, 851] {
            let got = kth_difference(&x, &y, k);
            assert!((got - diffs[k as usize - 1]).abs() < 1e-12, "k={k}: {got}");
        }
        let s = shift(&x, &y, 0.99);
        let n = diffs.len();
        assert!((s.estimate - (diffs[n / 2 - 1] + diffs[n / 2]) / 2.0).abs() < 1e-12);
        // Ties at the median.
        let t = shift(&[1.0, 1.0, 2.0, 2.0], &[2.0, 2.0, 3.0, 3.0], 0.5);
        assert_eq!(t.estimate, 1.0);
        assert!(s.low < s.estimate && s.estimate < s.high);
        // Every rank, on samples with heavy ties and uneven sizes.
        for (nx, ny, levels) in [
            (30usize, 70usize, 5usize),
            (100, 100, 1000),
            (7, 200, 3),
            (64, 64, 2),
        ] {
            let mut x: Vec<f64> = (0..nx).map(|i| ((i * 7919 + 13) % levels) as f64).collect();
            let mut y: Vec<f64> = (0..ny)
                .map(|i| ((i * 104_729 + 7) % levels) as f64 * 1.5)
                .collect();
            x.sort_by(f64::total_cmp);
            y.sort_by(f64::total_cmp);
            let mut d: Vec<f64> = y
                .iter()
                .flat_map(|b| x.iter().map(move |a| b - a))
                .collect();
            d.sort_by(f64::total_cmp);
            for k in (1..=d.len() as u64).step_by(37).chain([d.len() as u64]) {
                assert_eq!(
                    kth_difference(&x, &y, k),
                    d[k as usize - 1],
                    "{nx}x{ny}/{levels} k={k}"
                );
            }
        }
        // Too few samples for the level: the interval is unbounded and the
        // smallest possible p-value says so.
        let s = shift(&[1.0, 2.0, 3.0], &[10.0, 11.0, 12.0], 0.99);
        assert!(s.low.is_infinite() && s.p_min > 0.01);
    }

    #[test]
    fn adjustments_match_r() {
        // p.adjust(c(0.01, 0.04, 0.03, 0.005), "holm") and "BH".
        let p = [0.01, 0.04, 0.03, 0.005];
        let h = holm(&p);
        for (a, b) in h.iter().zip([0.03, 0.06, 0.06, 0.02]) {
            assert!(close(*a, b, 1e-12), "{h:?}");
        }
        let bh = benjamini_hochberg(&p);
        for (a, b) in bh.iter().zip([0.02, 0.04, 0.04, 0.02]) {
            assert!(close(*a, b, 1e-12), "{bh:?}");
        }
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        assert_eq!(median(&v), 3.5);
        assert_eq!(quantile(&v, 0.25), 1.75);
        assert_eq!(quantile(&v, 0.75), 5.25);
    }
}
