//! One gate run, from options to an [`Outcome`]: policy → plugins →
//! evidence → sandbox → findings → [`gate::judge`].

mod pool;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::diag::{Error, Level};
use crate::evidence::{self, Kind};
use crate::failure::PluginFailure;
use crate::finding::{self, OutputCaps, PluginInfo};
use crate::gate::{self, GateInputs};
use crate::outcome::{Outcome, PluginRun};
use crate::plugins;
use crate::policy::{PluginSpec, Policy};
use crate::sandbox::{self, Grants, Limits, Sandbox};

pub use pool::{parallel, parallel_owned};

/// What `portcullis check` was asked to do, validated.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// The repository to check.
    pub path: PathBuf,
    /// `--policy`; else one found from `PATH` up (see [`resolve_policy`]);
    /// else built in.
    pub policy: Option<PathBuf>,
    /// `--fail-at`, overriding the policy's `[gate] fail-at`.
    pub fail_at: Option<Level>,
    /// Plugins evaluated at once.
    pub jobs: usize,
    /// Compile cache directory; `None` = from the environment.
    pub cache_dir: Option<PathBuf>,
    /// `--baseline`: findings recorded there do not count.
    pub baseline: Option<PathBuf>,
    /// Only findings in these files (and findings with no location) count.
    pub scope: Option<Scope>,
    /// What `path` is: a work tree, or a snapshot of a commit or of the
    /// index ([`evidence::snapshot`]), every file of which is tracked.
    pub checked: evidence::Checked,
    /// When the metrics' analysis window ends (and starts, if given).
    pub clock: evidence::metrics::Clock,
}

impl CheckOptions {
    /// A plain check of `path`: the policy found from there, every file
    /// counting, as many plugins at once as there are cores.
    pub fn new(path: PathBuf) -> CheckOptions {
        CheckOptions {
            path,
            policy: None,
            fail_at: None,
            jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cache_dir: None,
            baseline: None,
            scope: None,
            checked: evidence::Checked::WorkTree,
            clock: evidence::metrics::Clock::now(),
        }
    }
}

/// Which files' findings count.
#[derive(Debug, Clone)]
pub enum Scope {
    /// `--changed-since REV`: the files git says changed since REV, work
    /// tree and untracked files included.
    Since(String),
    /// Files known already (a push, the index); `against` names what they
    /// changed from, for the notice; `lines`, where git runs and what it
    /// compares for the contract's `changed-lines`.
    Files {
        against: String,
        files: std::collections::BTreeSet<String>,
        lines: (PathBuf, evidence::changed_lines::Base),
    },
}

/// The two steps each plugin goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Resolve, compile (or load from the cache) and `describe`.
    Load,
    Evaluate,
}

/// Told as each plugin starts and ends each phase, from the worker threads;
/// the caller decides whether and how to show it (the library never
/// prints).
pub trait Progress: Sync {
    fn started(&self, _phase: Phase, _plugin: &str) {}
    fn finished(&self, _phase: Phase, _plugin: &str) {}
}

/// No progress display.
pub struct Quiet;

impl Progress for Quiet {}

/// The names a policy is found by, in order, in each directory.
pub const POLICY_NAMES: [&str; 2] = ["portcullis.toml", ".portcullis.toml"];

/// Find the policy for the repository at `path` (as the user wrote it) as
/// `check` does: `--policy`; else the first of [`POLICY_NAMES`] in `path`,
/// then in each directory above it up to the repository's root (the first
/// holding `.git`), as git, ripgrep and ruff find their configuration; else
/// built in (also `--policy builtin:default`). Outside a git repository
/// only `path` itself is looked in: a policy is never taken from above the
/// repository.
pub fn resolve_policy(path: &Path, explicit: Option<&Path>) -> Result<Policy, Error> {
    if let Some(p) = explicit {
        if p == Path::new(crate::policy::DEFAULT_POLICY_NAME) {
            return Policy::builtin_default();
        }
        return Policy::load(p);
    }
    match discover_policy(path) {
        Some(found) => Policy::load(&found),
        None => Policy::builtin_default(),
    }
}

