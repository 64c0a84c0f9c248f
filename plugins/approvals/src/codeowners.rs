//! CODEOWNERS with GitHub's semantics.
//!
//! - Found at `.github/CODEOWNERS`, `CODEOWNERS` or `docs/CODEOWNERS`, the
//!   first that exists, as GitHub looks.
//! - gitignore-style patterns, case-sensitive: a pattern with no `/` but a
//!   trailing one matches at any depth; a leading or inner `/` anchors it to
//!   the root; a trailing `/` matches a directory and everything in it; a
//!   pattern naming a directory matches everything beneath it; `**` spans
//!   directories. Where GitHub differs from gitignore, GitHub wins: `docs/*`
//!   matches only direct children of `docs/`; `!` negation, `[ ]` ranges and
//!   `\#` escapes are not supported.
//! - The last matching line wins; a line with a pattern and no owners makes
//!   the path unowned.
//! - Owners are `@user`, `@org/team` or an email address; `#` starts a
//!   comment, also after the owners.
//! - Lines GitHub would skip silently (unsupported syntax, bad owners) are
//!   returned as errors, with their line, and skipped.

use std::cell::OnceCell;
use std::collections::HashMap;

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

pub const LOCATIONS: &[&str] = &[".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    User(String),
    Team(String),
    Email(String),
}

impl std::fmt::Display for Owner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Owner::User(u) => write!(f, "@{u}"),
            Owner::Team(t) => write!(f, "@{t}"),
            Owner::Email(e) => f.write_str(e),
        }
    }
}

#[derive(Debug)]
pub struct Entry {
    pub line: u32,
    pub pattern: String,
    pub owners: Vec<Owner>,
}

pub struct Codeowners {
    pub path: String,
    pub entries: Vec<Entry>,
    /// Wildcard-free patterns (`/build/logs/`, `docs/a.md`) by their path:
    /// a lookup tries each ancestor of the path.
    literals: HashMap<String, Vec<(usize, bool)>>,
    /// Unanchored `*.<ext>` patterns by extension: a lookup tries each
    /// suffix after a `.` of each path segment.
    extensions: HashMap<String, Vec<(usize, bool)>>,
    /// Other patterns that may match under any first directory.
    general: Set,
    /// Other anchored patterns by their literal first path segment, compiled
    /// the first time a path under that segment is looked up: a large
    /// CODEOWNERS mostly names directories the change does not touch.
    buckets: HashMap<String, Bucket>,
}

/// How one pattern is matched.
enum Matcher {
    /// (path, directory only)
    Literal(String, bool),
    /// (extension, directory only)
    Extension(String, bool),
    /// Globs, with the bucket of an anchored pattern.
    Globs(Option<String>, Vec<String>),
}

/// Globs and the entry each belongs to.
#[derive(Default)]
struct Set {
    set: GlobSet,
    entry: Vec<usize>,
}

impl Set {
    fn build(globs: &[(String, usize)]) -> Set {
        let mut b = GlobSetBuilder::new();
        let mut entry = Vec::with_capacity(globs.len());
        // Patterns were checked when parsed (see `compile`).
        for (g, e) in globs {
            if let Some(g) = glob(g) {
                b.add(g);
                entry.push(*e);
            }
        }
        Set {
            set: b.build().unwrap_or_else(|_| GlobSet::empty()),
            entry,
        }
    }

    fn last_match(&self, path: &str) -> Option<usize> {
        self.set
            .matches(path)
            .into_iter()
            .map(|g| self.entry[g])
            .max()
    }
}

#[derive(Default)]
struct Bucket {
    globs: Vec<(String, usize)>,
    set: OnceCell<Set>,
}

fn glob(g: &str) -> Option<Glob> {
    GlobBuilder::new(g)
        .literal_separator(true)
        .backslash_escape(true)
        .build()
        .ok()
}

/// A line GitHub would skip.
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid {
    pub line: u32,
    pub reason: String,
}

impl Codeowners {
    pub fn parse(path: &str, text: &str) -> (Codeowners, Vec<Invalid>) {
        let mut entries = Vec::new();
        let mut invalid = Vec::new();
        let mut general = Vec::new();
        let mut buckets: HashMap<String, Bucket> = HashMap::new();
        let mut literals: HashMap<String, Vec<(usize, bool)>> = HashMap::new();
        let mut extensions: HashMap<String, Vec<(usize, bool)>> = HashMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i as u32 + 1;
            let trimmed = raw.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            match parse_line(trimmed) {
                Ok((pattern, owners)) => match compile(&pattern) {
                    Ok(m) => {
                        let e = entries.len();
                        match m {
                            Matcher::Literal(path, dir) => {
                                literals.entry(path).or_default().push((e, dir));
                            }
                            Matcher::Extension(ext, dir) => {
                                extensions.entry(ext).or_default().push((e, dir));
                            }
                            Matcher::Globs(Some(seg), gs) => {
                                let b = buckets.entry(seg).or_default();
                                b.globs.extend(gs.into_iter().map(|g| (g, e)));
                            }
                            Matcher::Globs(None, gs) => {
                                general.extend(gs.into_iter().map(|g| (g, e)));
                            }
                        }
                        entries.push(Entry {
                            line,
                            pattern,
                            owners,
                        });
                    }
                    Err(reason) => invalid.push(Invalid { line, reason }),
                },
                Err(reason) => invalid.push(Invalid { line, reason }),
            }
        }
        (
            Codeowners {
                path: path.to_string(),
                entries,
                literals,
                extensions,
                general: Set::build(&general),
                buckets,
            },
            invalid,
        )
    }

    /// The entry deciding who owns `path` (the last matching line), if any.
    pub fn entry_for(&self, path: &str) -> Option<&Entry> {
        let first = path.split('/').next().unwrap_or(path);
        let bucketed = self
            .buckets
            .get(first)
            .and_then(|b| b.set.get_or_init(|| Set::build(&b.globs)).last_match(path));
        let mut best = self.general.last_match(path).max(bucketed);
        // Each ancestor directory, then the path itself (a file).
        let segments: Vec<&str> = path.split('/').collect();
        let mut end = 0;
        for (i, seg) in segments.iter().enumerate() {
            end += seg.len() + usize::from(i > 0);
            let is_file = i + 1 == segments.len();
            let candidates = self.literals.get(&path[..end]).into_iter().flatten();
            let dots = seg.match_indices('.').map(|(p, _)| p);
            let by_ext = dots
                .filter_map(|p| self.extensions.get(&seg[p + 1..]))
                .flatten();
            for &(e, dir_only) in candidates.chain(by_ext) {
                if !(is_file && dir_only) {
                    best = best.max(Some(e));
                }
            }
        }
        best.map(|e| &self.entries[e])
    }

    /// The owners of `path`: empty when unowned.
    pub fn owners(&self, path: &str) -> &[Owner] {
        self.entry_for(path).map_or(&[], |e| e.owners.as_slice())
    }
}

