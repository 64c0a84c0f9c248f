//! The `invalid-json`, `invalid-toml` and `invalid-yaml` rules: declared,
//! and documented, in [`INVALID_JSON`], [`INVALID_TOML`] and
//! [`INVALID_YAML`].

use portcullis_sdk::{Evaluation, Location, Region, RuleDecl, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Files named `*.json` that do not parse, like pre-commit's `check-json`.
    ///
    /// ## Why it matters
    /// A config file that does not parse fails at deploy time, far from the
    /// change.
    ///
    /// ## How to fix
    /// Fix the syntax error; JSON-with-comments files belong in
    /// `config.exclude`.
    ///
    /// ## How to waive
    /// Files that are templates or JSON-with-comments go in `config.exclude`.
    pub INVALID_JSON = "invalid-json" {
        name: "InvalidJson",
        level: Error,
        short: "A .json file does not parse.",
        tags: ["hygiene", "syntax"],
    }

    /// ## What it checks
    /// Files named `*.toml` that do not parse, like pre-commit's `check-toml`.
    ///
    /// ## Why it matters
    /// A config file that does not parse fails at deploy time, far from the
    /// change.
    ///
    /// ## How to fix
    /// Fix the syntax error.
    ///
    /// ## How to waive
    /// Files that are templates go in `config.exclude`.
    pub INVALID_TOML = "invalid-toml" {
        name: "InvalidToml",
        level: Error,
        short: "A .toml file does not parse.",
        tags: ["hygiene", "syntax"],
    }

    /// ## What it checks
    /// Files named `*.yaml` or `*.yml` that do not parse, like pre-commit's
    /// `check-yaml`. All documents of a multi-document YAML file are checked.
    ///
    /// ## Why it matters
    /// A config file that does not parse fails at deploy time, far from the
    /// change.
    ///
    /// ## How to fix
    /// Fix the syntax error; templated YAML (Helm charts) belongs in
    /// `config.exclude`.
    ///
    /// ## How to waive
    /// Files that are templates go in `config.exclude`.
    pub INVALID_YAML = "invalid-yaml" {
        name: "InvalidYaml",
        level: Error,
        short: "A .yaml or .yml file does not parse.",
        tags: ["hygiene", "syntax"],
    }
}

pub fn check(path: &str, bytes: &[u8], out: &mut Evaluation) {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let (rule, error): (&RuleDecl, _) = match ext.as_str() {
        "json" => (&INVALID_JSON, json(bytes)),
        "toml" => (&INVALID_TOML, toml_err(bytes)),
        "yaml" | "yml" => (&INVALID_YAML, yaml(bytes)),
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
            rule.finding(format!("{path} does not parse: {message}"))
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