/// The policy file [`resolve_policy`] would load for `path`, as a path
/// relative to it (`portcullis.toml`, `../.portcullis.toml`), if any.
pub fn discover_policy(path: &Path) -> Option<PathBuf> {
    let start = path.canonicalize().ok()?;
    // `path` as written, then `path/..`, `path/../..` (shown that way).
    let mut shown = if path == Path::new(".") {
        PathBuf::new()
    } else {
        path.to_path_buf()
    };
    let mut dirs = Vec::new();
    let mut in_repository = false;
    for dir in start.ancestors() {
        dirs.push((dir.to_path_buf(), shown.clone()));
        if std::fs::symlink_metadata(dir.join(".git")).is_ok() {
            in_repository = true;
            break;
        }
        shown.push("..");
    }
    if !in_repository {
        dirs.truncate(1);
    }
    dirs.into_iter().find_map(|(dir, shown)| {
        POLICY_NAMES
            .iter()
            .find(|name| dir.join(name).is_file())
            .map(|name| shown.join(name))
    })
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
pub fn run_check(opts: &CheckOptions, progress: &dyn Progress) -> Result<Outcome, Error> {
    let policy = resolve_policy(&opts.path, opts.policy.as_deref())?;
    run_check_with(opts, policy, progress)
}

/// Run the gate with an already loaded policy (`opts.policy` is ignored).
pub fn run_check_with(
    opts: &CheckOptions,
    policy: Policy,
    progress: &dyn Progress,
) -> Result<Outcome, Error> {
    let started = Instant::now();
    let started_at = std::time::SystemTime::now();
    let root = repo_root(&opts.path)?;
    let fail_at = match (opts.fail_at, policy.fail_at_lock()) {
        (Some(flag), Some(lock)) if flag > policy.fail_at => {
            return Err(Error::Usage(format!(
                "--fail-at {flag} raises the gate's threshold, locked at {lock} as \"{}\"",
                policy.fail_at
            )));
        }
        (flag, _) => flag.unwrap_or(policy.fail_at),
    };
    let today = crate::policy::date::Date::today().map_err(Error::Usage)?;
    // `--changed-since` over the work tree: the walk that lists the files
    // tells which changed (the index read here), or git says.
    let mut listed = None;
    let changed = match &opts.scope {
        Some(Scope::Since(rev)) if !opts.checked.is_snapshot() => {
            match evidence::work_tree::since(&root, rev)? {
                Some(since) => {
                    listed = Some(since.files.into());
                    Some((rev.as_str(), since.changed))
                }
                None => Some((rev.as_str(), evidence::git::changed_since(&root, rev)?)),
            }
        }
        Some(Scope::Since(rev)) => Some((rev.as_str(), evidence::git::changed_since(&root, rev)?)),
        Some(Scope::Files { against, files, .. }) => Some((against.as_str(), files.clone())),
        None => None,
    };
    let baseline = match &opts.baseline {
        Some(p) => Some(crate::baseline::Baseline::load(p)?),
        None => None,
    };
    let cache_dir = crate::cache::dir(opts.cache_dir.as_deref());
    let sandbox = Sandbox::with_cache_dir(cache_dir.clone()).map_err(Error::Engine)?;

    let loaded = load_all(&sandbox, policy.plugins.as_slice(), opts.jobs, progress);
    // Collect the evidence the described plugins read, once per kind.
    let kinds = kinds_read(&loaded);
    // Reports nobody reads would be silently unchecked: a policy error.
    // (The host reads a pull request's context for its base commit.)
    let unread: Vec<&crate::policy::ReportSpec> = policy
        .reports
        .iter()
        .filter(|r| !r.format.is_pull_request())
        .collect();
    if !unread.is_empty()
        && !kinds.contains(&Kind::Reports)
        && loaded.iter().all(|l| l.run.info.is_some())
    {
        let names: Vec<&str> = unread.iter().map(|r| r.name.as_str()).collect();
        return Err(Error::Policy {
            path: unread[0].at.to_string(),
            message: format!(
                "[reports] names {} but no plugin in the policy reads reports",
                names.join(", ")
            ),
        });
    }
    let evidence_at = (std::time::SystemTime::now(), Instant::now());
    let (mut evidence, evidence_errors) = evidence::collect(
        &root,
        &policy,
        &kinds,
        cache_dir.as_deref(),
        &opts.checked,
        listed,
    );
    let evidence_took = evidence_at.1.elapsed();
    evidence.changed = changed
        .as_ref()
        .map(|(_, files)| files.iter().cloned().collect());
    evidence.clock = opts.clock;
    use evidence::changed_lines::{Base, OnDemand};
    let mut set_aside: Vec<String> = Vec::new();
    let lines = match &opts.scope {
        Some(Scope::Since(rev)) => Some(OnDemand::since(&root, rev)),
        Some(Scope::Files {
            lines: (dir, base), ..
        }) => Some(OnDemand::new(dir, base.clone())),
        // A snapshot (a hook's push with no base) is no pull request's run.
        None if !opts.checked.is_snapshot() => {
            // Under a lock, only the locking chain's reports name the base
            // (as locked plugins read only those).
            let (trusted, untrusted): (Vec<_>, Vec<_>) = policy
                .reports
                .iter()
                .filter(|r| r.format.is_pull_request())
                .cloned()
                .partition(|r| {
                    policy.plugins.iter().all(|p| {
                        p.reports_from
                            .as_ref()
                            .is_none_or(|from| from.iter().any(|f| f == r.at.file_name()))
                    })
                });
            set_aside.extend(untrusted.iter().map(|r| {
                format!(
                    "report {} ({}) names no pull request base: the policy that locks rules does not define it",
                    r.name, r.at
                )
            }));
            (!trusted.is_empty()).then(|| OnDemand::new(&root, Base::PullRequest(trusted)))
        }
        None => None,
    };
    if let Some(lines) = lines {
        evidence.changed_lines = std::sync::Arc::new(lines);
    }

    // Evaluate.
    let runs = parallel_owned(loaded, opts.jobs, |l| {
        let spec = l.spec;
        progress.started(Phase::Evaluate, &spec.id);
        let run = evaluate(&sandbox, l, &evidence, &evidence_errors, &root);
        progress.finished(Phase::Evaluate, &spec.id);
        run
    });

    let gate_at = (std::time::SystemTime::now(), Instant::now());
    let mut judgement = gate::judge(
        &policy,
        runs,
        GateInputs {
            baseline: baseline.as_ref(),
            changed: changed.as_ref().map(|(rev, c)| (*rev, c)),
            today,
            fail_at,
            root: &root,
        },
    );
    let mut notices = evidence.skipped.clone();
    notices.extend(
        kinds
            .iter()
            .filter(|k| evidence_errors.iter().any(|(e, _)| e == *k))
            .map(|k| format!("evidence {} could not be collected", k.as_str())),
    );
    notices.append(&mut judgement.notices);
    notices.append(&mut set_aside);
    if let Some(base) = evidence.changed_lines.pull_request_base() {
        notices.push(format!(
            "new lines: HEAD against the pull request's base {base}"
        ));
    }
    notices.extend(plugin_warnings(&judgement.runs));
    let timeline = crate::outcome::Timeline {
        started: started_at,
        evidence: (evidence_at.0, evidence_took),
        gate: (gate_at.0, gate_at.1.elapsed()),
    };
    Ok(Outcome {
        timeline,
        root,
        policy,
        fail_at,
        runs: judgement.runs,
        notices,
        verdict: judgement.verdict,
        elapsed: started.elapsed(),
        absent: judgement.absent,
    })
}

/// Analysis over time (`--interval`, `--count`, `--failure-limit`), as
/// Argo Rollouts' analysis runs: the gate is run `count` times, `interval`
/// apart, each time over a window ending then (unless `until` fixes it).
#[derive(Debug, Clone)]
pub struct Analysis {
    pub interval: std::time::Duration,
    pub count: u32,
    /// Failed measurements tolerated: one more ends the analysis, failed.
    pub failure_limit: u32,
    pub since: Option<i64>,
    pub until: Option<i64>,
}

/// One measurement of an analysis, as it is told.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// 1-based.
    pub index: u32,
    pub count: u32,
    /// When its window ended, milliseconds since the Unix epoch.
    pub at: i64,
    pub exit: crate::diag::Exit,
    /// Failed measurements so far, and how many are tolerated.
    pub failed: u32,
    pub failure_limit: u32,
    /// `rule: message` of the findings that failed it, or why it could not
    /// be evaluated.
    pub reasons: Vec<String>,
}

