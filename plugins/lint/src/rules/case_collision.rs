//! The `path-case-collision` rule: declared, and documented, in
//! [`PATH_CASE_COLLISION`].

use std::collections::BTreeMap;

use portcullis_sdk::{Evaluation, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Two paths that differ only in letter case (`README.md` and
    /// `readme.md`), like pre-commit's `check-case-conflict`, including
    /// directory names.
    ///
    /// ## Why it matters
    /// On macOS and Windows only one of them can be checked out; the other is
    /// silently lost.
    ///
    /// ## How to fix
    /// Rename one of them.
    ///
    /// ## How to waive
    /// Add one of the paths to `config.exclude`.
    pub PATH_CASE_COLLISION = "path-case-collision" {
        name: "PathCaseCollision",
        level: Error,
        short: "Two paths differ only in letter case.",
        full: "Two files or directories differ only in letter case; case-insensitive filesystems (macOS, Windows) can hold only one.",
        tags: ["hygiene", "portability"],
    }
}

pub fn check<'a>(paths: impl Iterator<Item = &'a str>, out: &mut Evaluation) {
    // Every file path and every directory prefix, keyed by its lowercase form.
    let mut seen: BTreeMap<String, Vec<&'a str>> = BTreeMap::new();
    for path in paths {
        for (i, _) in path
            .match_indices('/')
            .chain(std::iter::once((path.len(), "")))
        {
            let prefix = &path[..i];
            let group = seen.entry(prefix.to_lowercase()).or_default();
            if !group.contains(&prefix) {
                group.push(prefix);
            }
        }
    }
    for group in seen.values().filter(|g| g.len() > 1) {
        let first = group[0];
        for other in &group[1..] {
            out.push(
                PATH_CASE_COLLISION
                    .finding(format!("{other} and {first} differ only in case"))
                    .in_file(other)
                    // Both places: the finding concerns whichever changed.
                    .in_file(first)
                    .fingerprint(format!("{}|{}", first.to_lowercase(), other)),
            );
        }
    }
}
