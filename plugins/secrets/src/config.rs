//! The plugin's `config` table in the policy.

use globset::GlobSet;
use regex::bytes::Regex;
use serde::Deserialize;

use crate::scan::ALLOW_MARKER;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// Minimum Shannon entropy (bits per character) of a value for the
    /// generic rule.
    #[serde(default = "default_entropy")]
    pub entropy: f64,
    /// Globs of repository paths not scanned (fixtures of fake secrets).
    #[serde(default)]
    pub allow_paths: Vec<String>,
    /// Regexes (ASCII, unanchored) matched against each found secret; a
    /// match drops the finding.
    #[serde(default)]
    pub allow_regexes: Vec<String>,
    /// Known-fake values, compared exactly.
    #[serde(default)]
    pub allow_values: Vec<String>,
}

fn default_entropy() -> f64 {
    3.5
}

/// The allowlists, compiled.
pub struct Allow {
    paths: GlobSet,
    regexes: Vec<Regex>,
    values: Vec<Vec<u8>>,
}

impl Config {
    pub fn allow(&self) -> Result<Allow, String> {
        if !(1.0..=8.0).contains(&self.entropy) {
            return Err(format!(
                "config.entropy must be between 1.0 and 8.0 bits per character, not {}",
                self.entropy
            ));
        }
        let paths = portcullis_sdk::globset("allow-paths", &self.allow_paths)?;
        let regexes = self
            .allow_regexes
            .iter()
            .map(|r| {
                Regex::new(&format!("(?-u){r}"))
                    .map_err(|e| format!("config.allow-regexes: bad regex `{r}`: {}", one_line(&e)))
            })
            .collect::<Result<_, _>>()?;
        Ok(Allow {
            paths,
            regexes,
            values: self
                .allow_values
                .iter()
                .map(|v| v.as_bytes().to_vec())
                .collect(),
        })
    }
}

fn one_line(e: &impl std::fmt::Display) -> String {
    e.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl Allow {
    pub fn none() -> Allow {
        Allow {
            paths: GlobSet::empty(),
            regexes: Vec::new(),
            values: Vec::new(),
        }
    }

    pub fn path_allowed(&self, path: &str) -> bool {
        self.paths.is_match(path)
    }

    pub fn value_allowed(&self, value: &[u8]) -> bool {
        self.values.iter().any(|v| v == value) || self.regexes.iter().any(|r| r.is_match(value))
    }

    /// Whether `line` carries `portcullis:allow` for `rule`: a bare marker
    /// allows every rule; `portcullis:allow secrets/jwt, secrets/generic-secret`
    /// (the plugin prefix is optional) allows those.
    pub fn line_allows(&self, line: &[u8], rule: &str) -> bool {
        let Some(at) = memchr::memmem::find(line, ALLOW_MARKER) else {
            return false;
        };
        let rest = &line[at + ALLOW_MARKER.len()..];
        let named: Vec<&[u8]> = rest
            .split(|b| b.is_ascii_whitespace() || *b == b',')
            .filter(|t| !t.is_empty())
            .take_while(|t| {
                t.iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'/' || *b == b'_')
            })
            .filter(|t| t.contains(&b'/') || crate::is_rule(t))
            .collect();
        named.is_empty()
            || named.iter().any(|t| {
                let id = t.rsplit(|b| *b == b'/').next().unwrap_or(t);
                id == rule.as_bytes()
            })
    }
}
