//! The parts of `cargo metadata` the plugin reads: declared licenses and
//! version requirements, which Cargo.lock does not hold.
//!
//! Parsed borrowing from the JSON, and only when a check needs it; the
//! dependency lists (most of the document) are kept raw and parsed only for
//! the workspace's own crates.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

#[derive(Debug, Deserialize, Serialize)]
pub struct Metadata<'a> {
    #[serde(borrow)]
    pub packages: Vec<Package<'a>>,
    #[serde(default, borrow)]
    pub workspace_root: Cow<'a, str>,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct Package<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow)]
    pub version: Cow<'a, str>,
    #[serde(default, borrow)]
    pub license: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub license_file: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub source: Option<Cow<'a, str>>,
    #[serde(borrow)]
    pub manifest_path: Cow<'a, str>,
    #[serde(default, borrow, skip_serializing_if = "Option::is_none")]
    dependencies: Option<&'a RawValue>,
}

#[derive(Debug, Deserialize)]
pub struct Dependency<'a> {
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow)]
    pub req: Cow<'a, str>,
    #[serde(default, borrow)]
    pub path: Option<Cow<'a, str>>,
}

impl<'a> Package<'a> {
    /// The package's declared dependencies.
    pub fn dependencies(&self) -> Result<Vec<Dependency<'a>>, String> {
        match self.dependencies {
            Some(raw) => serde_json::from_str(raw.get())
                .map_err(|e| format!("cargo metadata: dependencies of {}: {e}", self.name)),
            None => Ok(Vec::new()),
        }
    }
}

pub fn parse(json: &str) -> Result<Metadata<'_>, String> {
    serde_json::from_str(json).map_err(|e| format!("cargo metadata output is not understood: {e}"))
}

/// The metadata with only what the checks read: every package's identity,
/// licenses, source and manifest, and the declared dependencies of the
/// workspace's own packages (no source) only — most of cargo's output is
/// the dependency lists of every other package.
pub fn reduce(json: &str) -> Result<String, String> {
    let mut meta = parse(json)?;
    for p in &mut meta.packages {
        if p.source.is_some() {
            p.dependencies = None;
        }
    }
    serde_json::to_string(&meta).map_err(|e| format!("cargo metadata: {e}"))
}
