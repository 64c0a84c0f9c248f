//! RustSec advisories: `crates/<name>/RUSTSEC-*.md` files with TOML front
//! matter, read from a policy mount.
//!
//! Parsing the whole database (~1 200 files) costs about a second in the
//! sandbox, so it is done once per database version: the parsed advisories,
//! grouped by crate, are kept in the host's plugin cache under the
//! database's git commit, and a warm run reads that index and parses only
//! the entries of crates in the lockfile. A database that is not a git
//! checkout (or with the cache off) is read directly: only the directories
//! of crates in the lockfile.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;

use crate::lockfile::Package;

#[derive(Debug, Deserialize, Serialize)]
pub struct Advisory {
    pub advisory: Meta,
    #[serde(default)]
    pub versions: Versions,
    /// The Markdown title after the front matter.
    #[serde(default)]
    pub title: String,
    /// Database-relative path, for messages.
    #[serde(default)]
    pub file: String,
}

#[derive(Debug, Deserialize, Serialize)]
pub struct Meta {
    pub id: String,
    pub package: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub cvss: Option<String>,
    #[serde(default)]
    pub informational: Option<String>,
    /// Whether the advisory was withdrawn (a date in the database).
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "is_false"
    )]
    pub withdrawn: bool,
    #[serde(default)]
    pub aliases: Vec<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Versions {
    #[serde(default)]
    pub patched: Vec<String>,
    #[serde(default)]
    pub unaffected: Vec<String>,
}

/// A field that is there, whatever its value.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| true)
}

fn is_false(b: &bool) -> bool {
    !b
}

/// The kind of an advisory, which decides its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Vulnerability,
    Unmaintained,
    Unsound,
    Notice,
}

impl Advisory {
    pub fn kind(&self) -> Kind {
        match self.advisory.informational.as_deref() {
            None => Kind::Vulnerability,
            Some("unmaintained") => Kind::Unmaintained,
            Some("unsound") => Kind::Unsound,
            Some(_) => Kind::Notice,
        }
    }

