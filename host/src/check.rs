//! One gate run, from arguments to an [`Outcome`]: policy → plugins →
//! evidence → sandbox → findings → gate.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::diag::{Error, Level};
use crate::evidence::{self, Kind};
use crate::finding::{self, Finding, OutputCaps, PluginInfo, RuleInfo};
use crate::gate::{self, Verdict};
use crate::plugins;
use crate::policy::{PluginSpec, Policy};
use crate::sandbox::{Failure, Grants, Limits, LogLine, Sandbox};

/// What `portcullis check` was asked to do, validated.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The repository to check.
    pub path: PathBuf,
    /// `--policy`; else `PATH/portcullis.toml` if present; else built in.
    pub policy: Option<PathBuf>,
    /// `--fail-at`, overriding the policy's `[gate] fail-at`.
    pub fail_at: Option<Level>,
    /// Plugins evaluated at once.
    pub jobs: usize,
    /// Show progress on stderr for long runs (only on a terminal).
    pub progress: bool,
    /// Compile cache directory; `None` = from the environment.
    pub cache_dir: Option<PathBuf>,
    /// `--baseline`: findings recorded there do not count.
    pub baseline: Option<PathBuf>,
    /// `--changed-since REV`: only findings in files changed since REV (and
    /// findings with no location) count.
    pub changed_since: Option<String>,
}

/// One plugin's part of the run.
#[derive(Debug)]
pub struct PluginRun {
    /// The plugin's id in the policy.
    pub id: String,
    /// `builtin:lint` or the .wasm path.
    pub origin: String,
    pub sha256: Option<String>,
    /// From `describe` (`None` when the plugin failed before describing).
    pub info: Option<PluginInfo>,
    /// Declared and discovered rules; findings index into this.
    pub rules: Vec<RuleInfo>,
    pub findings: Vec<Finding>,
    pub logs: Vec<LogLine>,
    /// Why the plugin could not be evaluated (the gate then fails closed).
    pub failure: Option<String>,
    pub started: SystemTime,
    pub duration: Duration,
    /// Of `duration`, the time in the plugin's `evaluate` call.
    pub evaluate_duration: Duration,
    pub compiled_from_cache: bool,
}

impl PluginRun {
    /// The run of the host's own rules (waiver diagnostics), not a plugin.
    pub fn is_host(&self) -> bool {
        self.origin == "builtin:host"
    }

    pub fn name(&self) -> &str {
        self.info.as_ref().map_or(&self.id, |i| &i.name)
    }
}

/// Everything a report needs.
#[derive(Debug)]
pub struct Outcome {
    /// The repository's canonical path.
    pub root: PathBuf,
    pub policy: Policy,
    pub fail_at: Level,
    pub runs: Vec<PluginRun>,
    /// Things the user should know that did not fail the gate.
    pub notices: Vec<String>,
    pub verdict: Verdict,
    pub elapsed: Duration,
    /// With `--baseline`: recorded findings no longer reported (fixed).
    pub absent: Vec<crate::policy::baseline::Entry>,
}

impl Outcome {
    /// One line per reason the gate could not be evaluated.
    pub fn failures(&self) -> Vec<String> {
        self.runs
            .iter()
            .filter_map(|r| r.failure.as_ref().map(|f| format!("plugin {}: {f}", r.id)))
            .collect()
    }

    /// Every finding, waived ones included.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.runs.iter().flat_map(|r| r.findings.iter())
    }

    /// The findings that count toward the gate (not waived, not in the
    /// baseline).
    pub fn counted(&self) -> impl Iterator<Item = &Finding> {
        self.findings().filter(|f| f.counts())
    }
}

/// Find the policy for the repository at `path` (as the user wrote it) as
/// `check` does: `--policy`, else `PATH/portcullis.toml`, else built in.
pub fn resolve_policy(path: &Path, explicit: Option<&Path>) -> Result<Policy, Error> {
    match explicit {
        Some(p) => Policy::load(p),
        None => {
            let local = if path == Path::new(".") {
                PathBuf::from("portcullis.toml")
            } else {
                path.join("portcullis.toml")
            };
            if local.is_file() {
                Policy::load(&local)
            } else {
                Policy::builtin_default()
            }
        }
    }
}