impl Measurement {
    /// `measurement 2/10 at 2026-11-27T10:02:00Z: FAILED (1 of at most 2
    /// failed): canary/threshold: error ratio …`.
    pub fn line(&self) -> String {
        use crate::diag::Exit;
        let word = match self.exit {
            Exit::Pass => "passed",
            Exit::Fail => "FAILED",
            Exit::Error => "could not be evaluated",
        };
        let mut line = format!(
            "measurement {}/{} at {}: {word}",
            self.index,
            self.count,
            evidence::metrics::rfc3339(self.at)
        );
        if self.exit == Exit::Fail {
            line.push_str(&format!(
                " ({} failed, {} tolerated)",
                self.failed, self.failure_limit
            ));
        }
        if !self.reasons.is_empty() {
            line.push_str(": ");
            line.push_str(&self.reasons.join("; "));
        }
        line
    }
}

/// Run an analysis over time: each measurement is a whole gate run, told
/// to `told` as it ends. It ends early, failed (exit 1), when more
/// measurements than `failure_limit` failed, and at once (exit 2) when one
/// could not be evaluated; otherwise it passes after `count`. The outcome
/// returned is the deciding measurement's, its findings marked with their
/// measurement and time, and every measurement listed in its notices.
pub fn analyse(
    opts: &CheckOptions,
    policy: Policy,
    analysis: &Analysis,
    progress: &dyn Progress,
    told: &mut dyn FnMut(&Measurement),
) -> Result<Outcome, Error> {
    use crate::diag::Exit;
    let mut failed = 0;
    let mut history = Vec::new();
    for index in 1..=analysis.count {
        let started = Instant::now();
        let mut o = opts.clone();
        o.clock = evidence::metrics::Clock {
            until: analysis
                .until
                .unwrap_or_else(|| evidence::metrics::Clock::now().until),
            since: analysis.since,
        };
        let mut outcome = run_check_with(&o, policy.clone(), progress)?;
        let at = evidence::metrics::rfc3339(o.clock.until);
        for f in outcome.runs.iter_mut().flat_map(|r| r.findings.iter_mut()) {
            let props = f.properties.get_or_insert_with(Default::default);
            props.insert("portcullis/measurement".into(), index.into());
            props.insert("portcullis/measured-at".into(), at.clone().into());
        }
        let exit = outcome.verdict.exit;
        if exit == Exit::Fail {
            failed += 1;
        }
        let reasons = match exit {
            Exit::Pass => Vec::new(),
            Exit::Fail => outcome
                .counted()
                .filter(|f| f.level >= outcome.fail_at)
                .map(|f| format!("{}: {}", f.rule_id, crate::diag::one_line(&f.message, 300)))
                .collect(),
            Exit::Error => outcome.failures(),
        };
        let m = Measurement {
            index,
            count: analysis.count,
            at: o.clock.until,
            exit,
            failed,
            failure_limit: analysis.failure_limit,
            reasons,
        };
        told(&m);
        history.push(m.line());
        let decided = exit == Exit::Error || failed > analysis.failure_limit;
        if decided || index == analysis.count {
            if !decided && exit == Exit::Fail {
                // The last measurement failed, within the limit.
                outcome.verdict.exit = Exit::Pass;
            }
            outcome.notices.push(match (exit, decided) {
                (Exit::Error, _) => format!(
                    "analysis stopped at measurement {index} of {}: it could not be evaluated",
                    analysis.count
                ),
                (_, true) => format!(
                    "analysis failed at measurement {index} of {}: {failed} measurements failed, {} tolerated",
                    analysis.count, analysis.failure_limit
                ),
                _ => format!(
                    "analysis passed: {failed} of {} measurements failed, {} tolerated",
                    analysis.count, analysis.failure_limit
                ),
            });
            outcome.notices.extend(history);
            return Ok(outcome);
        }
        std::thread::sleep(analysis.interval.saturating_sub(started.elapsed()));
    }
    Err(Error::Usage("--count must be at least 1".into()))
}

