//! Per-file results kept between runs, as ruff and ESLint keep theirs: a
//! rule that judges each file by its path and content alone need not read
//! a file it has already judged with the same content.
//!
//! [`per_file`] asks the host for each file's digest (the contract's
//! `file-digests`: the host hashes natively and copies nothing into the
//! sandbox), takes the results stored for files whose path and digest it has
//! seen, and reads and computes only the others. The results live in the
//! plugin's persistent store ([`crate::cache`]), which the host keeps apart
//! for each plugin digest: a new build of the plugin starts afresh. They
//! are tied to a `salt` — everything besides a file's path and content the
//! results depend on (the plugin's config, say) — and dropped when it
//! changes. Entries may be missing at any time; nothing is ever taken for a
//! file whose digest the host could not give.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{Context, FileEntry, Finding, Level, Location, Region};

/// Below this many files, reading them costs less than the memo.
pub const MIN_FILES: usize = 32;

/// Below this average size, reading the files costs about what their memo
/// entries (path, digest, result) and hashing them do.
pub const MIN_AVERAGE_BYTES: u64 = 1024;

/// The largest memo stored (serialized); a larger one is not kept.
const MAX_BYTES: usize = 48 << 20;

#[derive(Serialize, Deserialize)]
struct Stored<T> {
    salt: String,
    /// Path → (digest of the content, result).
    files: HashMap<String, (String, T)>,
}

/// `compute(file, content)` for each of `files`, in order, reading them in
/// batches of at most `batch_bytes` (by listed size): a result stored under
/// `name` for the same path, content and `salt` is reused instead, without
/// reading the file. An `Err` from `compute` ends the call with it. With
/// fewer than [`MIN_FILES`] files, files smaller than
/// [`MIN_AVERAGE_BYTES`] on average, or without the host's store, every
/// file is read and computed.
pub fn per_file<T, F>(
    ctx: &Context,
    name: &str,
    salt: &str,
    files: &[&FileEntry],
    batch_bytes: u64,
    mut compute: F,
) -> Result<Vec<T>, String>
where
    T: Serialize + DeserializeOwned + Clone,
    F: FnMut(&FileEntry, Result<Vec<u8>, String>) -> Result<T, String>,
{
    let bytes: u64 = files.iter().map(|f| f.size).sum();
    if files.len() < MIN_FILES
        || bytes < MIN_AVERAGE_BYTES.saturating_mul(files.len() as u64)
        || !crate::cache::enabled()
    {
        return read_and_compute(ctx, files, batch_bytes, &mut compute);
    }
    let key = format!("memo/{name}");
    let paths: Vec<String> = files.iter().map(|f| f.path.clone()).collect();
    let digests = ctx.digests(&paths);
    let mut stored: Stored<T> = crate::cache::get(&key)
        .and_then(|bytes| serde_json::from_slice::<Stored<T>>(&bytes).ok())
        .filter(|s| s.salt == salt)
        .unwrap_or_else(|| Stored {
            salt: salt.to_string(),
            files: HashMap::new(),
        });
    let mut results: Vec<Option<T>> = vec![None; files.len()];
    let mut missing = Vec::new();
    for (i, (file, digest)) in files.iter().zip(&digests).enumerate() {
        match (digest, stored.files.get(&file.path)) {
            (Ok(d), Some((seen, result))) if d == seen => results[i] = Some(result.clone()),
            _ => missing.push(i),
        }
    }
    let to_read: Vec<&FileEntry> = missing.iter().map(|&i| files[i]).collect();
    let computed = read_and_compute(ctx, &to_read, batch_bytes, &mut compute)?;
    // A file that changed between its digest and its read holds content
    // other than the digest says: its result is not kept. Asking again
    // after the read catches it (the host hashes natively: cheap).
    let after = if to_read.is_empty() {
        Vec::new()
    } else {
        ctx.digests(&to_read.iter().map(|f| f.path.clone()).collect::<Vec<_>>())
    };
    let mut changed = !missing.is_empty();
    for ((&i, result), again) in missing.iter().zip(computed).zip(&after) {
        if let (Ok(d), Ok(again)) = (&digests[i], again)
            && d == again
        {
            stored
                .files
                .insert(files[i].path.clone(), (d.clone(), result.clone()));
        }
        results[i] = Some(result);
    }
    // A run over the whole tree drops the files no longer in it; a run
    // over the changed files only adds to what the last whole run kept.
    if ctx.changed_files().is_none() {
        let before = stored.files.len();
        let listed: std::collections::HashSet<&str> =
            files.iter().map(|f| f.path.as_str()).collect();
        stored
            .files
            .retain(|path, _| listed.contains(path.as_str()));
        changed |= stored.files.len() != before;
    }
    if changed
        && let Ok(bytes) = serde_json::to_vec(&stored)
        && bytes.len() <= MAX_BYTES
    {
        crate::cache::put(&key, &bytes);
    }
    Ok(results.into_iter().flatten().collect())
}

