//! What a plugin's `run-tests` returned, in the host's types: each test
//! with its place and status, and which policy lines the tests evaluated.

use serde::Serialize;

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TestStatus {
    Pass,
    Fail,
    Error,
    Skip,
}

impl TestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TestStatus::Pass => "pass",
            TestStatus::Fail => "fail",
            TestStatus::Error => "error",
            TestStatus::Skip => "skip",
        }
    }
}

/// One test of a plugin's policies.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    /// e.g. `data.main_test.test_denies`.
    #[serde(rename = "test")]
    pub name: String,
    pub file: String,
    pub line: u32,
    #[serde(rename = "result")]
    pub status: TestStatus,
    /// Why it failed, errored or was skipped.
    #[serde(rename = "detail")]
    pub message: String,
}

/// Which lines of one policy file the tests evaluated.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileCoverage {
    pub file: String,
    pub covered: Vec<u32>,
    pub not_covered: Vec<u32>,
}

/// One plugin's `run-tests` result.
#[derive(Debug, Clone, Default)]
pub struct TestRun {
    pub tests: Vec<TestResult>,
    pub coverage: Vec<FileCoverage>,
}