/// A plugin after `describe`: its run so far, and the compiled component
/// when it loaded.
struct LoadedPlugin<'p> {
    spec: &'p PluginSpec,
    compiled: Option<sandbox::Loaded>,
    run: PluginRun,
}

/// Resolve, load and describe every plugin, `jobs` at a time.
fn load_all<'p>(
    sandbox: &Sandbox,
    plugins: &'p [PluginSpec],
    jobs: usize,
    progress: &dyn Progress,
) -> Vec<LoadedPlugin<'p>> {
    parallel(plugins, jobs, |spec| {
        progress.started(Phase::Load, &spec.id);
        let l = load_and_describe(sandbox, spec);
        progress.finished(Phase::Load, &spec.id);
        l
    })
}

/// The evidence kinds the described plugins read, each once.
fn kinds_read(loaded: &[LoadedPlugin<'_>]) -> Vec<Kind> {
    let mut kinds: Vec<Kind> = loaded
        .iter()
        .filter_map(|l| l.run.info.as_ref())
        .flat_map(|i| i.reads.clone())
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

fn limits(spec: &PluginSpec) -> Limits {
    Limits::new(spec.timeout_ms, spec.memory_mb)
}

fn load_and_describe<'p>(sandbox: &Sandbox, spec: &'p PluginSpec) -> LoadedPlugin<'p> {
    let t = Instant::now();
    let mut run = PluginRun::new(&spec.id);
    let mut load = || -> Result<(PluginInfo, sandbox::Loaded), PluginFailure> {
        let binary = plugins::resolve(spec, sandbox.cache_root())?;
        run.origin = binary.origin.clone();
        run.sha256 = Some(binary.sha256.clone());
        let compiled = sandbox.load(&binary.bytes, &binary.sha256);
        run.load_duration = t.elapsed();
        let compiled = compiled?;
        run.compiled_from_cache = compiled.cached;
        run.precompiled = compiled.precompiled;
        let described = Instant::now();
        let info = sandbox.describe(&compiled, limits(spec));
        run.describe_duration = described.elapsed();
        let (info, logs) = info.map_err(|(f, logs)| {
            run.logs.extend(logs.clone());
            f
        })?;
        run.logs.extend(logs);
        Ok((info, compiled))
    };
    let compiled = match load() {
        Ok((info, compiled)) => {
            run.rules = info.rules.clone();
            run.info = Some(info);
            Some(compiled)
        }
        Err(e) => {
            run.failure = Some(e);
            None
        }
    };
    run.duration = t.elapsed();
    if run.load_duration.is_zero() {
        // Failed before loading (resolving the source): all of it.
        run.load_duration = run.duration;
    }
    LoadedPlugin {
        spec,
        compiled,
        run,
    }
}

