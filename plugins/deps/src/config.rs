//! The plugin's `config` table in the policy.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default)]
    pub advisories: Advisories,
    /// License checks run only when this table is present.
    #[serde(default)]
    pub licenses: Option<Licenses>,
    #[serde(default)]
    pub bans: Bans,
    #[serde(default)]
    pub sources: Sources,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Advisories {
    /// The policy mount holding the RustSec advisory database.
    #[serde(default = "default_mount")]
    pub mount: String,
    /// A missing database is a note instead of an error.
    #[serde(default)]
    pub optional: bool,
    /// Report a database older than this (0 = never).
    #[serde(default = "default_max_age")]
    pub max_age_days: u64,
    #[serde(default)]
    pub ignore: Vec<Ignore>,
}

impl Default for Advisories {
    fn default() -> Self {
        Advisories {
            mount: default_mount(),
            optional: false,
            max_age_days: default_max_age(),
            ignore: Vec::new(),
        }
    }
}

fn default_mount() -> String {
    "advisory-db".into()
}

fn default_max_age() -> u64 {
    30
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ignore {
    pub id: String,
    pub reason: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Licenses {
    /// SPDX licensees accepted (`MIT`, `Apache-2.0 WITH LLVM-exception`).
    /// Empty: anything not denied.
    #[serde(default)]
    pub allow: Vec<String>,
    #[serde(default)]
    pub deny: Vec<String>,
    /// Per-crate license expressions that replace what the crate declares.
    #[serde(default)]
    pub clarify: Vec<Clarify>,
    /// Check the workspace's own (path) crates too.
    #[serde(default)]
    pub include_workspace: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Clarify {
    #[serde(rename = "crate")]
    pub krate: String,
    /// Only these versions (a semver requirement); all when absent.
    #[serde(default)]
    pub version: Option<String>,
    pub expression: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Bans {
    #[serde(default)]
    pub deny: Vec<Ban>,
    /// Report crates present in more than one version.
    #[serde(default = "yes")]
    pub duplicates: bool,
    /// Crates whose duplicates are accepted: `name` or `name@<req>`.
    #[serde(default)]
    pub skip_duplicates: Vec<String>,
    /// Report `*` version requirements (path dependencies excepted).
    #[serde(default = "yes")]
    pub wildcards: bool,
}

impl Default for Bans {
    fn default() -> Self {
        Bans {
            deny: Vec::new(),
            duplicates: true,
            skip_duplicates: Vec::new(),
            wildcards: true,
        }
    }
}

fn yes() -> bool {
    true
}

/// `"openssl"` or `{ crate = "openssl", version = "<0.10", reason = "…" }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Ban {
    Name(String),
    Spec {
        #[serde(rename = "crate")]
        krate: String,
        #[serde(default)]
        version: Option<String>,
        #[serde(default)]
        reason: Option<String>,
    },
}

impl Ban {
    pub fn name(&self) -> &str {
        match self {
            Ban::Name(n) => n,
            Ban::Spec { krate, .. } => krate,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Sources {
    /// Registry index URLs allowed; crates.io by default.
    #[serde(default = "crates_io")]
    pub allow_registries: Vec<String>,
    /// Git repository URLs (or URL prefixes ending in `/`) allowed.
    #[serde(default)]
    pub allow_git: Vec<String>,
}

impl Default for Sources {
    fn default() -> Self {
        Sources {
            allow_registries: crates_io(),
            allow_git: Vec::new(),
        }
    }
}

fn crates_io() -> Vec<String> {
    vec!["https://github.com/rust-lang/crates.io-index".into()]
}

/// Parse a semver requirement from the config, naming the key on error.
pub fn req(key: &str, text: &str) -> Result<semver::VersionReq, String> {
    semver::VersionReq::parse(text)
        .map_err(|e| format!("config.{key}: bad version requirement `{text}`: {e}"))
}
