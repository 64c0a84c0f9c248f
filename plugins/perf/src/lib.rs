//! The perf plugin: benchmark results and build artifacts against a
//! baseline, with a statistical test that does not cry wolf on noisy CI
//! machines.
//!
//! Data path: each configured input is read by its format (`formats`) into
//! one shape (benchmark → samples); pairs with the baseline are compared
//! A/B, or the run against a history of past runs (`compare`, on the SDK's `stats`);
//! artifacts are measured (`sizes`); every comparison becomes a finding and
//! a row of the summary table (`report`).

pub mod compare;
pub mod config;
pub mod formats;
mod report;
pub mod rules;
mod sizes;

use std::collections::BTreeMap;
use std::path::Path;

use portcullis_sdk::{Context, Evaluation, Plugin, PluginInfo, export_plugin};

pub use compare::{Comparison, Limits, Mode, Verdict};
pub use config::Config;
use config::{Input, Override};
use formats::{Format, Run, Series};
pub use rules::RULES;

pub struct Perf;

impl Plugin for Perf {
    fn describe() -> PluginInfo {
        PluginInfo::new("perf", env!("CARGO_PKG_VERSION")).rules(RULES)
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        let config: Config = ctx.config()?;
        validate(&config)?;
        let overrides = Overrides::new(&config)?;
        let mut ab_pairs: Vec<(String, Series, Series, Limits)> = Vec::new();
        let mut comparisons = Vec::new();
        let mut notes = report::Notes::default();
        let mut current_all: BTreeMap<String, Series> = BTreeMap::new();
        for (i, input) in config.benchmarks.iter().enumerate() {
            let key = format!("config.benchmarks[{i}]");
            if input.baseline.is_some() && input.history.is_some() {
                return Err(format!("{key}: set `baseline` or `history`, not both"));
            }
            let current = read_input(ctx, input, &input.current, "new", &format!("{key}.current"))?;
            let prefixed = |name: &str| match &input.name {
                Some(p) => format!("{p}/{name}"),
                None => name.to_string(),
            };
            for (name, series) in &current.benchmarks {
                let full = prefixed(name);
                if current_all.insert(full.clone(), series.clone()).is_some() {
                    return Err(format!(
                        "{key}: benchmark `{full}` also comes from another input; give the inputs a `name`"
                    ));
                }
            }
            let baseline = match (&input.baseline, &input.history, input.format) {
                (Some(_), Some(_), _) => unreachable!("checked above"),
                (Some(b), None, _) => Some(read_input(
                    ctx,
                    input,
                    b,
                    "new",
                    &format!("{key}.baseline"),
                )?),
                (None, None, Format::Criterion) if input.saved_baseline.is_some() => {
                    let which = input.saved_baseline.as_deref().unwrap_or_default();
                    Some(read_input(
                        ctx,
                        input,
                        &input.current,
                        which,
                        &format!("{key}.current"),
                    )?)
                }
                (None, None, _) => None,
                (None, Some(h), _) => {
                    let runs = read_history(ctx, input, h, &format!("{key}.history"))?;
                    for (name, series) in &current.benchmarks {
                        let full = prefixed(name);
                        let Some(limits) = overrides.limits(&full, &config) else {
                            continue;
                        };
                        let past: Vec<&Series> =
                            runs.iter().filter_map(|r| r.benchmarks.get(name)).collect();
                        comparisons.push(compare::history(&full, &past, series, limits, &config));
                    }
                    if let Some(last) = runs.last() {
                        for name in last.benchmarks.keys() {
                            let full = prefixed(name);
                            if !current.benchmarks.contains_key(name) && !overrides.skipped(&full) {
                                notes.missing.push(full);
                            }
                        }
                    }
                    None
                }
            };
            if let Some(baseline) = baseline {
                let (mut considered, mut compared) = (0usize, 0usize);
                for (name, series) in &current.benchmarks {
                    let full = prefixed(name);
                    let Some(limits) = overrides.limits(&full, &config) else {
                        continue;
                    };
                    considered += 1;
                    compared += usize::from(baseline.benchmarks.contains_key(name));
                    match baseline.benchmarks.get(name) {
                        Some(b) if b.kind != series.kind => {
                            return Err(format!(
                                "{key}: benchmark `{full}` is measured in different units in the baseline and this run"
                            ));
                        }
                        Some(b) => ab_pairs.push((full, b.clone(), series.clone(), limits)),
                        None => notes.no_baseline.push(full),
                    }
                }
                for name in baseline.benchmarks.keys() {
                    let full = prefixed(name);
                    if !current.benchmarks.contains_key(name) && !overrides.skipped(&full) {
                        notes.missing.push(full);
                    }
                }
                // Not one benchmark in common: every one renamed, or the
                // wrong file. Notes alone would pass a gate that compared
                // nothing.
                if considered > 0 && compared == 0 {
                    return Err(format!(
                        "{key}: none of the {considered} benchmarks of {} is in its baseline, so nothing was compared (renamed benchmarks, or not the baseline's file)",
                        input.current
                    ));
                }
            }
        }
        let pairs: Vec<(String, &Series, &Series, Limits)> = ab_pairs
            .iter()
            .map(|(n, b, s, l)| (n.clone(), b, s, *l))
            .collect();
        comparisons.extend(compare::ab(&pairs, &config));
        comparisons.sort_by(|a, b| a.name.cmp(&b.name));

        let mut budgets = Vec::new();
        for (name, series) in &current_all {
            if let Some(o) = overrides.get(name)
                && !o.skip
                && let Some(max) = &o.max
            {
                let limit = match series.kind {
                    formats::Kind::Time => max.duration_ns(),
                    formats::Kind::Count(_) => max.plain(),
                }
                .map_err(|e| {
                    format!("config.overrides.\"{}\".max: {e}", overrides.pattern(name))
                })?;
                budgets.push((name.clone(), series.kind.clone(), series.center(), limit));
            }
        }
        let mut artifacts = Vec::new();
        for (i, s) in config.sizes.iter().enumerate() {
            artifacts.extend(sizes::measure(ctx, i, s)?);
        }
        Ok(report::findings(
            &config,
            &comparisons,
            &budgets,
            &artifacts,
            &notes,
        ))
    }
}