/// Evaluate one described plugin and check what it returned.
fn evaluate(
    sandbox: &Sandbox,
    l: LoadedPlugin<'_>,
    evidence: &evidence::Evidence,
    evidence_errors: &[(Kind, Error)],
    root: &Path,
) -> PluginRun {
    let LoadedPlugin {
        spec,
        compiled,
        mut run,
    } = l;
    let t = Instant::now();
    if let (None, Some(info), Some(compiled)) = (&run.failure, &run.info, &compiled) {
        run.evaluate_started = Some(std::time::SystemTime::now());
        let reads = info.reads.clone();
        let declared = info.rules.clone();
        if let Some((_, e)) = evidence_errors.iter().find(|(k, _)| reads.contains(k)) {
            run.failure = Some(PluginFailure::Evidence(e.to_string()));
        } else {
            let mounts = sandbox_mounts(spec);
            let session = match &spec.prometheus {
                Some(grant) => match evidence::metrics::Session::open(grant, evidence.clock) {
                    Ok(s) => Some(std::sync::Arc::new(s)),
                    Err(e) => {
                        run.failure = Some(PluginFailure::Evidence(format!(
                            "prometheus ({}): {e}",
                            grant.at
                        )));
                        run.evaluate_duration = t.elapsed();
                        run.duration += run.evaluate_duration;
                        return run;
                    }
                },
                None => None,
            };
            let grants = Grants {
                read: &spec.read,
                read_places: &spec.read_places,
                mounts: &mounts,
                reports_from: spec.reports_from.as_deref(),
                metrics: session.as_ref(),
            };
            match sandbox.evaluate(
                compiled,
                limits(spec),
                grants,
                &spec.config,
                &reads,
                evidence,
            ) {
                Ok((raw, logs)) => {
                    run.logs.extend(logs);
                    // A query that failed fails the plugin, whatever it
                    // made of it: never a pass on metrics not read.
                    if let Some(failed) = session.as_ref().and_then(|s| s.failure()) {
                        run.failure = Some(PluginFailure::Evidence(format!("metrics: {failed}")));
                        run.evaluate_duration = t.elapsed();
                        run.duration += run.evaluate_duration;
                        return run;
                    }
                    match finding::validate(&spec.id, &declared, raw, OutputCaps::default(), root) {
                        Ok((rules, findings)) => {
                            run.rules = rules;
                            run.findings = findings;
                        }
                        Err(e) => run.failure = Some(PluginFailure::refused_output(e)),
                    }
                }
                Err((failure, logs)) => {
                    run.logs.extend(logs);
                    run.failure = Some(match failure {
                        PluginFailure::Plugin(message) => {
                            PluginFailure::Plugin(spec.locate(&message))
                        }
                        other => other,
                    });
                }
            }
        }
    }
    run.evaluate_duration = t.elapsed();
    run.duration += run.evaluate_duration;
    run
}

