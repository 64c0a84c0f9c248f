//! The rules the deps plugin reports, each declared once; the doc comment
//! of a declaration is the rule's help.

use portcullis_sdk::{RuleDecl, declare_rule};

/// Every rule, in the order `portcullis rules` lists them.
pub const RULES: &[&RuleDecl] = &[
    &ADVISORY,
    &UNMAINTAINED,
    &UNSOUND,
    &NOTICE,
    &ADVISORY_DB,
    &UNUSED_IGNORE,
    &LICENSE,
    &UNLICENSED,
    &BANNED,
    &DUPLICATE,
    &WILDCARD,
    &SOURCE,
];

declare_rule! {
    /// Upgrade to a patched version (`cargo update -p <crate>`), or ignore the advisory in the plugin's config with a reason.
    pub ADVISORY = "advisory" {
        name: "VulnerableDependency",
        level: Error,
        short: "A dependency has a security advisory.",
        tags: ["security", "supply-chain"],
        security_severity: 7.0,
    }

    /// Move to a maintained alternative named in the advisory.
    pub UNMAINTAINED = "unmaintained" {
        name: "UnmaintainedDependency",
        level: Warning,
        short: "A dependency is reported unmaintained.",
        tags: ["security", "supply-chain"],
    }

    /// Upgrade, or check that the unsound API is not used.
    pub UNSOUND = "unsound" {
        name: "UnsoundDependency",
        level: Warning,
        short: "A dependency has an unsoundness advisory.",
        tags: ["security", "supply-chain"],
    }

    /// Read the advisory.
    pub NOTICE = "notice" {
        name: "DependencyNotice",
        level: Note,
        short: "A dependency has an informational advisory.",
        tags: ["security", "supply-chain"],
    }

    /// Fetch it: `git clone https://github.com/rustsec/advisory-db ~/.cargo/advisory-db`, or `git -C ~/.cargo/advisory-db pull` to refresh it.
    pub ADVISORY_DB = "advisory-db" {
        name: "AdvisoryDatabase",
        level: Warning,
        short: "The advisory database is missing or stale.",
        tags: ["security", "supply-chain"],
    }

    /// Remove the entry from `advisories.ignore`.
    pub UNUSED_IGNORE = "unused-ignore" {
        name: "UnusedAdvisoryIgnore",
        level: Warning,
        short: "An ignored advisory no longer matches any dependency.",
        tags: ["security", "supply-chain"],
    }

    /// Replace the crate, or allow its license (or clarify its expression) in the plugin's `licenses` config.
    pub LICENSE = "license" {
        name: "LicenseNotAllowed",
        level: Error,
        short: "A dependency's license is not allowed by the policy.",
        tags: ["security", "supply-chain"],
    }

    /// Add a `licenses.clarify` entry with the license expression that applies.
    pub UNLICENSED = "unlicensed" {
        name: "UnlicensedDependency",
        level: Error,
        short: "A dependency declares no SPDX license.",
        tags: ["security", "supply-chain"],
    }

    /// Remove the dependency or the one pulling it in (`cargo tree -i <crate>`).
    pub BANNED = "banned" {
        name: "BannedDependency",
        level: Error,
        short: "A banned crate is in the dependency graph.",
        tags: ["security", "supply-chain"],
    }

    /// Align the requirements (`cargo tree -d`), or list the crate in `bans.skip-duplicates`.
    pub DUPLICATE = "duplicate" {
        name: "DuplicateDependency",
        level: Warning,
        short: "A crate is built in more than one version.",
        tags: ["security", "supply-chain"],
    }

    /// Require a version range instead of `*`.
    pub WILDCARD = "wildcard" {
        name: "WildcardRequirement",
        level: Error,
        short: "A dependency is required with a `*` version.",
        tags: ["security", "supply-chain"],
    }

    /// Use crates.io, or allow the source in `sources.allow-registries` / `sources.allow-git`.
    pub SOURCE = "source" {
        name: "DisallowedSource",
        level: Error,
        short: "A dependency comes from a registry or git repository the policy does not allow.",
        tags: ["security", "supply-chain"],
    }
}
