//! The `invalid-json`, `invalid-toml` and `invalid-yaml` rules: declared,
//! and documented, in [`INVALID_JSON`], [`INVALID_TOML`] and
//! [`INVALID_YAML`].

use portcullis_sdk::{Evaluation, Location, Region, RuleDecl, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Files named `*.json` that do not parse, like pre-commit's `check-json`.
    /// Files where JSON with comments is the convention (`tsconfig*.json`,
    /// `jsconfig*.json`, `.vscode/*.json`, `devcontainer.json`,
    /// `.devcontainer.json`) are read as JSONC: `//` and `/* */` comments and
    /// trailing commas are allowed there.
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
    /// Templates are YAML only once rendered, so they are not reported: the
    /// files under a Helm chart's `templates/` (a `Chart.yaml` above them) are
    /// not parsed, and a file that does not parse but holds Go-template or
    /// Jinja syntax (`{{ }}`, `{% %}`; GitHub's `${{ }}` does not count) is
    /// taken for a template. The run says how many were skipped, in a note.
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

/// What [`check`] made of a file.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// Parsed, reported, or not a format these rules read.
    Done,
    /// YAML taken for a template: not reported.
    Template,
}

/// Check `path`'s syntax; `templated`: the file is a Helm chart's template
/// (not parsed at all).
pub fn check(path: &str, bytes: &[u8], templated: bool, out: &mut Evaluation) -> Checked {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let (rule, error): (&RuleDecl, _) = match ext.as_str() {
        "json" if is_jsonc(path) => (&INVALID_JSON, json(&strip_jsonc(bytes))),
        "json" => (&INVALID_JSON, json(bytes)),
        "toml" => (&INVALID_TOML, toml_err(bytes)),
        "yaml" | "yml" if templated => return Checked::Template,
        "yaml" | "yml" => match yaml(bytes) {
            Some(_) if has_template_syntax(bytes) => return Checked::Template,
            error => (&INVALID_YAML, error),
        },
        _ => return Checked::Done,
    };
    if let Some((message, line, col)) = error {
        let region = Region {
            start_line: line.max(1),
            start_column: col.filter(|c| *c > 0),
            end_line: None,
            end_column: None,
        };
        out.push(
            rule.finding(format!(
                "{path} does not parse: {message} (a template or another dialect? \
                 leave it out: `exclude = [\"{path}\"]` in [plugins.lint.config])"
            ))
            .location(Location::at(path, region)),
        );
    }
    Checked::Done
}

/// Whether JSON with comments is the convention for `path`.
fn is_jsonc(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let dir = path.strip_suffix(name).unwrap_or("");
    let lower = name.to_ascii_lowercase();
    let config_of = |tool: &str| {
        lower == format!("{tool}.json")
            || (lower.starts_with(&format!("{tool}.")) && lower.ends_with(".json"))
    };
    config_of("tsconfig")
        || config_of("jsconfig")
        || lower == "devcontainer.json"
        || lower == ".devcontainer.json"
        || dir == ".vscode/"
        || dir.ends_with("/.vscode/")
}

/// JSONC as JSON: comments and trailing commas blanked out with spaces
/// (newlines kept), so an error's line and column are the file's.
fn strip_jsonc(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut i = 0;
    let mut in_string = false;
    // Where the last comma outside strings is, while only blanks follow it.
    let mut comma: Option<usize> = None;
    while i < out.len() {
        let c = out[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match c {
            b'"' => {
                in_string = true;
                comma = None;
            }
            b'/' if out.get(i + 1) == Some(&b'/') => {
                while i < out.len() && out[i] != b'\n' {
                    out[i] = b' ';
                    i += 1;
                }
                continue;
            }
            b'/' if out.get(i + 1) == Some(&b'*') => {
                let end = out[i + 2..]
                    .windows(2)
                    .position(|w| w == b"*/")
                    .map_or(out.len(), |p| i + 2 + p + 2);
                for b in &mut out[i..end] {
                    if *b != b'\n' {
                        *b = b' ';
                    }
                }
                i = end;
                continue;
            }
            b',' => comma = Some(i),
            b'}' | b']' => {
                if let Some(at) = comma.take() {
                    out[at] = b' ';
                }
            }
            b' ' | b'\t' | b'\r' | b'\n' => {}
            _ => comma = None,
        }
        i += 1;
    }
    out
}

/// Go-template or Jinja syntax: `{{ … }}` (not GitHub's `${{ … }}`) or
/// `{% … %}`.
fn has_template_syntax(bytes: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return false;
    };
    let go = text
        .match_indices("{{")
        .any(|(at, _)| !text[..at].ends_with('$') && text[at..].contains("}}"));
    go || text.find("{%").is_some_and(|at| text[at..].contains("%}"))
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
