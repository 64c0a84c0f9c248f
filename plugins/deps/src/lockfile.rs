//! Cargo.lock: every resolved package with its source and the line that
//! names it, so findings point at the lockfile.

use std::collections::HashMap;

use serde::Deserialize;

#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    pub version: semver::Version,
    /// `registry+…`, `sparse+…`, `git+…`; `None` for path (workspace) crates.
    pub source: Option<String>,
    /// 1-based line of the package's `name = ` in the lockfile.
    pub line: u32,
}

pub struct Lockfile {
    /// Repository-relative path.
    pub path: String,
    pub packages: Vec<Package>,
}

#[derive(Deserialize)]
struct Raw {
    /// The lockfile format: absent in cargo's first two formats, 3 or 4
    /// since.
    version: Option<toml::Spanned<i64>>,
    #[serde(default)]
    package: Vec<RawPackage>,
}

/// The lockfile formats this reads (besides the unnumbered older ones).
const VERSIONS: [i64; 2] = [3, 4];

#[derive(Deserialize)]
struct RawPackage {
    name: String,
    version: String,
    #[serde(default)]
    source: Option<String>,
}

impl Lockfile {
    pub fn parse(path: &str, text: &str) -> Result<Lockfile, String> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let (l, c) = portcullis_sdk::text::line_col(text, s.start);
                    format!(":{l}:{c}")
                })
                .unwrap_or_default();
            let message = portcullis_sdk::text::one_line(e.message());
            format!("{path}{at}: not a valid Cargo.lock: {message}")
        })?;
        if let Some(v) = &raw.version
            && !VERSIONS.contains(v.get_ref())
        {
            let (l, c) = portcullis_sdk::text::line_col(text, v.span().start);
            return Err(format!(
                "{path}:{l}:{c}: lockfile version {} is not one this plugin reads (3 or 4, or none in older lockfiles)",
                v.get_ref()
            ));
        }
        if raw.package.is_empty() {
            return Err(format!(
                "{path}: lists no packages, so it is not a lockfile cargo wrote (it always lists the workspace's own): run `cargo generate-lockfile` and commit the result"
            ));
        }
        // Lines of `name = "…"` followed by its `version = "…"`.
        let mut lines: HashMap<(String, String), u32> = HashMap::new();
        let mut name: Option<(String, u32)> = None;
        for (i, line) in text.lines().enumerate() {
            if let Some(v) = quoted_value(line, "name") {
                name = Some((v.to_string(), i as u32 + 1));
            } else if let (Some(v), Some((n, at))) = (quoted_value(line, "version"), name.take()) {
                lines.insert((n, v.to_string()), at);
            }
        }
        let mut packages = Vec::with_capacity(raw.package.len());
        for p in raw.package {
            let line = lines
                .get(&(p.name.clone(), p.version.clone()))
                .copied()
                .unwrap_or(1);
            let version = semver::Version::parse(&p.version).map_err(|e| {
                format!(
                    "{path}:{line}: package {} has a bad version `{}`: {e}",
                    p.name, p.version
                )
            })?;
            packages.push(Package {
                name: p.name,
                version,
                source: p.source,
                line,
            });
        }
        Ok(Lockfile {
            path: path.to_string(),
            packages,
        })
    }
}

fn quoted_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let rest = line
        .strip_prefix(key)?
        .trim_start()
        .strip_prefix('=')?
        .trim();
    rest.strip_prefix('"')?.strip_suffix('"')
}
