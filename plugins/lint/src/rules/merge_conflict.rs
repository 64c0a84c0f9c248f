//! The `merge-conflict` rule: declared, and documented, in
//! [`MERGE_CONFLICT`].

use memchr::memmem;
use portcullis_sdk::{Evaluation, Location, Region, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Lines that start with a merge-conflict marker: `<<<<<<< `, `>>>>>>> `,
    /// and a bare `=======` or `|||||||` between them.
    ///
    /// ## Why it matters
    /// A committed conflict breaks the build at best and silently ships both
    /// sides at worst.
    ///
    /// ## Example
    /// A file left as git wrote it during a conflicted merge: a line
    /// `<<<<<<< HEAD`, this side's lines, a line `=======`, the other side's
    /// lines, and a line `>>>>>>> feature`. (Shown inline here, so that this
    /// documentation is not itself a finding.)
    ///
    /// ## How to fix
    /// Resolve the conflict and remove the markers.
    ///
    /// ## How to waive
    /// A file that shows markers on purpose (a fixture, a document about
    /// merging) goes in `config.exclude`.
    pub MERGE_CONFLICT = "merge-conflict" {
        name: "MergeConflictMarker",
        level: Error,
        short: "A merge-conflict marker was committed.",
        full: "A line starts with a merge-conflict marker (`<<<<<<<`, `=======`, `>>>>>>>`), left over from an unresolved merge.",
        tags: ["hygiene"],
    }
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
                MERGE_CONFLICT
                    .finding(format!(
                        "merge-conflict marker `{}`",
                        text.chars().take(40).collect::<String>()
                    ))
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
