//! The deps plugin: Rust dependencies against advisories, licenses, bans
//! and allowed sources, offline.
//!
//! Data path: Cargo.lock (every resolved package and its line) and cargo
//! metadata (declared licenses and requirements) → the checks in `checks`
//! (advisories from a mounted RustSec database, licenses, bans, sources) →
//! findings on the package's Cargo.lock line.

mod advisories;
mod checks;
mod config;
mod lockfile;
mod metadata;

use portcullis_sdk::{Context, Evaluation, EvidenceKind, Level, Plugin, PluginInfo, Rule};

pub use config::Config;

pub struct Deps;

struct RuleDef {
    id: &'static str,
    name: &'static str,
    level: Level,
    short: &'static str,
    help: &'static str,
    severity: Option<f32>,
}

const RULES: &[RuleDef] = &[
    RuleDef {
        id: "advisory",
        name: "VulnerableDependency",
        level: Level::Error,
        short: "A dependency has a security advisory.",
        help: "Upgrade to a patched version (`cargo update -p <crate>`), or ignore the advisory in the plugin's config with a reason.",
        severity: Some(7.0),
    },
    RuleDef {
        id: "unmaintained",
        name: "UnmaintainedDependency",
        level: Level::Warning,
        short: "A dependency is reported unmaintained.",
        help: "Move to a maintained alternative named in the advisory.",
        severity: None,
    },
    RuleDef {
        id: "unsound",
        name: "UnsoundDependency",
        level: Level::Warning,
        short: "A dependency has an unsoundness advisory.",
        help: "Upgrade, or check that the unsound API is not used.",
        severity: None,
    },
    RuleDef {
        id: "notice",
        name: "DependencyNotice",
        level: Level::Note,
        short: "A dependency has an informational advisory.",
        help: "Read the advisory.",
        severity: None,
    },
    RuleDef {
        id: "advisory-db",
        name: "AdvisoryDatabase",
        level: Level::Warning,
        short: "The advisory database is missing or stale.",
        help: "Fetch it: `git clone https://github.com/rustsec/advisory-db ~/.cargo/advisory-db`, or `git -C ~/.cargo/advisory-db pull` to refresh it.",
        severity: None,
    },
    RuleDef {
        id: "unused-ignore",
        name: "UnusedAdvisoryIgnore",
        level: Level::Warning,
        short: "An ignored advisory no longer matches any dependency.",
        help: "Remove the entry from `advisories.ignore`.",
        severity: None,
    },
    RuleDef {
        id: "license",
        name: "LicenseNotAllowed",
        level: Level::Error,
        short: "A dependency's license is not allowed by the policy.",
        help: "Replace the crate, or allow its license (or clarify its expression) in the plugin's `licenses` config.",
        severity: None,
    },
    RuleDef {
        id: "unlicensed",
        name: "UnlicensedDependency",
        level: Level::Error,
        short: "A dependency declares no SPDX license.",
        help: "Add a `licenses.clarify` entry with the license expression that applies.",
        severity: None,
    },
    RuleDef {
        id: "banned",
        name: "BannedDependency",
        level: Level::Error,
        short: "A banned crate is in the dependency graph.",
        help: "Remove the dependency or the one pulling it in (`cargo tree -i <crate>`).",
        severity: None,
    },
    RuleDef {
        id: "duplicate",
        name: "DuplicateDependency",
        level: Level::Warning,
        short: "A crate is built in more than one version.",
        help: "Align the requirements (`cargo tree -d`), or list the crate in `bans.skip-duplicates`.",
        severity: None,
    },
    RuleDef {
        id: "wildcard",
        name: "WildcardRequirement",
        level: Level::Error,
        short: "A dependency is required with a `*` version.",
        help: "Require a version range instead of `*`.",
        severity: None,
    },
    RuleDef {
        id: "source",
        name: "DisallowedSource",
        level: Level::Error,
        short: "A dependency comes from a registry or git repository the policy does not allow.",
        help: "Use crates.io, or allow the source in `sources.allow-registries` / `sources.allow-git`.",
        severity: None,
    },
];

/// Every rule, in the order `portcullis rules` lists them.
pub fn rules() -> Vec<Rule> {
    RULES
        .iter()
        .map(|r| {
            let rule = Rule::new(r.id, r.name, r.level, r.short)
                .full(r.short)
                .help(r.help)
                .tags(&["security", "supply-chain"]);
            match r.severity {
                Some(s) => rule.security_severity(s),
                None => rule,
            }
        })
        .collect()
}

impl Plugin for Deps {
    fn describe() -> PluginInfo {
        let mut info = PluginInfo::new("deps", env!("CARGO_PKG_VERSION"))
            .reads(EvidenceKind::Files)
            .reads(EvidenceKind::CargoMetadata);
        info.rules = rules();
        info
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        let config: Config = ctx.config()?;
        checks::run(ctx, &config)
    }
}

portcullis_sdk::export_plugin!(Deps);
