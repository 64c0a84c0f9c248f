//! `portcullis test`: tests of policies, offline.
//!
//! - Plugin tests: every plugin of the policy that says it has tests (the
//!   rego plugin: the `test_*` rules of `*_test.rego` files, OPA's
//!   semantics) runs them through the contract's `run-tests`, optionally
//!   recording which policy lines were evaluated; results come back typed.
//! - Fixtures: each case directory holds a repository (`repo/`) and the
//!   findings the policy must produce on it (`expected.toml`); the gate runs
//!   on the repository and any difference fails the case, so a policy change
//!   that alters verdicts is caught.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::check::{self, CheckOptions, Quiet};
use crate::diag::{Error, Exit};
pub use crate::plugin_tests::{FileCoverage, TestResult, TestStatus};
use crate::policy::Policy;

/// What `portcullis test` was asked to do.
#[derive(Debug, Clone)]
pub struct TestOptions {
    /// The repository the policies are tested in (where `read` grants point).
    pub path: PathBuf,
    pub policy: Option<PathBuf>,
    /// Record and report coverage of the Rego policies.
    pub coverage: bool,
    /// Fail below this coverage, in percent (implies `coverage`).
    pub coverage_threshold: Option<f64>,
    /// Fixture cases; default `<policy's directory>/policy-tests` when it exists.
    pub fixtures: Option<PathBuf>,
    /// Rewrite each case's `expected.toml` from what the gate found.
    pub update: bool,
    pub jobs: usize,
    pub cache_dir: Option<PathBuf>,
}

impl TestOptions {
    /// A plain gate run on `path` (the policy is passed separately).
    fn check_options(&self, path: PathBuf) -> CheckOptions {
        CheckOptions {
            jobs: self.jobs,
            cache_dir: self.cache_dir.clone(),
            ..CheckOptions::new(path)
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub percent: f64,
    pub covered: u64,
    pub total: u64,
    /// Per policy file: the lines evaluated and not evaluated.
    pub files: Vec<FileCoverage>,
}

/// How a fixture case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FixtureStatus {
    Pass,
    /// Findings or verdict differ from `expected.toml`.
    Fail,
    /// `--update` wrote `expected.toml`.
    Updated,
    /// The case could not be run.
    Error,
}

impl FixtureStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FixtureStatus::Pass => "pass",
            FixtureStatus::Fail => "fail",
            FixtureStatus::Updated => "updated",
            FixtureStatus::Error => "error",
        }
    }
}

