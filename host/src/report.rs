//! Render an [`Outcome`](crate::check::Outcome): human text, versioned JSON,
//! SARIF 2.1.0. Renderers return strings; only the CLI prints.

pub mod github;
pub mod gitlab;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

use std::io::Write;

/// Overwrite the current terminal line on stderr (progress display).
pub fn progress_line(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K{text}");
    let _ = err.flush();
}
