//! Artifact size budgets: files under a build output directory against an
//! absolute limit and against the same files from the baseline build.

use std::path::Path;

use portcullis_sdk::Context;

use crate::config::Sizes;

/// One artifact's sizes.
#[derive(Debug, Clone)]
pub struct Artifact {
    /// Path under the entry's `current` directory.
    pub path: String,
    pub size: u64,
    pub baseline: Option<u64>,
    pub max: Option<f64>,
    pub max_increase: f64,
}

/// Every artifact the entry's globs select, with its baseline size.
pub fn measure(ctx: &Context, i: usize, s: &Sizes) -> Result<Vec<Artifact>, String> {
    let key = format!("sizes[{i}]");
    let dir = ctx
        .locate(&s.current)
        .map_err(|e| format!("config.{key}.current: {e}"))?;
    let base_dir = match &s.baseline {
        Some(b) => Some(
            ctx.locate(b)
                .map_err(|e| format!("config.{key}.baseline: {e}"))?,
        ),
        None => None,
    };
    let max = match &s.max {
        Some(m) => Some(m.bytes().map_err(|e| format!("config.{key}.max: {e}"))?),
        None => None,
    };
    if s.files.is_empty() {
        return Err(format!("config.{key}.files: name at least one glob"));
    }
    let mut files = Vec::new();
    // Without a `/` in any glob only the directory itself is listed (a
    // target directory holds thousands of files below it).
    let depth = if s.files.iter().any(|g| g.contains('/')) {
        16
    } else {
        0
    };
    list(&dir, &dir, &mut files, depth)
        .map_err(|e| format!("config.{key}.current: {}: {e}", s.current))?;
    let mut out = Vec::new();
    for g in &s.files {
        let one = portcullis_sdk::globset(&format!("{key}.files"), std::slice::from_ref(g))?;
        let before = out.len();
        for (rel, size) in &files {
            if one.is_match(rel) && !out.iter().any(|a: &Artifact| &a.path == rel) {
                let baseline = base_dir
                    .as_ref()
                    .and_then(|b| std::fs::metadata(b.join(rel)).ok())
                    .filter(|m| m.is_file())
                    .map(|m| m.len());
                out.push(Artifact {
                    path: rel.clone(),
                    size: *size,
                    baseline,
                    max,
                    max_increase: s.max_increase / 100.0,
                });
            }
        }
        if out.len() == before && !files.iter().any(|(rel, _)| one.is_match(rel)) {
            return Err(format!(
                "config.{key}.files: `{g}` matches no file under {} (was the artifact built?)",
                s.current
            ));
        }
    }
    Ok(out)
}

fn list(
    root: &Path,
    dir: &Path,
    out: &mut Vec<(String, u64)>,
    depth: usize,
) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            if depth > 0 {
                list(root, &path, out, depth - 1)?;
            }
        } else if meta.is_file() {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push((rel, meta.len()));
        }
    }
    Ok(())
}
