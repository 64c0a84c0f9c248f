//! The parts of `cargo metadata` the plugin reads: declared licenses and
//! version requirements, which Cargo.lock does not hold.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Metadata {
    pub packages: Vec<Package>,
    #[serde(default)]
    pub workspace_root: String,
}

#[derive(Debug, Deserialize)]
pub struct Package {
    pub name: String,
    pub version: String,
    #[serde(default)]
    pub license: Option<String>,
    #[serde(default)]
    pub license_file: Option<String>,
    #[serde(default)]
    pub source: Option<String>,
    pub manifest_path: String,
    #[serde(default)]
    pub dependencies: Vec<Dependency>,
}

#[derive(Debug, Deserialize)]
pub struct Dependency {
    pub name: String,
    pub req: String,
    #[serde(default)]
    pub path: Option<String>,
}

pub fn parse(json: &str) -> Result<Metadata, String> {
    serde_json::from_str(json).map_err(|e| format!("cargo metadata output is not understood: {e}"))
}
