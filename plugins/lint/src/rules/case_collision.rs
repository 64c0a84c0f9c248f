//! The `path-case-collision` rule: declared, and documented, in
//! [`PATH_CASE_COLLISION`].

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
    // Every file path and every directory prefix once (the list is sorted:
    // a directory's paths are together), with a hash of its lowercase
    // form; only names whose hashes meet are compared. No name is
    // lowercased into a new string unless it collides.
    let mut names: Vec<(u64, &'a str)> = Vec::new();
    let mut previous = "";
    for path in paths {
        for (i, _) in path
            .match_indices('/')
            .chain(std::iter::once((path.len(), "")))
        {
            let prefix = &path[..i];
            let listed = i < path.len()
                && previous.len() > i
                && previous.as_bytes()[i] == b'/'
                && previous.starts_with(prefix);
            if !listed {
                names.push((folded_hash(prefix), prefix));
            }
        }
        previous = path;
    }
    // Stable: within a hash, names keep the list's order.
    names.sort_by_key(|(h, _)| *h);
    let mut groups: Vec<(String, Vec<&'a str>)> = Vec::new();
    for run in names.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
        let mut in_run: Vec<(String, Vec<&'a str>)> = Vec::new();
        for (_, name) in run {
            let key = folded(name);
            match in_run.iter_mut().find(|(k, _)| *k == key) {
                Some((_, group)) if !group.contains(name) => group.push(name),
                Some(_) => {}
                None => in_run.push((key, vec![name])),
            }
        }
        groups.extend(in_run.into_iter().filter(|(_, g)| g.len() > 1));
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    for (_, group) in groups {
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

/// `name` lowercased (a word-final `Σ` as `ς`).
fn folded(name: &str) -> String {
    name.to_lowercase()
}

/// FNV-1a over [`folded`]`(name)`, made only for a name that is not ASCII.
fn folded_hash(name: &str) -> u64 {
    let mix = |h: u64, b: u8| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    let start: u64 = 0xcbf2_9ce4_8422_2325;
    if name.is_ascii() {
        name.bytes()
            .map(|b| b.to_ascii_lowercase())
            .fold(start, mix)
    } else {
        folded(name).bytes().fold(start, mix)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collisions(paths: &[&str]) -> Vec<String> {
        let mut out = Evaluation::default();
        check(paths.iter().copied(), &mut out);
        out.findings.into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn names_that_differ_only_in_case_collide_once() {
        assert_eq!(
            collisions(&[
                "A/x",
                "README.md",
                "a/y",
                "docs/Straße",
                "docs/STRAßE",
                "readme.md"
            ]),
            [
                "a and A differ only in case",
                "docs/STRAßE and docs/Straße differ only in case",
                "readme.md and README.md differ only in case",
            ]
        );
        // Unsorted input and repeated paths are judged alike.
        assert_eq!(
            collisions(&["b/1", "a", "b/2", "B/3", "b/4", "a"]),
            ["B and b differ only in case"]
        );
        assert!(collisions(&["a/b", "a/c", "ab", "a.b", "Ä", "ä/x"]).len() == 1);
        assert!(collisions(&["x", "y", "x/z"]).is_empty());
        // As `str::to_lowercase` has it: a word-final sigma is `ς`.
        assert_eq!(collisions(&["ΟΔΟΣ", "οδος"]).len(), 1);
        assert!(collisions(&["ΟΔΟΣ", "οδοσ"]).is_empty());
    }
}
