//! Levels, exit codes and the error type every stage returns.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Severity, with SARIF's words. Ordered: note < warning < error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The process exit codes, one meaning each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The gate passed.
    Pass = 0,
    /// The gate failed: findings at or above `fail-at`.
    Fail = 1,
    /// The gate could not be evaluated: bad input or a plugin failure.
    Error = 2,
}

/// Why a check could not be evaluated. Each variant renders as one line
/// naming what is wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {message}")]
    Policy { path: String, message: String },
    #[error("plugin {plugin}: {message}")]
    Plugin { plugin: String, message: String },
    #[error("evidence {what}: {message}")]
    Evidence { what: String, message: String },
    #[error("{path}: {message}")]
    Io { path: PathBuf, message: String },
    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub fn plugin(plugin: &str, message: impl Into<String>) -> Self {
        Error::Plugin {
            plugin: plugin.to_string(),
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, err: impl fmt::Display) -> Self {
        Error::Io {
            path: path.into(),
            message: err.to_string(),
        }
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}
