//! The plugin's `config` table in the policy.

use globset::GlobSet;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Files larger than this many KiB are `large-file` findings.
    #[serde(default = "default_max_file_kb")]
    pub max_file_kb: u64,
    /// Globs of repository paths the hygiene rules skip.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Largest file whose content is scanned, in MiB (bigger files are
    /// always `large-file` findings).
    #[serde(default = "default_max_scan_mb")]
    pub max_scan_mb: u64,
    /// Fail when imported reports hold more warnings than this.
    #[serde(default)]
    pub max_warnings: Option<u64>,
    /// Absolute roots of other checkouts of this repository that imported
    /// reports name paths under (a tool run in a container at
    /// `/src/<repo>`): a path under one is mapped to the repository.
    #[serde(default)]
    pub checkout_roots: Vec<String>,
}

fn default_max_file_kb() -> u64 {
    500
}

fn default_max_scan_mb() -> u64 {
    32
}

/// Which files the hygiene rules look at.
pub struct Scope {
    exclude: GlobSet,
    /// Report files the policy names: evidence about the change, written by
    /// tools (clippy's JSON lines are not one JSON document), not source.
    reports: std::collections::HashSet<String>,
}

impl Scope {
    pub fn includes(&self, path: &str) -> bool {
        // An empty set is not asked: matching builds a candidate for each
        // path, and the hygiene rules ask for every path of the tree.
        (self.exclude.is_empty() || !self.exclude.is_match(path))
            && (self.reports.is_empty() || !self.reports.contains(path))
    }
}

impl Config {
    /// The files the hygiene rules check: all but `exclude` and the
    /// `reports` (repository-relative paths).
    pub fn scope<'a>(&self, reports: impl IntoIterator<Item = &'a str>) -> Result<Scope, String> {
        let exclude = portcullis_sdk::globset("exclude", &self.exclude)?;
        if !(1..=64).contains(&self.max_scan_mb) {
            return Err(format!(
                "config: max-scan-mb must be between 1 and 64, not {}",
                self.max_scan_mb
            ));
        }
        if let Some(root) = self
            .checkout_roots
            .iter()
            .find(|r| r.trim_end_matches(['/', '\\']).is_empty())
        {
            return Err(format!(
                "config: checkout-roots: `{root}` is the file system's root: name the checkout's directory"
            ));
        }
        if let Some(bad) = self.checkout_roots.iter().find(|r| {
            !(r.starts_with('/') || r.get(1..3) == Some(":/") || r.get(1..3) == Some(":\\"))
        }) {
            return Err(format!(
                "config: checkout-roots: `{bad}` is not an absolute path"
            ));
        }
        Ok(Scope {
            exclude,
            reports: reports.into_iter().map(str::to_string).collect(),
        })
    }
}