fn read_and_compute<T, F>(
    ctx: &Context,
    files: &[&FileEntry],
    batch_bytes: u64,
    compute: &mut F,
) -> Result<Vec<T>, String>
where
    F: FnMut(&FileEntry, Result<Vec<u8>, String>) -> Result<T, String>,
{
    let mut out = Vec::with_capacity(files.len());
    for batch in ctx.batches(files, batch_bytes) {
        let paths: Vec<String> = batch.iter().map(|f| f.path.clone()).collect();
        for (file, content) in batch.iter().zip(ctx.read_many(&paths)) {
            out.push(compute(file, content)?);
        }
    }
    Ok(out)
}

/// Findings as a [`per_file`] result.
#[derive(Debug, Clone, Default)]
pub struct Findings(pub Vec<Finding>);

/// A finding as stored: short keys, levels as words.
#[derive(Serialize, Deserialize)]
struct StoredFinding {
    rule: String,
    #[serde(default)]
    level: Option<String>,
    message: String,
    #[serde(default)]
    at: Vec<StoredLocation>,
    #[serde(default)]
    fingerprint: Option<String>,
    #[serde(default)]
    properties: Option<String>,
}

type StoredRegion = (u32, Option<u32>, Option<u32>, Option<u32>);

#[derive(Serialize, Deserialize)]
struct StoredLocation(String, Option<StoredRegion>);

