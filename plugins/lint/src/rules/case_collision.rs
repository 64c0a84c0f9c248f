//! The `path-case-collision` rule: declared, and documented, in
//! [`PATH_CASE_COLLISION`].

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

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
    // form, counted by hash; only names whose hashes meet are compared. No
    // name is lowercased into a new string unless it collides.
    let capacity = paths.size_hint().1.unwrap_or(0);
    let mut names: Vec<(u64, &'a str)> = Vec::with_capacity(capacity);
    let mut counts: HashMap<u64, u32, BuildHasherDefault<Folded>> =
        HashMap::with_capacity_and_hasher(capacity, Default::default());
    // Hashes met a second time: usually none, and then nothing is compared.
    let mut met_hashes: Vec<u64> = Vec::new();
    let mut name = |hash: u64, name: &'a str| {
        let n = counts.entry(hash).or_default();
        *n += 1;
        if *n == 2 {
            met_hashes.push(hash);
        }
        names.push((hash, name));
    };
    // The previous path's directories: where each ends, and its hash. The
    // hash is a running one, so an ASCII path's hash goes on from its
    // directory's: each byte is hashed about once.
    let mut dirs: Vec<(usize, u64)> = Vec::new();
    let mut previous = "";
    for path in paths {
        let common = common_len(path.as_bytes(), previous.as_bytes());
        // The directories both paths share are listed already.
        while dirs.last().is_some_and(|(end, _)| *end >= common) {
            dirs.pop();
        }
        let (start, mut hash) = dirs.last().copied().unwrap_or((0, FNV_START));
        let from = if dirs.is_empty() { 0 } else { start + 1 };
        if path.is_ascii() {
            for (i, b) in path.bytes().enumerate().skip(start) {
                if b == b'/' && i >= from {
                    dirs.push((i, hash));
                    name(hash, &path[..i]);
                }
                hash = mix(hash, b.to_ascii_lowercase());
            }
        } else {
            for (at, _) in path[from..].match_indices('/') {
                let end = from + at;
                hash = folded_hash(&path[..end]);
                dirs.push((end, hash));
                name(hash, &path[..end]);
            }
            hash = folded_hash(path);
        }
        name(hash, path);
        previous = path;
    }
    if met_hashes.is_empty() {
        return;
    }
    // The names whose hash another shares, in the list's order within a
    // hash (a stable sort).
    let met_hashes: std::collections::HashSet<u64, BuildHasherDefault<Folded>> =
        met_hashes.into_iter().collect();
    let mut met: Vec<(u64, &'a str)> = names
        .into_iter()
        .filter(|(h, _)| met_hashes.contains(h))
        .collect();
    met.sort_by_key(|(h, _)| *h);
    let mut groups: Vec<(String, Vec<&'a str>)> = Vec::new();
    for run in met.chunk_by(|a, b| a.0 == b.0) {
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

/// Hashes a [`folded_hash`], already a hash, as itself.
#[derive(Default)]
struct Folded(u64);

impl Hasher for Folded {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(*b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// `name` lowercased (a word-final `Σ` as `ς`).
fn folded(name: &str) -> String {
    name.to_lowercase()
}

const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;

/// One FNV-1a step.
fn mix(hash: u64, byte: u8) -> u64 {
    (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
}

/// How many bytes `a` and `b` share at their start, eight at a time.
fn common_len(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    let mut i = 0;
    while i + 8 <= n {
        let word = |s: &[u8]| u64::from_le_bytes(s[i..i + 8].try_into().unwrap_or_default());
        let diff = word(a) ^ word(b);
        if diff != 0 {
            return i + (diff.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    i + a[i..n]
        .iter()
        .zip(&b[i..n])
        .take_while(|(x, y)| x == y)
        .count()
}

/// FNV-1a over [`folded`]`(name)`, made only for a name that is not ASCII.
fn folded_hash(name: &str) -> u64 {
    let bytes = |text: &str| {
        text.bytes()
            .fold(FNV_START, |h, b| mix(h, b.to_ascii_lowercase()))
    };
    if name.is_ascii() {
        bytes(name)
    } else {
        bytes(&folded(name))
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

    /// Every name lowercased into a map: what the hashing must find.
    fn naive(paths: &[String]) -> Vec<String> {
        let mut groups: std::collections::BTreeMap<String, Vec<&str>> = Default::default();
        for path in paths {
            let ends = path.match_indices('/').map(|(i, _)| i);
            for end in ends.chain([path.len()]) {
                let name = &path[..end];
                let group = groups.entry(folded(name)).or_default();
                if !group.contains(&name) {
                    group.push(name);
                }
            }
        }
        groups
            .values()
            .flat_map(|g| {
                g[1..]
                    .iter()
                    .map(|other| format!("{other} and {} differ only in case", g[0]))
            })
            .collect()
    }

    #[test]
    fn the_running_hash_finds_what_lowercasing_every_name_finds() {
        let parts = [
            "a", "A", "b", "ab", "aB", "Ä", "ä", "ς", "Σ", "x.y", "K", "\u{212a}",
        ];
        let mut seed = 0x9e37_79b9_u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for round in 0..300 {
            let mut paths: Vec<String> = (0..1 + next(30))
                .map(|_| {
                    (0..1 + next(4))
                        .map(|_| parts[next(parts.len())])
                        .collect::<Vec<_>>()
                        .join("/")
                })
                .collect();
            if round % 2 == 0 {
                paths.sort();
            }
            let listed: Vec<&str> = paths.iter().map(String::as_str).collect();
            assert_eq!(collisions(&listed), naive(&paths), "{paths:?}");
        }
    }
}
