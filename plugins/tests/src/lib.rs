//! The tests plugin: the build's test and coverage reports as a quality
//! gate — failed, errored and flaky tests, suites that crashed or ran
//! nothing, coverage on the lines the change adds or modifies, overall and
//! per-path coverage, and coverage falling against a baseline.
//!
//! Data path: config paths and globs → files (`inputs`); JUnit XML →
//! test cases (`junit`, on the streaming reader in `xml`), and pytest's
//! JSON → the same cases (`pytest_json`); coverage reports
//! → measured and covered lines per repository file (`coverage`, paths
//! mapped by `paths`); the change's lines from the host (`changed-lines`)
//! → coverage on new code; every verdict → a finding (`report`), failures
//! placed at the test's definition (`locate`).

pub mod config;
pub mod coverage;
mod inputs;
pub mod junit;
mod locate;
pub mod paths;
mod pytest_json;
mod report;
pub mod rules;
mod xml;

use portcullis_sdk::{Context, Evaluation, Plugin, PluginInfo, export_plugin};

pub use config::Config;
pub use rules::RULES;

pub struct Tests;

impl Plugin for Tests {
    fn describe() -> PluginInfo {
        PluginInfo::new("tests", env!("CARGO_PKG_VERSION"))
            .rules(RULES)
            .reads_files()
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        let config: Config = ctx.config()?;
        config.validate()?;
        let mut resolver =
            paths::Resolver::new(ctx.files().iter().map(|f| f.path.as_str()), ctx.host_root());
        for (module, dir) in go_modules(ctx) {
            resolver.go_module(&module, &dir);
        }

        let mut parsed = junit::Parsed {
            slow: config.slow,
            ..junit::Parsed::default()
        };
        for (i, pattern) in config.junit.iter().enumerate() {
            let key = format!("config.junit[{i}]");
            for (path, at) in build_outputs(ctx, &resolver, pattern, &key)? {
                let input = inputs::open(&path, &at)?;
                junit::read(&mut xml::Xml::new(input, &path, &at), &mut parsed)?;
            }
        }

        for (i, pattern) in config.pytest_json.iter().enumerate() {
            let key = format!("config.pytest-json[{i}]");
            for (path, at) in build_outputs(ctx, &resolver, pattern, &key)? {
                pytest_json::read(inputs::open(&path, &at)?, &path, &mut parsed)?;
            }
        }

        let current = read_coverage(ctx, &config.coverage, "coverage", &resolver)?;
        let baseline = read_coverage(ctx, &config.baseline, "baseline", &resolver)?;
        let lines = if config.coverage.is_empty() {
            None
        } else {
            match ctx.changed_lines() {
                Ok(lines) => lines,
                // Without `new-code-min` the new lines only place
                // annotations: a base git cannot compare with costs those,
                // not the run. With it, the gate cannot be evaluated.
                Err(e) if config.new_code_min.is_none() => {
                    portcullis_sdk::log(
                        portcullis_sdk::LogLevel::Warn,
                        &format!("uncovered new lines not annotated: {e}"),
                    );
                    None
                }
                Err(e) => return Err(e),
            }
        };
        if config.new_code_min.is_some() && lines.is_none() {
            portcullis_sdk::log(
                portcullis_sdk::LogLevel::Warn,
                "coverage on new code not measured: the change's base is not known (run with --changed-since <base>, or name the pull request's context as a report)",
            );
        }
        let mut locator = locate::Locator::new(ctx, &resolver);
        report::findings(
            ctx,
            &config,
            &parsed,
            &mut locator,
            current.as_ref(),
            baseline.as_ref(),
            lines,
        )
    }
}

export_plugin!(Tests);

fn read_coverage(
    ctx: &Context,
    inputs_: &[config::CoverageInput],
    key: &str,
    resolver: &paths::Resolver,
) -> Result<Option<coverage::Coverage>, String> {
    if inputs_.is_empty() {
        return Ok(None);
    }
    let mut cov = coverage::Coverage::default();
    for (i, input) in inputs_.iter().enumerate() {
        let key = format!("config.{key}[{i}].path");
        for (path, at) in build_outputs(ctx, resolver, &input.path, &key)? {
            let reader = inputs::open(&path, &at)?;
            coverage::read(input.format, reader, &path, &at, resolver, &mut cov)?;
        }
    }
    if !cov.files.is_empty() && cov.unmapped.len() == cov.files.len() {
        let first = cov.unmapped.iter().next().cloned().unwrap_or_default();
        return Err(format!(
            "config.{key}: none of the {} files the reports measure is a file of this repository (`{}` first): run the tests in this checkout, or write the reports' paths relative to it",
            cov.files.len(),
            portcullis_sdk::text::escape_controls(&first)
        ));
    }
    if !cov.unmapped.is_empty() {
        let first = cov.unmapped.iter().next().cloned().unwrap_or_default();
        portcullis_sdk::log(
            portcullis_sdk::LogLevel::Warn,
            &format!(
                "{} file(s) of the {key} reports are not files of this repository (`{}` first): counted in overall coverage, never as new code",
                cov.unmapped.len(),
                portcullis_sdk::text::escape_controls(&first)
            ),
        );
    }
    Ok(Some(cov))
}

/// The report files `pattern` names (the config's `key`), each checked to
/// come from this run: a build output the repository ignores, never a file
/// of the checked tree, which the change under review could have written
/// to stand in for a run (`git add -f`, an edited `.gitignore`). Reports
/// under a mount are outside the tree.
fn build_outputs(
    ctx: &Context,
    resolver: &paths::Resolver,
    pattern: &str,
    key: &str,
) -> Result<inputs::Found, String> {
    let found = inputs::expand(ctx, pattern, key)?;
    if let Some((path, _)) = found
        .iter()
        .find(|(path, _)| resolver.contains(path.trim_start_matches("./")))
    {
        return Err(format!(
            "{key}: `{path}` is a file of the repository (tracked, or not ignored): a report must be a build output the repository ignores (add it to .gitignore), or a committed file could stand in for the test run"
        ));
    }
    Ok(found)
}

/// Go modules of the repository: (module path, directory of its go.mod).
fn go_modules(ctx: &Context) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for f in ctx
        .files()
        .iter()
        .filter(|f| (f.path == "go.mod" || f.path.ends_with("/go.mod")) && f.size < 1 << 20)
    {
        let Ok(text) = ctx.read_to_string(&f.path) else {
            continue;
        };
        if let Some(module) = text.lines().find_map(|l| {
            l.trim()
                .strip_prefix("module")
                .filter(|r| r.starts_with([' ', '\t']))
                .map(|r| r.trim().trim_matches('"').to_string())
        }) {
            let dir = f
                .path
                .strip_suffix("go.mod")
                .unwrap_or("")
                .trim_end_matches('/');
            out.push((module, dir.to_string()));
        }
        if out.len() >= 100 {
            break;
        }
    }
    out
}