    /// Whether `version` is affected: matched by neither a patched nor an
    /// unaffected range.
    pub fn affects(&self, version: &semver::Version) -> Result<bool, String> {
        for r in self
            .versions
            .patched
            .iter()
            .chain(&self.versions.unaffected)
        {
            let req = semver::VersionReq::parse(r)
                .map_err(|e| format!("{}: bad version range `{r}`: {e}", self.file))?;
            if req.matches(version) {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Parse one advisory file: "```toml" front matter, then Markdown.
pub fn parse(file: &str, text: &str) -> Result<Advisory, String> {
    let body = text
        .trim_start()
        .strip_prefix("```toml")
        .ok_or_else(|| format!("{file}: does not start with a ```toml front matter block"))?;
    let end = body
        .find("\n```")
        .ok_or_else(|| format!("{file}: the front matter block is not closed"))?;
    let mut adv: Advisory = toml::from_str(&body[..end]).map_err(|e| {
        let line = e
            .span()
            .map(|s| body[..s.start].matches('\n').count() + 1)
            .unwrap_or(1);
        format!(
            "{file}:{line}: bad advisory front matter: {}",
            portcullis_sdk::text::one_line(e.message())
        )
    })?;
    adv.title = body[end + 4..]
        .lines()
        .find_map(|l| l.strip_prefix("# "))
        .unwrap_or("")
        .trim()
        .to_string();
    adv.file = file.to_string();
    Ok(adv)
}

/// The advisories of the crates named in `packages`.
pub fn load(db: &Path, packages: &[Package]) -> Result<Vec<Advisory>, String> {
    let names: BTreeSet<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let crates = db.join("crates");
    if !crates.is_dir() {
        return Err(format!(
            "{} is not a RustSec advisory database (no crates/ directory)",
            db.display()
        ));
    }
    let Some(commit) = commit(db).filter(|_| portcullis_sdk::cache::enabled()) else {
        return read_crates(&crates, |name| names.contains(name));
    };
    let key = format!("rustsec-index/v1/{commit}");
    let bytes = match portcullis_sdk::cache::get(&key) {
        Some(b) => b,
        None => {
            let all = read_crates(&crates, |_| true)?;
            let mut index: BTreeMap<&str, Vec<&Advisory>> = BTreeMap::new();
            for a in &all {
                index
                    .entry(a.advisory.package.as_str())
                    .or_default()
                    .push(a);
            }
            let bytes = serde_json::to_vec(&index)
                .map_err(|e| format!("internal error: advisory index: {e}"))?;
            portcullis_sdk::cache::put(&key, &bytes);
            bytes
        }
    };
    // Only the entries of the lockfile's crates are parsed.
    let index: BTreeMap<&str, &RawValue> = serde_json::from_slice(&bytes)
        .map_err(|e| format!("internal error: advisory index: {e}"))?;
    let mut out = Vec::new();
    for name in names {
        if let Some(raw) = index.get(name) {
            let list: Vec<Advisory> = serde_json::from_str(raw.get())
                .map_err(|e| format!("internal error: advisory index: {e}"))?;
            out.extend(list);
        }
    }
    Ok(out)
}

/// Parse the advisories of the crate directories `wanted` accepts.
fn read_crates(crates: &Path, wanted: impl Fn(&str) -> bool) -> Result<Vec<Advisory>, String> {
    let mut out = Vec::new();
    for dir in list(crates)? {
        let Some(name) = dir.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !wanted(name) || !dir.is_dir() {
            continue;
        }
        for path in list(&dir)?
            .into_iter()
            .filter(|p| p.extension().is_some_and(|x| x == "md"))
        {
            let rel = format!(
                "crates/{name}/{}",
                path.file_name().unwrap_or_default().to_string_lossy()
            );
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read advisory {rel}: {e}"))?;
            out.push(parse(&rel, &text)?);
        }
    }
    Ok(out)
}

/// The database's git commit: `.git/HEAD`, followed through a ref (loose
/// or packed). `None` when it is not a git checkout.
pub fn commit(db: &Path) -> Option<String> {
    let git = db.join(".git");
    let head = std::fs::read_to_string(git.join("HEAD")).ok()?;
    let head = head.trim();
    let id = match head.strip_prefix("ref: ") {
        Some(r) => match std::fs::read_to_string(git.join(r)) {
            Ok(id) => id.trim().to_string(),
            Err(_) => std::fs::read_to_string(git.join("packed-refs"))
                .ok()?
                .lines()
                .find_map(|l| l.strip_suffix(r).map(|id| id.trim().to_string()))?,
        },
        None => head.to_string(),
    };
    (id.len() >= 40 && id.bytes().all(|b| b.is_ascii_hexdigit())).then_some(id)
}

/// The entries of `dir`, sorted; an unreadable entry is an error.
fn list(dir: &Path) -> Result<Vec<std::path::PathBuf>, String> {
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", dir.display());
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(cannot)? {
        out.push(entry.map_err(cannot)?.path());
    }
    out.sort();
    Ok(out)
}

/// How long ago the database was last fetched: the time of `.git/FETCH_HEAD`
/// (written by every fetch), else of `.git/HEAD` (a fresh clone), else of
/// the `crates/` directory.
pub fn age(db: &Path) -> Option<Duration> {
    let when = ["/.git/FETCH_HEAD", "/.git/HEAD", "/crates"]
        .iter()
        .find_map(|p| {
            std::fs::metadata(format!("{}{p}", db.display()))
                .and_then(|m| m.modified())
                .ok()
        })?;
    SystemTime::now().duration_since(when).ok()
}

/// GitHub's security-severity from a CVSS v3 vector's base score.
pub fn cvss_score(vector: &str) -> Option<f64> {
    let mut parts = vector.split('/');
    let version = parts.next()?;
    if version != "CVSS:3.0" && version != "CVSS:3.1" {
        return None;
    }
    let m: BTreeMap<&str, &str> = parts.filter_map(|p| p.split_once(':')).collect();
    let changed = *m.get("S")? == "C";
    let av = match *m.get("AV")? {
        "N" => 0.85,
        "A" => 0.62,
        "L" => 0.55,
        "P" => 0.2,
        _ => return None,
    };
    let ac = match *m.get("AC")? {
        "L" => 0.77,
        "H" => 0.44,
        _ => return None,
    };
    let pr = match (*m.get("PR")?, changed) {
        ("N", _) => 0.85,
        ("L", false) => 0.62,
        ("L", true) => 0.68,
        ("H", false) => 0.27,
        ("H", true) => 0.5,
        _ => return None,
    };
    let ui = match *m.get("UI")? {
        "N" => 0.85,
        "R" => 0.62,
        _ => return None,
    };
    let cia = |k: &str| -> Option<f64> {
        Some(match *m.get(k)? {
            "H" => 0.56,
            "L" => 0.22,
            "N" => 0.0,
            _ => return None,
        })
    };
    let iss = 1.0 - (1.0 - cia("C")?) * (1.0 - cia("I")?) * (1.0 - cia("A")?);
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    if impact <= 0.0 {
        return Some(0.0);
    }
    let raw = if changed {
        (1.08 * (impact + exploitability)).min(10.0)
    } else {
        (impact + exploitability).min(10.0)
    };
    Some(round_up(raw))
}

/// CVSS 3.1's Roundup: the smallest one-decimal number not below `x`.
fn round_up(x: f64) -> f64 {
    let int = (x * 100_000.0).round() as i64;
    if int % 10_000 == 0 {
        int as f64 / 100_000.0
    } else {
        ((int / 10_000) + 1) as f64 / 10.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_base_scores_match_nvd() {
        // Scores as NVD's calculator gives them.
        for (vector, score) in [
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
            ("CVSS:3.1/AV:L/AC:H/PR:N/UI:R/S:U/C:N/I:N/A:H", 4.7),
            ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
            ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:H", 5.9),
            ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        ] {
            assert_eq!(cvss_score(vector), Some(score), "{vector}");
        }
        assert_eq!(cvss_score("CVSS:4.0/AV:N/AC:L"), None);
    }

    #[test]
    fn ranges() {
        let adv = parse(
            "crates/x/RUSTSEC-2020-0001.md",
            "```toml\n[advisory]\nid = \"RUSTSEC-2020-0001\"\npackage = \"x\"\n\n[versions]\npatched = [\">= 1.2.3\", \">= 1.1.9, < 1.2.0\"]\nunaffected = [\"< 0.5\"]\n```\n\n# Bad thing\n\nText.\n",
        )
        .expect("parses");
        assert_eq!(adv.title, "Bad thing");
        let v = |s: &str| semver::Version::parse(s).expect("version");
        assert!(adv.affects(&v("1.2.2")).expect("ok"));
        assert!(!adv.affects(&v("1.2.3")).expect("ok"));
        assert!(!adv.affects(&v("1.1.10")).expect("ok"));
        assert!(adv.affects(&v("1.1.8")).expect("ok"));
        assert!(!adv.affects(&v("0.4.0")).expect("ok"));
    }
}