/// One fixture case's result.
#[derive(Debug, Clone, Serialize)]
pub struct FixtureResult {
    pub name: String,
    pub result: FixtureStatus,
    /// What differs, one line each.
    pub diffs: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct TestReport {
    pub tests: Vec<TestResult>,
    pub coverage: Option<Coverage>,
    pub coverage_threshold: Option<f64>,
    pub fixtures: Vec<FixtureResult>,
    /// What was done differently, or left out, and why.
    pub notes: Vec<String>,
    /// Why something could not be evaluated (exit 2).
    pub errors: Vec<String>,
}

impl TestReport {
    pub fn exit(&self) -> Exit {
        if !self.errors.is_empty()
            || self.tests.iter().any(|t| t.status == TestStatus::Error)
            || self
                .fixtures
                .iter()
                .any(|f| f.result == FixtureStatus::Error)
        {
            return Exit::Error;
        }
        let below = match (&self.coverage, self.coverage_threshold) {
            (Some(c), Some(t)) => c.percent + 1e-9 < t,
            _ => false,
        };
        if below
            || self.tests.iter().any(|t| t.status == TestStatus::Fail)
            || self
                .fixtures
                .iter()
                .any(|f| f.result == FixtureStatus::Fail)
        {
            Exit::Fail
        } else {
            Exit::Pass
        }
    }
}

/// `expected.toml` of a fixture case.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    /// `pass` or `fail`.
    verdict: String,
    #[serde(default)]
    findings: Vec<ExpectedFinding>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExpectedFinding {
    rule: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<u32>,
}

pub fn run(opts: &TestOptions) -> Result<TestReport, Error> {
    let policy = check::resolve_policy(&opts.path, opts.policy.as_deref())?;
    let fixtures = match &opts.fixtures {
        Some(d) => {
            if !d.is_dir() {
                return Err(Error::Usage(format!(
                    "--fixtures {}: not a directory",
                    d.display()
                )));
            }
            Some(d.clone())
        }
        // Next to the policy file, given or found.
        None => policy_file(&policy)
            .map(|file| file.parent().unwrap_or(Path::new("")).join(FIXTURE_DIR)),
    };
    let mut report = TestReport {
        coverage_threshold: opts.coverage_threshold,
        ..TestReport::default()
    };
    let fixtures = match fixtures {
        Some(dir) if opts.fixtures.is_none() && !dir.is_dir() => {
            report.notes.push(format!(
                "no fixture cases: {} does not exist (or pass --fixtures DIR)",
                dir.display()
            ));
            None
        }
        other => other,
    };
    let coverage = opts.coverage || opts.coverage_threshold.is_some();
    let check_opts = opts.check_options(opts.path.clone());
    let mut coverage_files: BTreeMap<String, FileCoverage> = BTreeMap::new();
    let plugins = check::test_plugins(&check_opts, &policy, coverage, &Quiet)?;
    if plugins.is_empty() && fixtures.is_none() {
        return Err(Error::Usage(format!(
            "nothing to test: no plugin of the policy has tests (as `builtin:rego` has) and there is no fixture directory (--fixtures DIR, or {FIXTURE_DIR}/ next to the policy)"
        )));
    }
    for plugin in plugins {
        let run = match plugin.result {
            Ok(run) => run,
            Err(f) => {
                report.errors.push(format!("plugin {}: {f}", plugin.plugin));
                continue;
            }
        };
        report.tests.extend(run.tests);
        for file in run.coverage {
            let e = coverage_files
                .entry(file.file.clone())
                .or_insert_with(|| FileCoverage {
                    file: file.file.clone(),
                    ..FileCoverage::default()
                });
            e.covered.extend(file.covered);
            e.not_covered.extend(file.not_covered);
        }
    }
    if coverage && !coverage_files.is_empty() {
        let (mut covered, mut total) = (0u64, 0u64);
        let files: Vec<FileCoverage> = coverage_files
            .into_values()
            .map(|mut f| {
                f.covered.sort_unstable();
                f.covered.dedup();
                f.not_covered.sort_unstable();
                f.not_covered.dedup();
                // A line evaluated by one plugin's tests is covered.
                f.not_covered
                    .retain(|l| f.covered.binary_search(l).is_err());
                covered += f.covered.len() as u64;
                total += (f.covered.len() + f.not_covered.len()) as u64;
                f
            })
            .collect();
        report.coverage = Some(Coverage {
            percent: if total == 0 {
                100.0
            } else {
                covered as f64 * 100.0 / total as f64
            },
            covered,
            total,
            files,
        });
    }
    if let Some(dir) = fixtures {
        let for_cases = policy_for_cases(&policy, &opts.path, &mut report.notes);
        report.fixtures = run_fixtures(&dir, opts, &for_cases)?;
    }
    Ok(report)
}

/// Where fixture cases are looked for next to the policy file.
const FIXTURE_DIR: &str = "policy-tests";

/// The policy's file, when it is one (not the built-in default).
fn policy_file(policy: &Policy) -> Option<&Path> {
    (policy.origin != crate::policy::DEFAULT_POLICY_NAME).then(|| Path::new(&policy.origin))
}

/// The policy as fixture cases run it. A case's `repo/` stands for the
/// repository, so Rego policies the policy reads from the repository
/// itself (`policy = ["policy"]`, a path under `/repo`) would be missing
/// there: each such directory of the tested repository is mounted into
/// the case's run instead, and said so in a note.
fn policy_for_cases(policy: &Policy, repo: &Path, notes: &mut Vec<String>) -> Policy {
    let mut policy = policy.clone();
    for spec in &mut policy.plugins {
        if spec.source != crate::policy::Source::Builtin("rego".into()) {
            continue;
        }
        let Some(dirs) = spec
            .config
            .get_mut("policy")
            .and_then(serde_json::Value::as_array_mut)
        else {
            continue;
        };
        for (i, entry) in dirs.iter_mut().enumerate() {
            let Some(rel) = entry.as_str().filter(|p| !p.starts_with('/')) else {
                continue;
            };
            let name = format!("repository-policy-{i}");
            notes.push(format!(
                "fixture cases read plugin `{}`'s policy `{rel}` from {}, mounted at /mnt/{name}",
                spec.id,
                from_repo(repo, rel).display()
            ));
            spec.mounts.push(crate::policy::Mount {
                name: name.clone(),
                path: from_repo(repo, rel),
                at: spec.at.clone(),
            });
            *entry = serde_json::Value::String(format!("/mnt/{name}"));
        }
    }
    policy
}

/// Run the gate on every case under `dir` (sorted) and compare.
fn run_fixtures(
    dir: &Path,
    opts: &TestOptions,
    policy: &Policy,
) -> Result<Vec<FixtureResult>, Error> {
    let update = opts.update;
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    if cases.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no fixture cases (directories with repo/ and expected.toml)",
            dir.display()
        )));
    }
    let mut out = Vec::new();
    for case in cases {
        let name = case
            .strip_prefix(dir.parent().unwrap_or(dir))
            .unwrap_or(&case)
            .display()
            .to_string();
        let repo = case.join("repo");
        let expected_path = case.join("expected.toml");
        if !repo.is_dir() {
            out.push(FixtureResult {
                name,
                result: FixtureStatus::Error,
                diffs: vec![format!("{}: missing", repo.display())],
            });
            continue;
        }
        let opts = opts.check_options(repo);
        let outcome = check::run_check_with(&opts, policy.clone(), &Quiet)?;
        let failures = outcome.failures();
        if !failures.is_empty() {
            out.push(FixtureResult {
                name,
                result: FixtureStatus::Error,
                diffs: failures,
            });
            continue;
        }
        let mut actual: Vec<ExpectedFinding> = outcome
            .counted()
            .map(|f| {
                let loc = f.locations.first();
                ExpectedFinding {
                    rule: f.rule_id.clone(),
                    path: loc.map(|l| l.path.clone()),
                    line: loc.and_then(|l| l.region.as_ref()).map(|r| r.start_line),
                }
            })
            .collect();
        actual.sort();
        let verdict = match outcome.verdict.exit {
            Exit::Pass => "pass",
            _ => "fail",
        };
        out.push(compare_case(name, &expected_path, verdict, actual, update)?);
    }
    Ok(out)
}