/// Canonical repository root, or a usage error.
pub fn repo_root(path: &Path) -> Result<PathBuf, Error> {
    let root = path
        .canonicalize()
        .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
    if !root.is_dir() {
        return Err(Error::Usage(format!("{}: not a directory", path.display())));
    }
    Ok(root)
}

/// Run the gate. `Err` means nothing could be evaluated (bad arguments or
/// policy); plugin and evidence failures are recorded in the outcome.
pub fn run_check(opts: &CheckOptions) -> Result<Outcome, Error> {
    let policy = resolve_policy(&opts.path, opts.policy.as_deref())?;
    run_check_with(opts, policy)
}

/// Run the gate with an already loaded policy (`opts.policy` is ignored).
pub fn run_check_with(opts: &CheckOptions, policy: Policy) -> Result<Outcome, Error> {
    let started = Instant::now();
    let root = repo_root(&opts.path)?;
    let fail_at = opts.fail_at.unwrap_or(policy.fail_at);
    let today = crate::policy::date::Date::today().map_err(Error::Usage)?;
    let changed = match &opts.changed_since {
        Some(rev) => Some(evidence::git::changed_since(&root, rev)?),
        None => None,
    };
    let baseline = match &opts.baseline {
        Some(p) => Some(crate::policy::baseline::Baseline::load(p)?),
        None => None,
    };
    let cache_dir = crate::cache::dir(opts.cache_dir.as_deref());
    let sandbox = Sandbox::with_cache_dir(cache_dir.clone()).map_err(Error::Usage)?;
    let progress = Progress::start(opts.progress, policy.plugins.len());

    // Load and describe every plugin.
    let loaded = parallel(&policy.plugins, opts.jobs, |spec| {
        progress.begin(&spec.id);
        let r = load_and_describe(&sandbox, spec);
        progress.end(&spec.id);
        r
    });

    // Collect the evidence the described plugins read, once per kind.
    let mut kinds: Vec<Kind> = loaded
        .iter()
        .filter_map(|l| l.info.as_ref())
        .flat_map(|i| i.reads.clone())
        .collect();
    kinds.sort();
    kinds.dedup();
    // Reports nobody reads would be silently unchecked: a policy error.
    if !policy.reports.is_empty()
        && !kinds.contains(&Kind::Reports)
        && loaded.iter().all(|l| l.info.is_some())
    {
        let names: Vec<&str> = policy.reports.iter().map(|r| r.name.as_str()).collect();
        progress.finish();
        return Err(Error::Policy {
            path: policy.reports[0].at.clone(),
            message: format!(
                "[reports] names {} but no plugin in the policy reads reports",
                names.join(", ")
            ),
        });
    }
    let (evidence, evidence_errors) =
        evidence::collect(&root, &policy, &kinds, cache_dir.as_deref());
    let evidence_errors: Vec<(Kind, String)> = evidence_errors
        .into_iter()
        .map(|(k, e)| (k, e.to_string()))
        .collect();

    // Evaluate.
    let caps = OutputCaps::default();
    let runs = parallel_owned(loaded, opts.jobs, |mut l| {
        progress.begin(&l.spec.id);
        let t = Instant::now();
        if let (None, Some(info), Some(compiled)) = (&l.run.failure, &l.info, &l.compiled) {
            if let Some((_, e)) = evidence_errors.iter().find(|(k, _)| info.reads.contains(k)) {
                l.run.failure = Some(e.clone());
            } else {
                let limits = Limits::new(l.spec.timeout_ms, l.spec.memory_mb);
                match sandbox.evaluate(
                    compiled,
                    limits,
                    Grants {
                        read: &l.spec.read,
                        mounts: &l.spec.mounts,
                    },
                    &l.spec.config,
                    &info.reads,
                    &evidence,
                ) {
                    Ok((raw, logs)) => {
                        l.run.logs.extend(logs);
                        match finding::validate(&l.spec.id, &info.rules, raw, caps, &root) {
                            Ok((rules, mut findings)) => {
                                gate::apply_levels(&policy, &mut findings);
                                l.run.rules = rules;
                                l.run.findings = findings;
                            }
                            Err(e) => l.run.failure = Some(Failure::Malformed(e).to_string()),
                        }
                    }
                    Err((failure, logs)) => {
                        l.run.logs.extend(logs);
                        l.run.failure = Some(failure.to_string());
                    }
                }
            }
        }
        l.run.evaluate_duration = t.elapsed();
        l.run.duration += l.run.evaluate_duration;
        progress.end(&l.spec.id);
        l.run
    });
    progress.finish();

    let mut notices = evidence.skipped.clone();
    notices.extend(
        kinds
            .iter()
            .filter(|k| evidence_errors.iter().any(|(e, _)| e == *k))
            .map(|k| format!("evidence {} could not be collected", k.as_str())),
    );
    // Baseline and waivers see every finding, so that narrowing to changed
    // files below cannot make entries look fixed or waivers look unused.
    let mut runs = runs;
    let absent = match &baseline {
        Some(b) => gate::apply_baseline(b, &mut runs)
            .into_iter()
            .cloned()
            .collect(),
        None => Vec::new(),
    };
    let host = gate::apply_waivers(&policy, &mut runs, today, &root);
    if let (Some(changed), Some(rev)) = (&changed, &opts.changed_since) {
        let dropped = gate::keep_changed(&mut runs, changed);
        if dropped > 0 {
            notices.push(format!(
                "{dropped} findings in files unchanged since {rev} are not shown (--changed-since)"
            ));
        }
    }
    // The host's waiver diagnostics concern the policy, not changed files.
    runs.extend(host);
    if runs.iter().all(|r| r.failure.is_none()) {
        notices.extend(gate::unmatched_rule_patterns(&policy, &runs));
    }
    let verdict = gate::decide(&runs, fail_at);
    Ok(Outcome {
        root,
        policy,
        fail_at,
        runs,
        notices,
        verdict,
        elapsed: started.elapsed(),
        absent,
    })
}