export_plugin!(Perf);

fn validate(c: &Config) -> Result<(), String> {
    if !(c.alpha > 0.0 && c.alpha < 0.5) {
        return Err(format!(
            "config.alpha: {} is not between 0 and 0.5",
            c.alpha
        ));
    }
    for (key, v) in [
        ("noise-floor", c.noise_floor),
        ("count-threshold", c.count_threshold),
    ] {
        if !(v.is_finite() && v >= 0.0) {
            return Err(format!(
                "config.{key}: {v} is not a non-negative percentage"
            ));
        }
    }
    if !(c.history.confidence > 0.5 && c.history.confidence < 1.0) {
        return Err(format!(
            "config.history.confidence: {} is not between 0.5 and 1",
            c.history.confidence
        ));
    }
    if c.history.min_runs < 2 {
        return Err("config.history.min-runs: at least 2 past runs are needed".into());
    }
    if c.benchmarks.is_empty() && c.sizes.is_empty() {
        return Err(
            "config: name at least one input under `benchmarks` or `sizes` (see the README's perf section)"
                .into(),
        );
    }
    Ok(())
}

/// Read one result set; `which` is criterion's sample directory.
fn read_input(
    ctx: &Context,
    input: &Input,
    path: &str,
    which: &str,
    key: &str,
) -> Result<Run, String> {
    let at = ctx.locate(path).map_err(|e| format!("{key}: {e}"))?;
    formats::read(input.format, &at, path, which)
}

/// Every past run under a history directory, oldest first (by name: name
/// runs by date or sequence number). Hidden entries are ignored.
fn read_history(ctx: &Context, input: &Input, dir: &str, key: &str) -> Result<Vec<Run>, String> {
    let at = ctx.locate(dir).map_err(|e| format!("{key}: {e}"))?;
    let mut names: Vec<String> = std::fs::read_dir(&at)
        .map_err(|e| format!("{key}: {dir}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{key}: {dir}: {e}"))?
        .into_iter()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
        .iter()
        .map(|n| {
            formats::read(
                input.format,
                &Path::new(&at).join(n),
                &format!("{dir}/{n}"),
                "new",
            )
        })
        .collect()
}

/// `overrides`, matched by glob; the longest matching pattern wins.
struct Overrides<'a> {
    list: Vec<(&'a str, globset::GlobMatcher, &'a Override)>,
}

impl<'a> Overrides<'a> {
    fn new(c: &'a Config) -> Result<Self, String> {
        let mut list = Vec::new();
        for (pattern, o) in &c.overrides {
            let g = globset::GlobBuilder::new(pattern)
                .literal_separator(false)
                .build()
                .map_err(|e| format!("config.overrides: bad glob `{pattern}`: {e}"))?;
            list.push((pattern.as_str(), g.compile_matcher(), o));
        }
        list.sort_by_key(|(p, _, _)| std::cmp::Reverse(p.len()));
        Ok(Overrides { list })
    }

    fn find(&self, name: &str) -> Option<&(&'a str, globset::GlobMatcher, &'a Override)> {
        self.list.iter().find(|(_, g, _)| g.is_match(name))
    }

    fn get(&self, name: &str) -> Option<&'a Override> {
        self.find(name).map(|(_, _, o)| *o)
    }

    fn pattern(&self, name: &str) -> &'a str {
        self.find(name).map_or("", |(p, _, _)| *p)
    }

    fn skipped(&self, name: &str) -> bool {
        self.get(name).is_some_and(|o| o.skip)
    }

    /// The limits for a benchmark, or `None` when it is skipped.
    fn limits(&self, name: &str, c: &Config) -> Option<Limits> {
        let o = self.get(name);
        if o.is_some_and(|o| o.skip) {
            return None;
        }
        Some(Limits {
            noise_floor: o.and_then(|o| o.noise_floor).unwrap_or(c.noise_floor) / 100.0,
            count_threshold: o
                .and_then(|o| o.count_threshold)
                .unwrap_or(c.count_threshold)
                / 100.0,
        })
    }
}
