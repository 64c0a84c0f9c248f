//! Where a test is written, so its failure lands on its definition (and in
//! the pull request's diff). From the report's `file` when it has one, else
//! from the class name (pytest's `tests.test_calc.TestX`, Java's
//! `com.x.FooTest`, Go's import path); the line is the test's definition
//! found in that file (`def`, `fn`, `func`, a Java method, a jest `it` /
//! `test` title), else the report's `line`.

use std::collections::HashMap;

use portcullis_sdk::Context;

use crate::junit::Case;
use crate::paths::Resolver;

/// Source files larger than this are not searched.
const MAX_SOURCE: u64 = 4 << 20;

pub struct Locator<'a> {
    ctx: &'a Context,
    resolver: &'a Resolver,
    texts: HashMap<String, Option<String>>,
    /// Rust function name → the `.rs` files defining it, built on first
    /// need.
    rust_index: Option<HashMap<String, Vec<String>>>,
    /// The repository's `_test.go` files, listed on first need.
    go_tests: Option<Vec<String>>,
}

impl<'a> Locator<'a> {
    pub fn new(ctx: &'a Context, resolver: &'a Resolver) -> Self {
        Locator {
            ctx,
            resolver,
            texts: HashMap::new(),
            rust_index: None,
            go_tests: None,
        }
    }

    /// The test's file and, when known, line.
    pub fn locate(&mut self, case: &Case) -> Option<(String, Option<u32>)> {
        let name = short_name(&case.name);
        let file = match &case.file {
            Some(f) => self.resolver.resolve(f, &[], false).ok().flatten(),
            None => None,
        }
        .or_else(|| self.by_classname(&case.classname, &name))
        .or_else(|| self.rust(&case.name, &name))?;
        let line = self
            .definition(&file, &name, &case.name)
            .or_else(|| {
                case.line
                    .map(|l| if case.pytest { l.saturating_add(1) } else { l })
            })
            .filter(|l| *l > 0);
        Some((file, line))
    }

    fn by_classname(&mut self, classname: &str, name: &str) -> Option<String> {
        let classname = classname.trim();
        if classname.is_empty() {
            return None;
        }
        // Go: an import path; the test is in a `_test.go` file of the
        // package's directory.
        if classname.contains('/') {
            let dir_tail: Vec<&str> = classname.split('/').collect();
            let mut found = Vec::new();
            let ctx = self.ctx;
            let go_tests = self
                .go_tests
                .get_or_insert_with(|| {
                    ctx.files()
                        .iter()
                        .filter(|f| f.path.ends_with("_test.go"))
                        .map(|f| f.path.clone())
                        .collect()
                })
                .clone();
            for f in go_tests.iter().map(String::as_str) {
                let dir = f.rsplit_once('/').map_or("", |(d, _)| d);
                let matches = (1..=dir_tail.len())
                    .any(|k| dir_tail[dir_tail.len() - k..].join("/") == dir)
                    || dir.is_empty();
                if matches && self.definition(f, name, name).is_some() {
                    found.push(f.to_string());
                }
            }
            return (found.len() == 1).then(|| found.remove(0));
        }
        // Dotted: a module or class path; drop parts from the end (class,
        // nested class) until a file matches. A JVM nested class is
        // `Outer$Inner` (Surefire, Gradle): it lives in `Outer`'s file.
        let outer = classname.split('$').next().unwrap_or(classname);
        let parts: Vec<&str> = outer.split('.').collect();
        for end in (1..=parts.len()).rev() {
            let stem = parts[..end].join("/");
            for ext in ["py", "java", "kt", "scala", "groovy", "cs", "rb", "php"] {
                let candidate = format!("{stem}.{ext}");
                if let Ok(Some(f)) = self.resolver.resolve(&candidate, &[], true) {
                    return Some(f);
                }
            }
        }
        None
    }

