//! `invalid-json`, `invalid-toml`, `invalid-yaml`
//!
//! ## What it checks
//! Files named `*.json`, `*.toml`, `*.yaml`/`*.yml` that do not parse, like
//! pre-commit's `check-json`, `check-toml` and `check-yaml` (all documents of
//! a multi-document YAML file are checked).
//!
//! ## Why it matters
//! A config file that does not parse fails at deploy time, far from the change.
//!
//! ## How to waive
//! Files that are templates or JSON-with-comments go in `config.exclude`.

use portcullis_sdk::{Evaluation, Finding, Level, Location, Region, Rule};

pub fn rule_json() -> Rule {
    Rule::new(
        "invalid-json",
        "InvalidJson",
        Level::Error,
        "A .json file does not parse.",
    )
    .help("Fix the syntax error; JSON-with-comments files belong in `config.exclude`.")
    .tags(&["hygiene", "syntax"])
}

pub fn rule_toml() -> Rule {
    Rule::new(
        "invalid-toml",
        "InvalidToml",
        Level::Error,
        "A .toml file does not parse.",
    )
    .help("Fix the syntax error.")
    .tags(&["hygiene", "syntax"])
}

pub fn rule_yaml() -> Rule {
    Rule::new(
        "invalid-yaml",
        "InvalidYaml",
        Level::Error,
        "A .yaml or .yml file does not parse.",
    )
    .help("Fix the syntax error; templated YAML (Helm charts) belongs in `config.exclude`.")
    .tags(&["hygiene", "syntax"])
}

pub fn check(path: &str, bytes: &[u8], out: &mut Evaluation) {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let (id, error) = match ext.as_str() {
        "json" => ("invalid-json", json(bytes)),
        "toml" => ("invalid-toml", toml_err(bytes)),
        "yaml" | "yml" => ("invalid-yaml", yaml(bytes)),
        _ => return,
    };
    if let Some((message, line, col)) = error {
        let region = Region {
            start_line: line.max(1),
            start_column: col.filter(|c| *c > 0),
            end_line: None,
            end_column: None,
        };
        out.push(
            Finding::new(id, format!("{path} does not parse: {message}"))
                .location(Location::at(path, region)),
        );
    }
}

type ParseError = Option<(String, u32, Option<u32>)>;

fn json(bytes: &[u8]) -> ParseError {
    let err = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).err()?;
    let message = err.to_string();
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_string();
    Some((message, err.line() as u32, Some(err.column() as u32)))
}

fn toml_err(bytes: &[u8]) -> ParseError {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => return Some((format!("not UTF-8: {e}"), 1, None)),
    };
    let err = text.parse::<toml::Table>().err()?;
    let (line, col) = err
        .span()
        .map_or((1, 1), |s| portcullis_sdk::text::line_col(text, s.start));
    Some((err.message().trim().to_string(), line, Some(col)))
}

fn yaml(bytes: &[u8]) -> ParseError {
    use serde::Deserialize;
    for doc in serde_yaml::Deserializer::from_slice(bytes) {
        if let Err(err) = serde::de::IgnoredAny::deserialize(doc) {
            let (line, col) = err
                .location()
                .map_or((1, None), |l| (l.line() as u32, Some(l.column() as u32)));
            let message = err.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or(&message)
                .to_string();
            return Some((message, line, col));
        }
    }
    None
}
