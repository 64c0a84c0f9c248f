//! The deps plugin: Rust dependencies against advisories, licenses, bans
//! and allowed sources, offline.
//!
//! Data path: Cargo.lock (every resolved package and its line) and cargo
//! metadata (declared licenses and requirements), asked of the host and
//! kept parsed between runs (`facts`) → the checks in `checks`
//! (advisories from a mounted RustSec database, licenses, bans, sources) →
//! findings on the package's Cargo.lock line.

mod advisories;
mod checks;
mod config;
mod facts;
mod lockfile;
mod metadata;
mod rules;

use portcullis_sdk::{Context, Evaluation, EvidenceKind, Plugin, PluginInfo};

pub use config::Config;
pub use rules::RULES;

pub struct Deps;

impl Plugin for Deps {
    fn describe() -> PluginInfo {
        PluginInfo::new("deps", env!("CARGO_PKG_VERSION"))
            .rules(RULES)
            .reads(EvidenceKind::Files)
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        let config: Config = ctx.config()?;
        checks::run(ctx, &config)
    }
}

portcullis_sdk::export_plugin!(Deps);
