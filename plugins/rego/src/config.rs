//! The plugin's `config` table.

use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// `.rego` files or directories holding them (repository-relative or
    /// `/mnt/<name>/…`). `*_test.rego` files are tests; `data.json`,
    /// `data.yaml`, `data.yml` and `data.toml` are data documents.
    pub policy: Vec<String>,
    /// Packages whose `deny`, `violation` and `warn` rules are evaluated
    /// (conftest's `--namespace`); `["*"]` = every package.
    #[serde(default = "default_namespaces")]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub rego_version: RegoVersion,
    /// What is evaluated as `input`.
    #[serde(default)]
    pub inputs: Vec<Input>,
}

fn default_namespaces() -> Vec<String> {
    vec!["main".into()]
}

#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RegoVersion {
    /// Rego v1 (OPA 1.0): `if` and `contains` are required.
    #[default]
    V1,
    /// Rego v0 (`deny[msg] { … }`), for older policies.
    V0,
}

/// One source of `input` documents.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Input {
    /// Globs of repository files; each file (each document of a
    /// multi-document YAML file) is one `input`.
    #[serde(default)]
    pub files: Vec<String>,
    /// How to parse the files; default from the extension.
    pub parser: Option<Parser>,
    /// Evaluate all the files at once, as conftest's `--combine`: `input`
    /// is `[{"path": …, "contents": …}, …]`.
    #[serde(default)]
    pub combine: bool,
    /// Evaluate evidence instead of files: `cargo-metadata`.
    pub evidence: Option<EvidenceInput>,
    /// Evaluate the report of this name from the policy's `[reports]`.
    pub report: Option<String>,
    /// A `files` glob that matches nothing is an error unless optional
    /// (for one policy applied to many repositories).
    #[serde(default)]
    pub optional: bool,
    /// Packages evaluated on these inputs, instead of the top-level
    /// `namespaces` (e.g. only `kubernetes` on manifests).
    pub namespaces: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EvidenceInput {
    CargoMetadata,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Parser {
    Json,
    Yaml,
    Toml,
    Dockerfile,
    /// HCL2: Terraform source (`.tf`), in conftest's shape.
    Hcl,
}

impl Parser {
    /// The parser a file name implies.
    pub fn for_path(path: &str) -> Option<Parser> {
        let name = path.rsplit('/').next().unwrap_or(path);
        let lower = name.to_ascii_lowercase();
        if lower == "cargo.lock" {
            return Some(Parser::Toml);
        }
        if lower == "dockerfile"
            || lower == "containerfile"
            || lower.starts_with("dockerfile.")
            || lower.ends_with(".dockerfile")
            || lower.ends_with(".containerfile")
        {
            return Some(Parser::Dockerfile);
        }
        match lower.rsplit_once('.')?.1 {
            "json" => Some(Parser::Json),
            "yaml" | "yml" => Some(Parser::Yaml),
            "toml" => Some(Parser::Toml),
            "tf" | "tofu" | "hcl" => Some(Parser::Hcl),
            _ => None,
        }
    }
}