struct LoadedPlugin<'p> {
    spec: &'p PluginSpec,
    info: Option<PluginInfo>,
    compiled: Option<crate::sandbox::Loaded>,
    run: PluginRun,
}

fn load_and_describe<'p>(sandbox: &Sandbox, spec: &'p PluginSpec) -> LoadedPlugin<'p> {
    let t = Instant::now();
    let mut run = PluginRun {
        id: spec.id.clone(),
        origin: String::new(),
        sha256: None,
        info: None,
        rules: Vec::new(),
        findings: Vec::new(),
        logs: Vec::new(),
        failure: None,
        started: SystemTime::now(),
        duration: Duration::ZERO,
        evaluate_duration: Duration::ZERO,
        compiled_from_cache: false,
    };
    let result = (|| -> Result<(PluginInfo, crate::sandbox::Loaded), String> {
        let binary = plugins::resolve(spec).map_err(|e| match e {
            Error::Plugin { message, .. } => message,
            other => other.to_string(),
        })?;
        run.origin = binary.origin.clone();
        run.sha256 = Some(binary.sha256.clone());
        let compiled = sandbox
            .load(&binary.bytes, &binary.sha256)
            .map_err(|f| f.to_string())?;
        run.compiled_from_cache = compiled.cached;
        let (info, logs) = sandbox
            .describe(&compiled, Limits::new(spec.timeout_ms, spec.memory_mb))
            .map_err(|(f, logs)| {
                run.logs.extend(logs);
                f.to_string()
            })?;
        run.logs.extend(logs);
        Ok((info, compiled))
    })();
    let (info, compiled) = match result {
        Ok((info, compiled)) => {
            run.rules = info.rules.clone();
            run.info = Some(info.clone());
            (Some(info), Some(compiled))
        }
        Err(e) => {
            run.failure = Some(e);
            (None, None)
        }
    };
    run.duration = t.elapsed();
    LoadedPlugin {
        spec,
        info,
        compiled,
        run,
    }
}

