//! criterion's output directory: `<dir>/<group>/<bench>[/<value>]/<which>/`
//! holding `benchmark.json` (the benchmark's id) and `sample.json` (the raw
//! samples: iteration counts and total times in ns). `<which>` is `new`
//! for the latest run, `base` for the one before, or a name saved with
//! `--save-baseline`.

use std::path::Path;

use serde::Deserialize;

use super::{Run, Series, json};

#[derive(Deserialize)]
struct Benchmark {
    full_id: String,
}

#[derive(Deserialize)]
struct Sample {
    iters: Vec<f64>,
    times: Vec<f64>,
}

/// Directories below the root a benchmark may sit at: a group, a function,
/// a parameter, and ids whose names hold `/` (each becomes a directory).
const MAX_DEPTH: usize = 16;

pub fn read(dir: &Path, shown: &str, which: &str) -> Result<Run, String> {
    let meta = std::fs::metadata(dir).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    if !meta.is_dir() {
        return Err(format!(
            "{shown}: not a directory (format \"criterion\" reads criterion's output directory, e.g. target/criterion)"
        ));
    }
    let mut run = Run::default();
    walk(dir, dir, shown, which, &mut run, 0)?;
    Ok(run)
}

fn walk(
    root: &Path,
    dir: &Path,
    shown: &str,
    which: &str,
    run: &mut Run,
    depth: usize,
) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "{shown}: {} is nested more than {MAX_DEPTH} directories deep, deeper than criterion writes a benchmark id",
            dir.strip_prefix(root).unwrap_or(dir).display()
        ));
    }
    let here = dir.join(which);
    if here.join("benchmark.json").is_file() {
        let rel = |f: &str| {
            let file = here.join(f);
            let inner = file.strip_prefix(root).unwrap_or(&file);
            format!("{shown}/{}", inner.to_string_lossy())
        };
        let bench_at = rel("benchmark.json");
        let text = std::fs::read_to_string(here.join("benchmark.json"))
            .map_err(|e| format!("{bench_at}: cannot read: {e}"))?;
        let b: Benchmark = json(&text, &bench_at, "criterion's benchmark.json")?;
        let sample_at = rel("sample.json");
        let text = std::fs::read_to_string(here.join("sample.json"))
            .map_err(|e| format!("{sample_at}: cannot read: {e}"))?;
        let s: Sample = json(&text, &sample_at, "criterion's sample.json")?;
        if s.iters.len() != s.times.len() {
            return Err(format!(
                "{sample_at}: {} iteration counts but {} times",
                s.iters.len(),
                s.times.len()
            ));
        }
        if s.iters.iter().any(|i| *i <= 0.0) {
            return Err(format!("{sample_at}: an iteration count is not positive"));
        }
        let samples = s.times.iter().zip(&s.iters).map(|(t, i)| t / i).collect();
        run.insert(b.full_id, Series::time(samples), &sample_at)?;
    }
    let cannot_list = |e: std::io::Error| {
        let inner = dir.strip_prefix(root).unwrap_or(dir);
        format!("{shown}: cannot list {}: {e}", inner.display())
    };
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(cannot_list)? {
        let entry = entry.map_err(cannot_list)?;
        if entry.file_type().map_err(cannot_list)?.is_dir() {
            entries.push(entry.path());
        }
    }
    entries.sort();
    for sub in entries {
        let name = sub.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // A benchmark's own sample directories and the HTML report are not
        // benchmarks.
        if matches!(name, "new" | "base" | "change" | "report") || name == which {
            continue;
        }
        walk(root, &sub, shown, which, run, depth + 1)?;
    }
    Ok(())
}