fn parse_line(line: &str) -> Result<(String, Vec<Owner>), String> {
    let mut parts = line.split_whitespace();
    let pattern = parts.next().unwrap_or_default().to_string();
    if pattern.starts_with('\\') || pattern.contains("\\#") {
        return Err(format!(
            "`{pattern}`: `\\#` escapes are not supported by GitHub"
        ));
    }
    if pattern.starts_with('!') {
        return Err(format!(
            "`{pattern}`: `!` negation is not supported by GitHub"
        ));
    }
    if pattern.contains('[') || pattern.contains(']') {
        return Err(format!(
            "`{pattern}`: `[ ]` character ranges are not supported by GitHub"
        ));
    }
    let mut owners = Vec::new();
    for word in parts {
        if word.starts_with('#') {
            break;
        }
        owners.push(owner(word).ok_or_else(|| {
            format!("`{word}` is not an owner (`@user`, `@org/team` or an email address)")
        })?);
    }
    Ok((pattern, owners))
}

fn owner(word: &str) -> Option<Owner> {
    let name_ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
    };
    if let Some(handle) = word.strip_prefix('@') {
        return match handle.split_once('/') {
            Some((org, team)) if name_ok(org) && name_ok(team) => {
                Some(Owner::Team(handle.to_string()))
            }
            None if name_ok(handle) => Some(Owner::User(handle.to_string())),
            _ => None,
        };
    }
    let (local, domain) = word.split_once('@')?;
    (!local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.'))
    .then(|| Owner::Email(word.to_string()))
}

/// Escape what globset would read as syntax but GitHub reads literally.
fn literal(seg: &str) -> String {
    let mut out = String::with_capacity(seg.len());
    for c in seg.chars() {
        if matches!(c, '{' | '}' | ',' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Decide how a CODEOWNERS pattern is matched.
fn compile(pattern: &str) -> Result<Matcher, String> {
    let dir_only = pattern.ends_with('/');
    let body = pattern.trim_end_matches('/');
    let anchored = body.starts_with('/') || body.contains('/');
    let body = body.trim_start_matches('/');
    if body.is_empty() {
        return Err(format!("`{pattern}` matches nothing"));
    }
    if body.split('/').any(|seg| seg.contains("**") && seg != "**") {
        return Err(format!("`{pattern}`: `**` must be a whole path segment"));
    }
    let wild = |s: &str| s.contains(['*', '?']);
    if !wild(body) && anchored {
        return Ok(Matcher::Literal(body.to_string(), dir_only));
    }
    if !anchored
        && let Some(ext) = body.strip_prefix("*.")
        && !wild(ext)
        && !ext.is_empty()
    {
        return Ok(Matcher::Extension(ext.to_string(), dir_only));
    }
    if !wild(body) {
        // A bare name (`docs`, `Makefile`) at any depth: any segment.
        return Ok(Matcher::Globs(
            None,
            [
                format!("**/{}", literal(body)),
                format!("**/{}/**", literal(body)),
            ]
            .into_iter()
            .skip(usize::from(dir_only))
            .collect(),
        ));
    }
    let escaped = literal(body);
    let base = if anchored {
        escaped.clone()
    } else {
        format!("**/{escaped}")
    };
    let mut out = Vec::new();
    // The path itself (a file), unless only directories match.
    if !dir_only {
        out.push(base.clone());
    }
    // Everything beneath a matching directory, except for a final `*`,
    // which GitHub limits to direct children (`docs/*`).
    let last = body.rsplit('/').next().unwrap_or(body);
    if last != "*" && !body.ends_with("**") {
        out.push(format!("{base}/**"));
    }
    for g in &out {
        glob(g).ok_or_else(|| format!("`{pattern}` is not a valid pattern"))?;
    }
    let first = body.split('/').next().unwrap_or_default();
    let bucket = (anchored && !wild(first) && !first.contains(['{', '}', '\\', ',']))
        .then(|| first.to_string());
    Ok(Matcher::Globs(bucket, out))
}