impl Serialize for Findings {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let stored: Vec<StoredFinding> = self
            .0
            .iter()
            .map(|f| StoredFinding {
                rule: f.rule_id.clone(),
                level: f.level.map(|l| l.as_str().to_string()),
                message: f.message.clone(),
                at: f
                    .locations
                    .iter()
                    .map(|l| {
                        StoredLocation(
                            l.path.clone(),
                            l.region
                                .as_ref()
                                .map(|r| (r.start_line, r.start_column, r.end_line, r.end_column)),
                        )
                    })
                    .collect(),
                fingerprint: f.fingerprint.clone(),
                properties: f.properties.clone(),
            })
            .collect();
        stored.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Findings {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = Vec::<StoredFinding>::deserialize(d)?;
        let mut out = Vec::with_capacity(stored.len());
        for f in stored {
            let level = match f.level {
                Some(word) => Some(
                    Level::parse(&word).ok_or_else(|| serde::de::Error::custom("not a level"))?,
                ),
                None => None,
            };
            out.push(Finding {
                rule_id: f.rule,
                level,
                message: f.message,
                locations: f
                    .at
                    .into_iter()
                    .map(|StoredLocation(path, region)| Location {
                        path,
                        region: region.map(|(start_line, start_column, end_line, end_column)| {
                            Region {
                                start_line,
                                start_column,
                                end_line,
                                end_column,
                            }
                        }),
                    })
                    .collect(),
                fingerprint: f.fingerprint,
                properties: f.properties,
            });
        }
        Ok(Findings(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Evidence, FileKind};

    fn ctx(root: &std::path::Path, files: &[(&str, &str)]) -> Context {
        let mut entries = Vec::new();
        for (path, content) in files {
            std::fs::write(root.join(path), content).expect("write");
            entries.push(FileEntry {
                path: path.to_string(),
                size: content.len() as u64,
                kind: FileKind::File,
                link_target: None,
                link_resolves: false,
            });
        }
        let evidence = Evidence {
            root: root.display().to_string(),
            host_root: root.display().to_string(),
            files: entries,
            cargo_metadata: None,
            reports: Vec::new(),
            mounts: Vec::new(),
        };
        Context::new("{}", evidence, root.to_path_buf()).expect("context")
    }

    /// Runs `per_file` over `ctx`'s files, counting what it computed.
    fn run(ctx: &Context, salt: &str) -> (Vec<Findings>, usize) {
        let files: Vec<&FileEntry> = ctx.files().iter().collect();
        let mut computed = 0;
        let results = per_file(ctx, "test", salt, &files, 1 << 20, |file, content| {
            computed += 1;
            let content = content?;
            let mut found = Vec::new();
            if content.starts_with(b"bad") {
                found.push(Finding {
                    rule_id: "bad".into(),
                    level: Some(Level::Warning),
                    message: format!("{} is bad", file.path),
                    locations: vec![Location {
                        path: file.path.clone(),
                        region: Some(Region {
                            start_line: 1,
                            start_column: Some(1),
                            end_line: None,
                            end_column: Some(4),
                        }),
                    }],
                    fingerprint: Some("fp".into()),
                    properties: Some("{\"n\":1}".into()),
                });
            }
            Ok(Findings(found))
        })
        .expect("per_file");
        (results, computed)
    }

    #[test]
    fn only_files_with_new_content_are_computed_and_results_round_trip() {
        crate::testing::clear_cache();
        let dir = tempfile::tempdir().expect("dir");
        let names: Vec<String> = (0..MIN_FILES + 3).map(|i| format!("f{i}")).collect();
        let good = "good ".repeat(300);
        let bad = format!("bad {good}");
        let worse = format!("bad now {good}");
        let mut files: Vec<(&str, &str)> =
            names.iter().map(|n| (n.as_str(), good.as_str())).collect();
        files[2].1 = &bad;
        let first = ctx(dir.path(), &files);
        let (results, computed) = run(&first, "config A");
        assert_eq!(computed, files.len(), "all computed at first");
        // Again: nothing computed, the same results (findings round-trip).
        let (again, computed) = run(&first, "config A");
        assert_eq!(computed, 0);
        assert_eq!(format!("{:?}", again), format!("{:?}", results));
        assert_eq!(again[2].0.len(), 1);
        // One file's content changes: only it is computed.
        files[5].1 = &worse;
        let second = ctx(dir.path(), &files);
        let (results, computed) = run(&second, "config A");
        assert_eq!(computed, 1);
        assert_eq!(results[5].0.len(), 1, "the new content's findings");
        // Another salt (config): all computed again.
        let (_, computed) = run(&second, "config B");
        assert_eq!(computed, files.len());
    }

    #[test]
    fn many_tiny_files_are_read_without_the_memo() {
        crate::testing::clear_cache();
        let dir = tempfile::tempdir().expect("dir");
        let names: Vec<String> = (0..MIN_FILES * 2).map(|i| format!("f{i}")).collect();
        let files: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "tiny")).collect();
        let c = ctx(dir.path(), &files);
        assert_eq!(run(&c, "s").1, files.len());
        assert_eq!(run(&c, "s").1, files.len());
        assert!(crate::testing::cache_keys().is_empty());
    }

    #[test]
    fn few_files_are_read_without_the_memo() {
        crate::testing::clear_cache();
        let dir = tempfile::tempdir().expect("dir");
        let c = ctx(dir.path(), &[("a", "bad"), ("b", "good")]);
        assert_eq!(run(&c, "s").1, 2);
        assert_eq!(run(&c, "s").1, 2);
        assert!(crate::testing::cache_keys().is_empty());
    }
}
