//! `merge-conflict`
//!
//! ## What it checks
//! Lines that start with a merge-conflict marker: `<<<<<<< `, `>>>>>>> `,
//! and a bare `=======` or `|||||||` between them.
//!
//! ## Why it matters
//! A committed conflict breaks the build at best and silently ships both
//! sides at worst.
//!
//! ## Example
//! ```text
//! <<<<<<< HEAD
//! let x = 1;
//! =======
//! let x = 2;
//! >>>>>>> feature
//! ```

use memchr::memmem;
use portcullis_sdk::{Evaluation, Finding, Level, Location, Region, Rule};

pub const ID: &str = "merge-conflict";

pub fn rule() -> Rule {
    Rule::new(ID, "MergeConflictMarker", Level::Error, "A merge-conflict marker was committed.")
        .full("A line starts with a merge-conflict marker (`<<<<<<<`, `=======`, `>>>>>>>`), left over from an unresolved merge.")
        .help("Resolve the conflict and remove the markers.")
        .tags(&["hygiene"])
}

pub fn check(path: &str, bytes: &[u8], out: &mut Evaluation) {
    // Fast path: a conflict always has an opening or closing marker.
    if memmem::find(bytes, b"<<<<<<<").is_none() && memmem::find(bytes, b">>>>>>>").is_none() {
        return;
    }
    let mut inside = false;
    for (n, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let marker = if is_marker(line, b"<<<<<<<") {
            inside = true;
            true
        } else if is_marker(line, b">>>>>>>") {
            inside = false;
            true
        } else {
            inside && (line == b"=======" || is_marker(line, b"|||||||"))
        };
        if marker {
            let text = String::from_utf8_lossy(line);
            out.push(
                Finding::new(
                    ID,
                    format!(
                        "merge-conflict marker `{}`",
                        text.chars().take(40).collect::<String>()
                    ),
                )
                .location(Location::at(
                    path,
                    Region::span(n as u32 + 1, 1, n as u32 + 1, 8),
                )),
            );
        }
    }
}

/// `marker` alone or followed by a space (and a label).
fn is_marker(line: &[u8], marker: &[u8]) -> bool {
    line.starts_with(marker) && (line.len() == marker.len() || line[marker.len()] == b' ')
}