/// One plugin's `run-tests` result, or why it could not run.
pub struct PluginTests {
    pub plugin: String,
    pub result: Result<crate::plugin_tests::TestRun, PluginFailure>,
}

/// `portcullis test`'s plugin side: load every plugin of the policy, and
/// for those that say they have tests, collect the evidence they read and
/// call `run-tests`. `Err` means nothing could be run (bad arguments,
/// reports nobody reads); a plugin's failure is its own entry.
pub fn test_plugins(
    opts: &CheckOptions,
    policy: &Policy,
    coverage: bool,
    progress: &dyn Progress,
) -> Result<Vec<PluginTests>, Error> {
    let root = repo_root(&opts.path)?;
    let cache_dir = crate::cache::dir(opts.cache_dir.as_deref());
    let sandbox = Sandbox::with_cache_dir(cache_dir.clone()).map_err(Error::Engine)?;
    let with_tests: Vec<LoadedPlugin<'_>> =
        load_all(&sandbox, policy.plugins.as_slice(), opts.jobs, progress)
            .into_iter()
            .filter(|l| l.run.failure.is_some() || l.run.info.as_ref().is_some_and(|i| i.has_tests))
            .collect();
    let kinds = kinds_read(&with_tests);
    let (evidence, evidence_errors) = evidence::collect(
        &root,
        policy,
        &kinds,
        cache_dir.as_deref(),
        &opts.checked,
        None,
    );
    Ok(parallel_owned(with_tests, opts.jobs, |l| {
        let LoadedPlugin {
            spec,
            compiled,
            run,
        } = l;
        progress.started(Phase::Evaluate, &spec.id);
        let result = match (run.failure, run.info, compiled) {
            (Some(f), _, _) => Err(f),
            (None, Some(info), Some(compiled)) => {
                match evidence_errors.iter().find(|(k, _)| info.reads.contains(k)) {
                    Some((_, e)) => Err(PluginFailure::Evidence(e.to_string())),
                    None => {
                        let mounts = sandbox_mounts(spec);
                        sandbox
                            .run_tests(
                                &compiled,
                                limits(spec),
                                Grants {
                                    read: &spec.read,
                                    read_places: &spec.read_places,
                                    mounts: &mounts,
                                    reports_from: spec.reports_from.as_deref(),
                                    metrics: None,
                                },
                                &spec.config,
                                &info.reads,
                                &evidence,
                                coverage,
                            )
                            .map(|(r, _)| r)
                            .map_err(|(f, _)| f)
                    }
                }
            }
            _ => Err(PluginFailure::Load("not described".into())),
        };
        progress.finished(Phase::Evaluate, &spec.id);
        PluginTests {
            plugin: spec.id.clone(),
            result,
        }
    }))
}