    /// Rust (cargo test, nextest): `module::tests::name`; the `.rs` file
    /// defining `fn name`, when one does, or one of those named after a
    /// module of the path. The definitions are indexed once, on first
    /// need, over the first 5 000 `.rs` files.
    fn rust(&mut self, full: &str, name: &str) -> Option<String> {
        if !full.contains("::") {
            return None;
        }
        let ctx = self.ctx;
        let index = self.rust_index.get_or_insert_with(|| {
            let mut index: HashMap<String, Vec<String>> = HashMap::new();
            for f in ctx
                .files()
                .iter()
                .filter(|f| f.path.ends_with(".rs") && f.size <= MAX_SOURCE)
                .take(5000)
            {
                let Ok(text) = ctx.read_to_string(&f.path) else {
                    continue;
                };
                for line in text.lines() {
                    let Some(at) = line.find("fn ") else {
                        continue;
                    };
                    let rest = &line[at + 3..];
                    let end = rest
                        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                        .unwrap_or(rest.len());
                    if end > 0 && rest[end..].starts_with(['(', '<']) {
                        let files = index.entry(rest[..end].to_string()).or_default();
                        if files.last() != Some(&f.path) {
                            files.push(f.path.clone());
                        }
                    }
                }
            }
            index
        });
        let modules: Vec<&str> = full.split("::").filter(|m| *m != "tests").collect();
        let module_file = |p: &str| {
            modules
                .iter()
                .any(|m| p.ends_with(&format!("/{m}.rs")) || p.ends_with(&format!("/{m}/mod.rs")))
        };
        let Some(files) = index.get(name) else {
            // Past the indexed files: those named after a module of the
            // path, searched one by one.
            let named: Vec<String> = ctx
                .files()
                .iter()
                .filter(|f| f.path.ends_with(".rs") && module_file(&f.path))
                .map(|f| f.path.clone())
                .collect();
            let found: Vec<String> = named
                .into_iter()
                .filter(|p| self.definition(p, name, name).is_some())
                .collect();
            return match found.as_slice() {
                [one] => Some(one.clone()),
                _ => None,
            };
        };
        if let [one] = files.as_slice() {
            return Some(one.clone());
        }
        let named: Vec<&String> = files.iter().filter(|p| module_file(p)).collect();
        match named.as_slice() {
            [one] => Some((*one).clone()),
            _ => None,
        }
    }

    /// The line of the test's definition in `file`.
    fn definition(&mut self, file: &str, name: &str, full: &str) -> Option<u32> {
        let text = self.text(file)?;
        let defs = [
            format!("def {name}("),
            format!("fn {name}("),
            format!("fn {name}<"),
            format!("func {name}("),
            format!("void {name}("),
            format!("fun {name}("),
            format!("fun `{name}`("),
        ];
        for (i, line) in text.lines().enumerate() {
            let t = line.trim_start();
            if defs
                .iter()
                .any(|d| t.starts_with(d.as_str()) || t.contains(&format!(" {d}")))
            {
                return u32::try_from(i + 1).ok();
            }
        }
        // jest / mocha: `it("title"` or `test('title'`, the title being a
        // tail of the reported name (which starts with its describe blocks).
        let words: Vec<&str> = full.split(' ').collect();
        for start in 0..words.len() {
            let title = words[start..].join(" ");
            if title.is_empty() {
                continue;
            }
            for (i, line) in text.lines().enumerate() {
                let t = line.trim_start();
                let opens = [
                    "it(",
                    "test(",
                    "it.only(",
                    "test.only(",
                    "it.each",
                    "test.each",
                ];
                if opens.iter().any(|o| t.starts_with(o))
                    && ['"', '\'', '`']
                        .iter()
                        .any(|q| t.contains(&format!("{q}{title}{q}")))
                {
                    return u32::try_from(i + 1).ok();
                }
            }
        }
        None
    }

    fn text(&mut self, file: &str) -> Option<&str> {
        let ctx = self.ctx;
        self.texts
            .entry(file.to_string())
            .or_insert_with(|| {
                let f = ctx.open(file).ok()?;
                if f.metadata().ok()?.len() > MAX_SOURCE {
                    return None;
                }
                ctx.read_to_string(file).ok()
            })
            .as_deref()
    }
}

/// The function name a test runner's name stands for: pytest's
/// `test_x[param]` → `test_x`, Rust's `module::tests::it_works` →
/// `it_works`, Go's `TestX/subtest` → `TestX`, Java's `testFoo()` →
/// `testFoo`.
pub fn short_name(name: &str) -> String {
    let name = name.split('[').next().unwrap_or(name);
    let name = name.split('/').next().unwrap_or(name);
    let name = name.rsplit("::").next().unwrap_or(name);
    let name = name.split('(').next().unwrap_or(name);
    name.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::short_name;

    #[test]
    fn runner_names_become_function_names() {
        assert_eq!(short_name("test_add[1-2-3]"), "test_add");
        assert_eq!(short_name("formats::tests::reads_lcov"), "reads_lcov");
        assert_eq!(short_name("TestParse/empty_input"), "TestParse");
        assert_eq!(short_name("testFoo()"), "testFoo");
    }
}