/// Map `f` over `items` on up to `jobs` threads, keeping order.
fn parallel<'a, T: Sync, R: Send>(
    items: &'a [T],
    jobs: usize,
    f: impl Fn(&'a T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Vec<Mutex<Option<R>>> = items.iter().map(|_| Mutex::new(None)).collect();
    let workers = jobs.clamp(1, items.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..workers {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    *results[i].lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
                }
            });
        }
    });
    results
        .into_iter()
        .filter_map(|m| m.into_inner().unwrap_or_else(|p| p.into_inner()))
        .collect()
}

/// As [`parallel`], consuming the items.
fn parallel_owned<T: Send, R: Send>(
    items: Vec<T>,
    jobs: usize,
    f: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let slots: Vec<Mutex<Option<T>>> = items.into_iter().map(|t| Mutex::new(Some(t))).collect();
    parallel(&slots, jobs, |slot| {
        let item = slot.lock().unwrap_or_else(|p| p.into_inner()).take();
        f(item.expect("each slot is taken once"))
    })
}

/// Progress on stderr, only on a terminal and only for runs longer than a
/// second; never in CI logs. Shows which plugins are running and how far
/// the run is.
struct Progress {
    state: Option<std::sync::Arc<ProgressState>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

struct ProgressState {
    done: AtomicUsize,
    total: usize,
    running: Mutex<Vec<String>>,
    stop: std::sync::atomic::AtomicBool,
}

impl Progress {
    fn start(enabled: bool, plugins: usize) -> Progress {
        use std::io::IsTerminal;
        if !enabled || !std::io::stderr().is_terminal() || std::env::var_os("CI").is_some() {
            return Progress {
                state: None,
                thread: Mutex::new(None),
            };
        }
        let state = std::sync::Arc::new(ProgressState {
            done: AtomicUsize::new(0),
            total: plugins * 2,
            running: Mutex::new(Vec::new()),
            stop: Default::default(),
        });
        let s = state.clone();
        let handle = std::thread::spawn(move || {
            let start = Instant::now();
            let mut shown = false;
            while !s.stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
                if start.elapsed() < Duration::from_secs(1) || s.stop.load(Ordering::Relaxed) {
                    continue;
                }
                let done = s.done.load(Ordering::Relaxed);
                let phase = if done < s.total / 2 {
                    "loading"
                } else {
                    "evaluating"
                };
                let running = s
                    .running
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .join(", ");
                crate::report::progress_line(&format!(
                    "portcullis: {phase} {running} ({done}/{} steps, {:.1} s)",
                    s.total,
                    start.elapsed().as_secs_f64()
                ));
                shown = true;
            }
            if shown {
                crate::report::progress_line("");
            }
        });
        Progress {
            state: Some(state),
            thread: Mutex::new(Some(handle)),
        }
    }

    fn begin(&self, id: &str) {
        if let Some(s) = &self.state {
            s.running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(id.to_string());
        }
    }

    fn end(&self, id: &str) {
        if let Some(s) = &self.state {
            s.running
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .retain(|r| r != id);
            s.done.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Stop and clear the line before anything else is printed.
    fn finish(&self) {
        if let Some(s) = &self.state {
            s.stop.store(true, Ordering::Relaxed);
        }
        if let Some(h) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
            let _ = h.join();
        }
    }
}

/// Every rule of every plugin in the policy: (`plugin/rule`, default level,
/// short description), in policy order, then the host's own `portcullis/`
/// rules. A plugin that cannot describe itself is an error.
pub fn list_rules(policy: &Policy) -> Result<Vec<(String, Level, String)>, Error> {
    let sandbox = Sandbox::new().map_err(Error::Usage)?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let loaded = parallel(&policy.plugins, jobs, |spec| {
        load_and_describe(&sandbox, spec)
    });
    let mut rows = Vec::new();
    for l in loaded {
        if let Some(f) = l.run.failure {
            return Err(Error::plugin(&l.spec.id, f));
        }
        for rule in l.info.map(|i| i.rules).unwrap_or_default() {
            rows.push((
                format!("{}/{}", l.spec.id, rule.id),
                rule.default_level,
                crate::sandbox::one_line(&rule.short_description, 200),
            ));
        }
    }
    for rule in gate::host_rules() {
        rows.push((
            format!("portcullis/{}", rule.id),
            rule.default_level,
            rule.short_description,
        ));
    }
    Ok(rows)
}