/// The policy's mounts for one plugin, as the sandbox takes them.
fn sandbox_mounts(spec: &PluginSpec) -> Vec<sandbox::Mount> {
    spec.mounts
        .iter()
        .map(|m| sandbox::Mount {
            name: m.name.clone(),
            path: m.path.clone(),
            granted_at: m.at.to_string(),
        })
        .collect()
}

/// Every rule a policy can report on a repository.
#[derive(Debug, Default)]
pub struct RuleListing {
    /// (plugin id, rule): each plugin's declared rules, then the rules it
    /// discovered evaluating the policy; the host's own rules last.
    pub rows: Vec<(String, finding::RuleInfo)>,
    /// Plugins that could not be evaluated, with why: the rules they would
    /// discover are missing from `rows`.
    pub incomplete: Vec<String>,
}

/// Every rule the policy can report on the repository at `opts.path`:
/// [`list_rules`], plus the rules plugins discover by evaluating the
/// policy there (a Rego policy's own rules, from its METADATA; an imported
/// SARIF log's rules), without judging anything.
pub fn rules_on(opts: &CheckOptions, policy: Policy) -> Result<RuleListing, Error> {
    let declared = list_rules(&policy)?;
    let outcome = run_check_with(opts, policy, &Quiet)?;
    let (mut rows, host): (Vec<_>, Vec<_>) = declared
        .into_iter()
        .partition(|(p, _)| p != crate::outcome::HOST_ID);
    let mut incomplete = Vec::new();
    for run in outcome.runs.iter().filter(|r| !r.is_host()) {
        if let Some(f) = &run.failure {
            incomplete.push(format!("plugin {}: {f}", run.id));
            continue;
        }
        let at = rows
            .iter()
            .rposition(|(p, _)| *p == run.id)
            .map_or(rows.len(), |i| i + 1);
        let new: Vec<(String, finding::RuleInfo)> = run
            .rules
            .iter()
            .filter(|r| !rows.iter().any(|(p, x)| *p == run.id && x.id == r.id))
            .map(|r| (run.id.clone(), r.clone()))
            .collect();
        rows.splice(at..at, new);
    }
    rows.extend(host);
    Ok(RuleListing { rows, incomplete })
}

/// Every rule of every plugin in the policy, in policy order, then the
/// host's own `portcullis/` rules: (plugin id, rule). A plugin that cannot
/// describe itself is an error.
pub fn list_rules(policy: &Policy) -> Result<Vec<(String, finding::RuleInfo)>, Error> {
    let sandbox = Sandbox::new().map_err(Error::Engine)?;
    let jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let loaded = parallel(&policy.plugins, jobs, |spec| {
        load_and_describe(&sandbox, spec)
    });
    let mut rows = Vec::new();
    for l in loaded {
        if let Some(f) = l.run.failure {
            return Err(Error::plugin(&l.spec.id, f.to_string()));
        }
        for rule in l.run.rules {
            rows.push((l.spec.id.clone(), rule));
        }
    }
    for rule in gate::host_rules::all() {
        rows.push((crate::outcome::HOST_ID.to_string(), rule));
    }
    Ok(rows)
}

/// What plugins logged at `warn` level, as notices everyone sees (the
/// rest of their logs only with `--verbose`): at most
/// [`MAX_WARNINGS_SHOWN`] per plugin.
fn plugin_warnings(runs: &[crate::outcome::PluginRun]) -> Vec<String> {
    let mut out = Vec::new();
    for run in runs {
        let warnings: Vec<_> = run.logs.iter().filter(|l| l.level == "warn").collect();
        out.extend(
            warnings
                .iter()
                .take(MAX_WARNINGS_SHOWN)
                .map(|l| format!("plugin {}: {}", run.id, l.message)),
        );
        if warnings.len() > MAX_WARNINGS_SHOWN {
            out.push(format!(
                "plugin {}: {} more warnings (shown with --verbose)",
                run.id,
                warnings.len() - MAX_WARNINGS_SHOWN
            ));
        }
    }
    out
}

const MAX_WARNINGS_SHOWN: usize = 10;
