//! The plugin's `config` table.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::coverage::Format;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    /// JUnit XML reports: paths or globs (`build/test-results/**/*.xml`),
    /// repository-relative under a `read` grant, or under a mount.
    #[serde(default)]
    pub junit: Vec<String>,
    /// pytest's own JSON reports (pytest-json-report), paths or globs like
    /// `junit`; read as the same tests pytest's JUnit XML would give.
    #[serde(default)]
    pub pytest_json: Vec<String>,
    /// Fewer tests than this in the test reports is a finding.
    #[serde(default = "default_min_tests")]
    pub min_tests: u64,
    /// Seconds: a test slower than this is a `slow` finding.
    pub slow: Option<f64>,
    /// Coverage reports of this run, merged.
    #[serde(default)]
    pub coverage: Vec<CoverageInput>,
    /// Coverage reports of the baseline (e.g. the main branch's), for
    /// `max-drop`.
    #[serde(default)]
    pub baseline: Vec<CoverageInput>,
    /// Percent: coverage on the lines the change adds or modifies.
    pub new_code_min: Option<f64>,
    /// Percent: overall line coverage.
    pub min: Option<f64>,
    /// Percentage points overall coverage may fall below the baseline's.
    pub max_drop: Option<f64>,
    /// Glob → percent: line coverage of the files matching the glob.
    #[serde(default)]
    pub paths: BTreeMap<String, f64>,
}

fn default_min_tests() -> u64 {
    1
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CoverageInput {
    pub format: Format,
    /// A path or a glob, like `junit`.
    pub path: String,
}

impl Config {
    /// Whether test reports are given (so tests are counted).
    pub fn has_tests(&self) -> bool {
        !self.junit.is_empty() || !self.pytest_json.is_empty()
    }

    pub fn validate(&self) -> Result<(), String> {
        if !self.has_tests() && self.coverage.is_empty() {
            return Err(
                "config: nothing to check: give `junit` or `pytest-json` (test reports) or `coverage`"
                    .into(),
            );
        }
        let percent = |key: &str, v: f64| {
            if (0.0..=100.0).contains(&v) {
                Ok(())
            } else {
                Err(format!("config.{key}: {v} is not a percentage (0 to 100)"))
            }
        };
        for (key, v) in [
            ("new-code-min", self.new_code_min),
            ("min", self.min),
            ("max-drop", self.max_drop),
        ] {
            if let Some(v) = v {
                percent(key, v)?;
                if self.coverage.is_empty() {
                    return Err(format!(
                        "config.{key}: set, but no `coverage` reports are given"
                    ));
                }
            }
        }
        for (glob, v) in &self.paths {
            percent(&format!("paths.\"{glob}\""), *v)?;
        }
        if !self.paths.is_empty() && self.coverage.is_empty() {
            return Err("config.paths: set, but no `coverage` reports are given".into());
        }
        match (self.max_drop.is_some(), self.baseline.is_empty()) {
            (true, true) => {
                return Err(
                    "config.max-drop: needs `baseline` coverage reports to compare with".into(),
                );
            }
            (false, false) => {
                return Err(
                    "config.baseline: given, but no `max-drop` says how far coverage may fall"
                        .into(),
                );
            }
            _ => {}
        }
        if let Some(s) = self.slow
            && !(s.is_finite() && s > 0.0)
        {
            return Err(format!(
                "config.slow: {s} is not a positive number of seconds"
            ));
        }
        Ok(())
    }
}
