//! The lint plugin: repository hygiene a pre-push hook needs, and import of
//! linter output users already produce (clippy/rustc JSON, any SARIF log).
//!
//! Rules live one per file under `rules/`; importers under `imports/`.

mod config;
mod imports;
mod rules;

use portcullis_sdk::{Context, Evaluation, EvidenceKind, Plugin, PluginInfo, export_plugin};

pub use config::Config;
pub use rules::RULES;

pub struct Lint;

impl Plugin for Lint {
    fn describe() -> PluginInfo {
        PluginInfo::new("lint", env!("CARGO_PKG_VERSION"))
            .rules(RULES)
            .reads(EvidenceKind::Files)
            .reads(EvidenceKind::Reports)
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        let config: Config = ctx.config()?;
        let scope = config.scope(ctx.reports().iter().map(|r| r.path.as_str()))?;
        let mut out = Evaluation::default();
        rules::hygiene(ctx, &config, &scope, &mut out)?;
        let imported = imports::import_all(ctx, &config.checkout_roots, &mut out)?;
        if let Some(budget) = config.max_warnings {
            rules::max_warnings::check(imported.warnings, budget, &mut out);
        }
        Ok(out)
    }
}

export_plugin!(Lint);
