//! The rego plugin: Open Policy Agent policies (Rego) with conftest's
//! conventions, evaluated by an engine compiled into the plugin, inside the
//! sandbox.
//!
//! Data path: the config's `.rego` modules, annotations and data files
//! (`policies`) → one engine; the inputs (`inputs`: repository files parsed
//! as JSON, YAML, TOML or Dockerfile instructions, evidence, reports) → for
//! each, every `deny`/`violation`/`warn` rule of the namespaces
//! (`evaluate`) → findings with one SARIF rule per Rego rule. In test mode
//! (`portcullis test`) the `test_*` rules run instead (`run_tests`).

pub mod config;
mod dockerfile;
mod evaluate;
pub mod inputs;
pub mod policies;
mod run_tests;

use std::collections::BTreeSet;

use portcullis_sdk::{
    Context, Evaluation, EvidenceKind, Level, Plugin, PluginInfo, Rule, export_plugin,
};

use config::{Config, Mode};

pub struct Rego;

/// The plugin's own rules; the policies' rules are discovered per run as
/// `<package>/<rule>` (e.g. `rego/main/deny_privileged`).
pub fn rules() -> Vec<Rule> {
    vec![
        Rule::new(
            "exception",
            "RegoException",
            Level::Note,
            "A result a policy's `exception` rule exempted for this input.",
        )
        .full("conftest's exceptions: `exception contains rules if …` names rules (without their `deny_`/`violation_`/`warn_` prefix) that do not apply to an input.")
        .help("Nothing to do; the finding records that an exception applied.")
        .tags(&["rego"]),
        Rule::new("test", "RegoTest", Level::Note, "The result of one Rego test (`portcullis test`).")
            .full("A `test_*` rule of a `*_test.rego` module: it passes when it is defined and not false.")
            .help("Fix the policy or the test; `portcullis test -v` shows each test.")
            .tags(&["rego", "test"]),
        Rule::new("coverage", "RegoCoverage", Level::Note, "Which policy lines the Rego tests evaluated.")
            .full("The share of policy lines evaluated by the tests, per file (`portcullis test --coverage`).")
            .help("Add tests for the lines listed as not covered.")
            .tags(&["rego", "test"]),
    ]
}

impl Plugin for Rego {
    fn describe() -> PluginInfo {
        let mut info = PluginInfo::new("rego", env!("CARGO_PKG_VERSION"))
            .reads(EvidenceKind::Files)
            .reads(EvidenceKind::CargoMetadata)
            .reads(EvidenceKind::Reports);
        info.rules = rules();
        info
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        let config: Config = ctx.config()?;
        let policies = policies::load(ctx, &config)?;
        if config.mode == Mode::Test {
            let mut engine = policies::engine(&policies, &config, true)?;
            return Ok(run_tests::run(&mut engine, &policies, config.coverage));
        }
        if config.inputs.is_empty() {
            return Err(
                "config.inputs: name what to evaluate (files, evidence or a report)".into(),
            );
        }
        let mut engine = policies::engine(&policies, &config, false)?;
        // Evaluate every rule once without input, as OPA's compile step
        // would, so an unknown function or a broken helper fails the run
        // even when no input reaches it.
        engine
            .eval_modules(false)
            .map_err(|e| policies::rego_error(&e.to_string()))?;
        let conventions = evaluate::conventions(&policies, &config);
        if conventions.is_empty() {
            let ns = evaluate::all_namespaces(&config);
            return Err(format!(
                "config.namespaces: no deny, violation or warn rules in package{} {} of the policies",
                if ns.len() == 1 { "" } else { "s" },
                ns.join(", ")
            ));
        }
        let packages: BTreeSet<String> = conventions.iter().map(|c| c.package.clone()).collect();
        let has_exception: BTreeSet<String> = policies
            .modules
            .iter()
            .filter(|m| !m.is_test && m.rules.iter().any(|(n, _)| n == "exception"))
            .map(|m| m.package.clone())
            .collect();
        let docs = inputs::collect(ctx, &config)?;
        evaluate::check(
            ctx,
            &mut engine,
            &conventions,
            &packages,
            &has_exception,
            &docs,
        )
    }
}

export_plugin!(Rego);
