//! Report paths and globs from the config → the files to read. A path or
//! glob that names no file is an error: a report that is not there is a
//! run that did not happen, never a pass.

use std::path::PathBuf;

use portcullis_sdk::Context;

/// Files a glob may match (past that, a config error).
const MAX_MATCHES: usize = 100_000;
/// Directories deep a glob is followed.
const MAX_DEPTH: usize = 32;
/// Entries a glob may visit.
const MAX_VISITED: usize = 1_000_000;

/// (the path as shown in messages, where to read it)
pub type Found = Vec<(String, PathBuf)>;

/// The files `pattern` names, sorted. `key` is the config key, for errors.
pub fn expand(ctx: &Context, pattern: &str, key: &str) -> Result<Found, String> {
    let parts: Vec<&str> = pattern.split('/').collect();
    let Some(first_glob) = parts.iter().position(|p| p.contains(['*', '?', '[', '{'])) else {
        let at = ctx.locate(pattern).map_err(|e| format!("{key}: {e}"))?;
        return match std::fs::metadata(&at) {
            Ok(m) if m.is_file() => Ok(vec![(pattern.to_string(), at)]),
            Ok(_) => Err(format!("{key}: `{pattern}` is not a file")),
            Err(e) => Err(format!(
                "{key}: `{pattern}`: {e} (did the step that writes it run? is it under a `read` grant?)"
            )),
        };
    };
    let base = parts[..first_glob].join("/");
    let dir = if base.is_empty() {
        ctx.locate(".").map_err(|e| format!("{key}: {e}"))?
    } else {
        ctx.locate(&base).map_err(|e| format!("{key}: {e}"))?
    };
    let matcher = globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .build()
        .map_err(|e| format!("{key}: bad glob `{pattern}`: {e}"))?
        .compile_matcher();
    let mut found = Vec::new();
    let mut visited = 0usize;
    let mut stack = vec![(dir, base.clone(), 0usize)];
    while let Some((dir, shown, depth)) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if shown == base => {
                return Err(format!(
                    "{key}: `{}`: {e} (did the step that writes it run? is it under a `read` grant?)",
                    if base.is_empty() { "." } else { &base }
                ));
            }
            Err(_) => continue,
        };
        for entry in entries.flatten() {
            visited += 1;
            if visited > MAX_VISITED {
                return Err(format!(
                    "{key}: `{pattern}` visits more than {MAX_VISITED} entries; start it deeper"
                ));
            }
            let name = entry.file_name().to_string_lossy().into_owned();
            if name == ".git" {
                continue;
            }
            let rel = if shown.is_empty() {
                name
            } else {
                format!("{shown}/{name}")
            };
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() && depth < MAX_DEPTH {
                stack.push((entry.path(), rel, depth + 1));
            } else if kind.is_file() && matcher.is_match(&rel) {
                found.push((rel, entry.path()));
                if found.len() > MAX_MATCHES {
                    return Err(format!(
                        "{key}: `{pattern}` matches more than {MAX_MATCHES} files"
                    ));
                }
            }
        }
    }
    if found.is_empty() {
        return Err(format!(
            "{key}: `{pattern}` matches no file (did the step that writes it run?)"
        ));
    }
    found.sort();
    Ok(found)
}

/// A report opened for streaming.
pub fn open(path: &str, at: &PathBuf) -> Result<std::io::BufReader<std::fs::File>, String> {
    let f = std::fs::File::open(at).map_err(|e| format!("{path}: {e}"))?;
    Ok(std::io::BufReader::with_capacity(256 << 10, f))
}
