//! Baselines: gate only on what is new. `--write-baseline FILE` records
//! every finding of a run by rule and fingerprint; `--baseline FILE` makes
//! findings recorded there not count. Fingerprints are content-based, so
//! entries survive edits that shift lines.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::diag::{Error, Level};
use crate::finding::Finding;

/// The baseline file, version 1.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

/// One recorded finding: enough to match it again and to report it as
/// `absent` once it is gone.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    pub rule_id: String,
    pub fingerprint: String,
    pub level: Level,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

impl Baseline {
    pub fn load(path: &Path) -> Result<Baseline, Error> {
        let text = crate::files::read_to_string(path, crate::files::MAX_DATA_BYTES)
            .map_err(|e| Error::io(path, format!("cannot read baseline: {e}")))?;
        let b: Baseline = serde_json::from_str(&text).map_err(|e| Error::Policy {
            path: format!("{}:{}:{}", path.display(), e.line(), e.column()),
            message: format!("not a portcullis baseline: {e}")
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string(),
        })?;
        if b.version != 1 {
            return Err(Error::Policy {
                path: path.display().to_string(),
                message: format!(
                    "baseline version {} is not supported (expected 1)",
                    b.version
                ),
            });
        }
        Ok(b)
    }

    /// A baseline of `findings`: pass every plugin finding of a run, waived
    /// ones included (so a waiver can expire without the finding becoming
    /// new), and none of the host's own.
    pub fn from_findings<'f>(findings: impl IntoIterator<Item = &'f Finding>) -> Baseline {
        let mut findings: Vec<Entry> = findings
            .into_iter()
            .map(|f| Entry {
                rule_id: f.rule_id.clone(),
                fingerprint: f.fingerprint.clone(),
                level: f.level,
                message: f.message.clone(),
                path: f.locations.first().map(|l| l.path.clone()),
                line: f
                    .locations
                    .first()
                    .and_then(|l| l.region.as_ref())
                    .map(|r| r.start_line),
            })
            .collect();
        findings.sort_by(|a, b| {
            (&a.rule_id, &a.path, a.line, &a.fingerprint).cmp(&(
                &b.rule_id,
                &b.path,
                b.line,
                &b.fingerprint,
            ))
        });
        Baseline {
            version: 1,
            findings,
        }
    }

    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The (rule, fingerprint) keys, for matching.
    pub fn keys(&self) -> HashSet<(&str, &str)> {
        self.findings
            .iter()
            .map(|e| (e.rule_id.as_str(), e.fingerprint.as_str()))
            .collect()
    }
}
