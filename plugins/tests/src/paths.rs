//! Paths written in reports → files of the repository. Reports name files
//! as their tool saw them: relative to where it ran, absolute on the
//! machine that ran it (often another one: a CI runner, a container),
//! under Cobertura `sources`, or as a package path (JaCoCo, Go import
//! paths). A path is the repository's when it, or the longest tail of it
//! that names exactly one file of the repository (two components at least
//! when the path has two), is in the file list.

use std::collections::{HashMap, HashSet};
use std::path::Path;

pub struct Resolver {
    files: HashSet<String>,
    /// File name → the files with that name.
    by_name: HashMap<String, Vec<String>>,
    host_root: String,
}

impl Resolver {
    pub fn new<'a>(files: impl IntoIterator<Item = &'a str>, host_root: &str) -> Self {
        let mut set = HashSet::new();
        let mut by_name: HashMap<String, Vec<String>> = HashMap::new();
        for f in files {
            set.insert(f.to_string());
            let name = f.rsplit('/').next().unwrap_or(f);
            by_name
                .entry(name.to_string())
                .or_default()
                .push(f.to_string());
        }
        Resolver {
            files: set,
            by_name,
            host_root: host_root.to_string(),
        }
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains(path)
    }

    /// The repository file `raw` names, trying it under each of `sources`
    /// first.
    pub fn resolve(&self, raw: &str, sources: &[String]) -> Option<String> {
        let root = Path::new(&self.host_root);
        let raw = raw.replace('\\', "/");
        let mut tries: Vec<String> = sources
            .iter()
            .filter(|s| !s.is_empty())
            .map(|s| {
                format!(
                    "{}/{}",
                    s.trim_end_matches(['/', '\\']).replace('\\', "/"),
                    raw
                )
            })
            .collect();
        tries.push(raw.clone());
        for t in &tries {
            if let Some(rel) = portcullis_sdk::text::repo_relative(root, t)
                && self.files.contains(&rel)
            {
                return Some(rel);
            }
        }
        // The longest tail naming exactly one file.
        for t in &tries {
            let parts: Vec<&str> = t
                .split('/')
                .filter(|p| !p.is_empty() && *p != ".")
                .collect();
            let Some(name) = parts.last() else {
                continue;
            };
            let Some(candidates) = self.by_name.get(*name) else {
                continue;
            };
            // At least two components when there are two: a file name
            // alone would match any file of that name.
            for start in 0..parts.len().saturating_sub(1).max(1) {
                let tail = parts[start..].join("/");
                let suffix = format!("/{tail}");
                let mut hits = candidates
                    .iter()
                    .filter(|c| **c == tail || c.ends_with(&suffix));
                if let Some(first) = hits.next() {
                    if hits.next().is_none() {
                        return Some(first.clone());
                    }
                    // Several files end so: a longer tail did not decide,
                    // a shorter one cannot.
                    break;
                }
            }
        }
        None
    }

    /// Files of the repository with this name.
    pub fn named(&self, name: &str) -> &[String] {
        self.by_name.get(name).map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_paths_become_repository_paths() {
        let r = Resolver::new(
            [
                "src/calc.py",
                "app/src/main/java/com/x/Foo.java",
                "pkg/a/util.go",
                "pkg/b/util.go",
            ],
            "/work/repo",
        );
        let s = |v: &str| vec![v.to_string()];
        assert_eq!(
            r.resolve("calc.py", &s("/work/repo/src")).as_deref(),
            Some("src/calc.py")
        );
        // Made on another machine: the tail decides.
        assert_eq!(
            r.resolve("calc.py", &s("/home/runner/work/r/r/src"))
                .as_deref(),
            Some("src/calc.py")
        );
        assert_eq!(
            r.resolve("/ci/build/src/calc.py", &[]).as_deref(),
            Some("src/calc.py")
        );
        assert_eq!(
            r.resolve("./src/calc.py", &[]).as_deref(),
            Some("src/calc.py")
        );
        assert_eq!(
            r.resolve("com/x/Foo.java", &[]).as_deref(),
            Some("app/src/main/java/com/x/Foo.java")
        );
        assert_eq!(
            r.resolve("example.com/m/pkg/a/util.go", &[]).as_deref(),
            Some("pkg/a/util.go")
        );
        // Two files end in util.go and nothing longer tells them apart.
        assert_eq!(r.resolve("util.go", &[]), None);
        assert_eq!(r.resolve("other.py", &[]), None);
        // Not this repository's file, though one has its name.
        assert_eq!(r.resolve("lib/calc.py", &[]), None);
    }
}
