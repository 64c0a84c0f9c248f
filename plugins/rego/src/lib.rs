//! The rego plugin: Open Policy Agent policies (Rego) with conftest's
//! conventions, evaluated by an engine compiled into the plugin, inside the
//! sandbox.
//!
//! Data path: the config's `.rego` modules, annotations and data files
//! (`policies`) → one engine; the inputs (`inputs`: repository files parsed
//! as JSON, YAML, TOML or Dockerfile instructions, evidence, reports) → for
//! each, every `deny`/`violation`/`warn` rule of the namespaces
//! (`evaluate`) → findings with one SARIF rule per Rego rule. `portcullis
//! test` calls `run_tests` instead: the `test_*` rules, with coverage.

pub mod config;
mod dockerfile;
mod evaluate;
mod hcl;
pub mod inputs;
pub mod policies;
pub mod positions;
mod rules;
mod run_tests;

use std::collections::BTreeSet;

use portcullis_sdk::{
    Context, Evaluation, EvidenceKind, Plugin, PluginInfo, TestRun, export_plugin,
};

use config::Config;
pub use rules::RULES;

pub struct Rego;

impl Plugin for Rego {
    fn describe() -> PluginInfo {
        PluginInfo::new("rego", env!("CARGO_PKG_VERSION"))
            .rules(RULES)
            .reads(EvidenceKind::Files)
            .reads(EvidenceKind::Reports)
            .with_tests()
    }

    fn run_tests(ctx: &Context, coverage: bool) -> Result<TestRun, String> {
        let config: Config = ctx.config()?;
        let policies = policies::load(ctx, &config)?;
        let mut engine = policies::engine(&policies, &config, true)?;
        Ok(run_tests::run(&mut engine, &policies, coverage))
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        let config: Config = ctx.config()?;
        let policies = policies::load(ctx, &config)?;
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
            .map_err(|e| policies::rego_error_in(&e.to_string(), &policies))?;
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
        // Packages with no tests in them (conftest allows tests beside the
        // rules) can be evaluated whole.
        let whole: BTreeSet<String> = packages
            .iter()
            .filter(|p| {
                // `data.<package>` holds its sub-packages too.
                let below = format!("{p}.");
                !policies.modules.iter().any(|m| {
                    m.package.starts_with(&below)
                        || (&m.package == *p
                            && (m.is_test || m.rules.iter().any(|(n, _)| n.starts_with("test_"))))
                })
            })
            .cloned()
            .collect();
        let docs = inputs::collect(ctx, &config)?;
        evaluate::check(
            ctx,
            &mut engine,
            &conventions,
            &packages,
            &has_exception,
            &whole,
            &docs,
        )
    }
}

export_plugin!(Rego);