/// Compare a case's findings and verdict with its `expected.toml`, or
/// write that file with `--update`.
fn compare_case(
    name: String,
    expected_path: &Path,
    verdict: &str,
    actual: Vec<ExpectedFinding>,
    update: bool,
) -> Result<FixtureResult, Error> {
    if update {
        let doc = Expected {
            verdict: verdict.into(),
            findings: actual,
        };
        let text = toml::to_string_pretty(&doc).map_err(|e| Error::io(expected_path, e))?;
        std::fs::write(expected_path, text)
            .map_err(|e| Error::io(expected_path, format!("cannot write: {e}")))?;
        return Ok(FixtureResult {
            name,
            result: FixtureStatus::Updated,
            diffs: Vec::new(),
        });
    }
    let text = match crate::files::read_to_string(expected_path, crate::files::MAX_POLICY_BYTES) {
        Ok(t) => t,
        Err(e) => {
            return Ok(FixtureResult {
                name,
                result: FixtureStatus::Error,
                diffs: vec![format!(
                    "{}: {e} (write it with --update)",
                    expected_path.display()
                )],
            });
        }
    };
    let expected: Expected = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map_or(1, |s| text[..s.start].matches('\n').count() + 1);
        Error::Policy {
            path: format!("{}:{line}", expected_path.display()),
            message: e.message().to_string(),
        }
    })?;
    if !matches!(expected.verdict.as_str(), "pass" | "fail") {
        return Err(Error::Policy {
            path: expected_path.display().to_string(),
            message: format!(
                "verdict must be \"pass\" or \"fail\", not {:?}",
                expected.verdict
            ),
        });
    }
    let mut diffs = Vec::new();
    if expected.verdict != verdict {
        diffs.push(format!(
            "verdict: expected {}, got {verdict}",
            expected.verdict
        ));
    }
    // Match each expected finding with one actual finding; an expected
    // finding without path or line matches any.
    let mut left: Vec<Option<ExpectedFinding>> = actual.into_iter().map(Some).collect();
    for e in &expected.findings {
        let hit = left.iter_mut().find(|a| {
            a.as_ref().is_some_and(|a| {
                a.rule == e.rule
                    && (e.path.is_none() || e.path == a.path)
                    && (e.line.is_none() || e.line == a.line)
            })
        });
        match hit {
            Some(slot) => *slot = None,
            None => diffs.push(format!("missing: {}", describe(e))),
        }
    }
    for a in left.into_iter().flatten() {
        diffs.push(format!("unexpected: {}", describe(&a)));
    }
    Ok(FixtureResult {
        name,
        result: if diffs.is_empty() {
            FixtureStatus::Pass
        } else {
            FixtureStatus::Fail
        },
        diffs,
    })
}

fn describe(f: &ExpectedFinding) -> String {
    match (&f.path, f.line) {
        (Some(p), Some(l)) => format!("{} at {p}:{l}", f.rule),
        (Some(p), None) => format!("{} in {p}", f.rule),
        _ => f.rule.clone(),
    }
}

/// `rel` in the repository at `repo` (`policy`, not `./policy`, for `.`).
fn from_repo(repo: &Path, rel: &str) -> PathBuf {
    if repo == Path::new(".") {
        PathBuf::from(rel)
    } else {
        repo.join(rel)
    }
}
