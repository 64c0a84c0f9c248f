//! Paths written in reports → files of the repository. Reports name files
//! as their tool saw them: relative to where it ran, absolute on the
//! machine that ran it (often another one: a CI runner, a container),
//! under Cobertura `sources`, or as a package path (JaCoCo, Go import
//! paths, Go's under the module `go.mod` declares). A path is the
//! repository's when it names a file of the file list exactly, or, for a
//! path made on another machine or a package path, when its longest tail
//! that names a file names exactly one (two components at least when the
//! path has two; never through `node_modules` or `site-packages`).

use std::collections::{HashMap, HashSet};
use std::path::Path;

pub struct Resolver {
    files: HashSet<String>,
    /// Go modules: (module path from `go.mod`, its directory).
    go_modules: Vec<(String, String)>,
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
            go_modules: Vec::new(),
            by_name,
            host_root: host_root.to_string(),
        }
    }

    /// Go import paths under `module` are files under `dir` (where its
    /// `go.mod` is; empty for the top).
    pub fn go_module(&mut self, module: &str, dir: &str) {
        self.go_modules.push((module.to_string(), dir.to_string()));
        // The longest module path first: a nested module wins.
        self.go_modules
            .sort_by_key(|(m, _)| std::cmp::Reverse(m.len()));
    }

    pub fn contains(&self, path: &str) -> bool {
        self.files.contains(path)
    }

    /// The repository file `raw` names, trying it under each of `sources`
    /// first. `Ok(None)`: not a file of the repository. A path relative to
    /// where the tool ran must name the file exactly; a tail of the path
    /// is matched only for paths made on another machine (absolute, not
    /// under this repository) and, with `packages`, for package paths
    /// (JaCoCo's `com/x/Foo.java`, Go's import paths). A tail that names
    /// several files is an error: the report does not say which.
    pub fn resolve(
        &self,
        raw: &str,
        sources: &[String],
        packages: bool,
    ) -> Result<Option<String>, String> {
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
                return Ok(Some(rel));
            }
        }
        for (module, dir) in &self.go_modules {
            if let Some(rest) = raw
                .strip_prefix(module.as_str())
                .and_then(|r| r.strip_prefix('/'))
            {
                let rel = if dir.is_empty() {
                    rest.to_string()
                } else {
                    format!("{dir}/{rest}")
                };
                if self.files.contains(&rel) {
                    return Ok(Some(rel));
                }
            }
        }
        for t in &tries {
            let elsewhere = t.starts_with('/') || t.as_bytes().get(1) == Some(&b':');
            if !(elsewhere || packages) {
                continue;
            }
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
                // Third-party code installed beside the sources is not the
                // repository's, whatever its tail.
                if parts[..start]
                    .iter()
                    .any(|p| matches!(*p, "node_modules" | "site-packages" | "dist-packages"))
                {
                    break;
                }
                let tail = parts[start..].join("/");
                let suffix = format!("/{tail}");
                let hits: Vec<&String> = candidates
                    .iter()
                    .filter(|c| **c == tail || c.ends_with(&suffix))
                    .take(3)
                    .collect();
                match hits.as_slice() {
                    [] => continue,
                    [one] => return Ok(Some((*one).clone())),
                    [a, b, ..] => {
                        return Err(format!(
                            "`{}` could be `{a}` or `{b}` (or more): give the report's paths relative to the repository",
                            portcullis_sdk::text::escape_controls(&raw)
                        ));
                    }
                }
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_paths_become_repository_paths() {
        let mut r = Resolver::new(
            [
                "src/calc.py",
                "lib/index.js",
                "app/src/main/java/com/x/Foo.java",
                "pkg/a/util.go",
                "pkg/b/util.go",
                "one/pkg/util.go",
                "two/pkg/util.go",
                "svc/go.mod",
                "svc/api/h.go",
            ],
            "/work/repo",
        );
        r.go_module("example.com/svc", "svc");
        let s = |v: &str| vec![v.to_string()];
        let ok = |r: Result<Option<String>, String>| r.expect("resolved");
        assert_eq!(
            ok(r.resolve("calc.py", &s("/work/repo/src"), false)).as_deref(),
            Some("src/calc.py")
        );
        // Made on another machine: the tail decides.
        assert_eq!(
            ok(r.resolve("calc.py", &s("/home/runner/work/r/r/src"), false)).as_deref(),
            Some("src/calc.py")
        );
        assert_eq!(
            ok(r.resolve("/ci/build/src/calc.py", &[], false)).as_deref(),
            Some("src/calc.py")
        );
        assert_eq!(
            ok(r.resolve("./src/calc.py", &[], false)).as_deref(),
            Some("src/calc.py")
        );
        // Relative to where the tool ran: exactly, or not at all.
        assert_eq!(ok(r.resolve("vendor/src/calc.py", &[], false)), None);
        assert_eq!(
            ok(r.resolve("node_modules/dep/lib/index.js", &[], false)),
            None
        );
        assert_eq!(
            ok(r.resolve("/ci/node_modules/dep/lib/index.js", &[], false)),
            None
        );
        // Package paths.
        assert_eq!(
            ok(r.resolve("com/x/Foo.java", &[], true)).as_deref(),
            Some("app/src/main/java/com/x/Foo.java")
        );
        assert_eq!(
            ok(r.resolve("example.com/m/pkg/a/util.go", &[], true)).as_deref(),
            Some("pkg/a/util.go")
        );
        assert_eq!(
            ok(r.resolve("example.com/svc/api/h.go", &[], true)).as_deref(),
            Some("svc/api/h.go")
        );
        // Two files end in pkg/util.go and nothing longer tells them apart.
        let err = r
            .resolve("example.com/m/pkg/util.go", &[], true)
            .expect_err("ambiguous");
        assert!(
            err.contains("`one/pkg/util.go` or `two/pkg/util.go`"),
            "{err}"
        );
        assert_eq!(ok(r.resolve("other.py", &[], true)), None);
        // Not this repository's file, though one has its name.
        assert_eq!(ok(r.resolve("lib/calc.py", &[], true)), None);
    }
}
