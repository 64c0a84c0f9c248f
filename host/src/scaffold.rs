//! `portcullis new plugin NAME --lang rust|python|js`: a plugin project that
//! builds into a component the host loads, with one example rule and its
//! test.
//!
//! The project holds the plugin contract (`wit/plugin.wit`, the same file
//! the host is built against), so the bindings are made from the contract
//! this binary speaks.

use std::path::{Path, PathBuf};

/// The plugin contract, as the host is built against it.
pub const CONTRACT: &str = include_str!("../../wit/plugin.wit");

/// The componentize-py release the Python project is written for.
pub const COMPONENTIZE_PY: &str = "0.25.1";
/// The componentize-js release the JavaScript project is written for.
pub const COMPONENTIZE_JS: &str = "0.23.0";
/// componentize-js imports preview2-shim when it runs but lists it for its
/// own development only: the project asks for it by name.
pub const PREVIEW2_SHIM: &str = "0.17.9";

/// The languages a plugin project can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Rust, with the SDK written into the project.
    Rust,
    /// CPython in the component, through componentize-py.
    Python,
    /// A JavaScript engine (StarlingMonkey) in the component, through
    /// componentize-js.
    Js,
}

/// (path in the project, text, executable)
const PYTHON: &[(&str, &str, bool)] = &[
    ("app.py", include_str!("scaffold/python/app.py"), false),
    ("rules.py", include_str!("scaffold/python/rules.py"), false),
    (
        "test_rules.py",
        include_str!("scaffold/python/test_rules.py"),
        false,
    ),
    ("build.sh", include_str!("scaffold/python/build.sh"), true),
    (
        "README.md",
        include_str!("scaffold/python/README.md"),
        false,
    ),
    (
        ".gitignore",
        include_str!("scaffold/python/.gitignore"),
        false,
    ),
];

const RUST: &[(&str, &str, bool)] = &[
    (
        "Cargo.toml",
        include_str!("scaffold/rust/Cargo.toml"),
        false,
    ),
    ("src/lib.rs", include_str!("scaffold/rust/lib.rs"), false),
    (
        "tests/rules.rs",
        include_str!("scaffold/rust/rules_test.rs"),
        false,
    ),
    ("build.sh", include_str!("scaffold/rust/build.sh"), true),
    ("README.md", include_str!("scaffold/rust/README.md"), false),
    (
        ".gitignore",
        include_str!("scaffold/rust/.gitignore"),
        false,
    ),
    // The SDK, as this binary was built with it.
    ("sdk/Cargo.toml", SDK_MANIFEST, false),
    (
        "sdk/src/lib.rs",
        include_str!("../../plugins/sdk/src/lib.rs"),
        false,
    ),
    (
        "sdk/src/cache.rs",
        include_str!("../../plugins/sdk/src/cache.rs"),
        false,
    ),
    (
        "sdk/src/context.rs",
        include_str!("../../plugins/sdk/src/context.rs"),
        false,
    ),
    (
        "sdk/src/memo.rs",
        include_str!("../../plugins/sdk/src/memo.rs"),
        false,
    ),
    (
        "sdk/src/rule.rs",
        include_str!("../../plugins/sdk/src/rule.rs"),
        false,
    ),
    (
        "sdk/src/stats.rs",
        include_str!("../../plugins/sdk/src/stats.rs"),
        false,
    ),
    (
        "sdk/src/testing.rs",
        include_str!("../../plugins/sdk/src/testing.rs"),
        false,
    ),
    (
        "sdk/src/testing/mutants.rs",
        include_str!("../../plugins/sdk/src/testing/mutants.rs"),
        false,
    ),
    (
        "sdk/src/text.rs",
        include_str!("../../plugins/sdk/src/text.rs"),
        false,
    ),
    (
        "sdk/src/types.rs",
        include_str!("../../plugins/sdk/src/types.rs"),
        false,
    ),
];

/// The SDK's manifest outside this workspace: its dependencies spelled
/// out (`plugins/sdk/Cargo.toml` takes them from the workspace).
const SDK_MANIFEST: &str = r#"[package]
name = "portcullis-sdk"
description = "Write portcullis plugins: bindings to the plugin contract and a native test harness"
version = "@@SDK_VERSION@@"
edition = "2024"
publish = false

[dependencies]
globset = { version = "0.4", default-features = false }
serde = { version = "1", features = ["derive"] }
serde_json = "1"
serde_path_to_error = "0.1"
wit-bindgen = { version = "0.46", default-features = false, features = ["macros", "realloc", "std"] }

[target.'cfg(not(target_arch = "wasm32"))'.dependencies]
blake3 = "1"
"#;

const JS: &[(&str, &str, bool)] = &[
    ("app.js", include_str!("scaffold/js/app.js"), false),
    ("rules.js", include_str!("scaffold/js/rules.js"), false),
    (
        "rules.test.js",
        include_str!("scaffold/js/rules.test.js"),
        false,
    ),
    ("build.mjs", include_str!("scaffold/js/build.mjs"), false),
    (
        "package.json",
        include_str!("scaffold/js/package.json"),
        false,
    ),
    ("README.md", include_str!("scaffold/js/README.md"), false),
    (".gitignore", include_str!("scaffold/js/.gitignore"), false),
];

/// Write a `lang` plugin project named `name` into `dir` (created; it must
/// not exist or be empty). Returns the files written.
pub fn write(dir: &Path, name: &str, lang: Lang) -> Result<Vec<PathBuf>, String> {
    if !is_plugin_name(name) {
        return Err(format!(
            "`{name}` is not a plugin name: lowercase letters, digits and -, starting with a letter (it becomes the plugin's id in policies)"
        ));
    }
    match std::fs::read_dir(dir).map(|mut d| d.next().is_some()) {
        Ok(true) => {
            return Err(format!("{} is not empty: nothing written", dir.display()));
        }
        Ok(false) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{}: {e}: nothing written", dir.display())),
    }
    let files = match lang {
        Lang::Rust => RUST,
        Lang::Python => PYTHON,
        Lang::Js => JS,
    };
    let mut written = Vec::new();
    let contract = dir.join("wit").join("plugin.wit");
    std::fs::create_dir_all(dir.join("wit")).map_err(|e| format!("{}: {e}", dir.display()))?;
    crate::files::write_new(&contract, CONTRACT.as_bytes(), false)
        .map_err(|e| format!("{}: {e}", contract.display()))?;
    written.push(contract);
    for (rel, text, executable) in files {
        let path = dir.join(rel);
        let text = text
            // The SDK finds the contract in the project's `wit/`.
            .replace("path: \"../../wit\"", "path: \"../wit\"")
            .replace("@@SDK_VERSION@@", env!("CARGO_PKG_VERSION"))
            .replace("@@NAME@@", name)
            .replace("@@COMPONENTIZE_PY@@", COMPONENTIZE_PY)
            .replace("@@COMPONENTIZE_JS@@", COMPONENTIZE_JS)
            .replace("@@PREVIEW2_SHIM@@", PREVIEW2_SHIM);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        crate::files::write_new(&path, text.as_bytes(), *executable)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

fn is_plugin_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tests_build_with_the_versions_the_projects_ask_for() {
        let tools = include_str!("../../scripts/test-tools");
        for (var, version) in [
            ("componentize_py_version", COMPONENTIZE_PY),
            ("componentize_js_version", COMPONENTIZE_JS),
            ("preview2_shim_version", PREVIEW2_SHIM),
        ] {
            assert!(
                tools.contains(&format!("\n{var}={version}\n")),
                "scripts/test-tools sets {var} to another version than {version}"
            );
        }
    }

    #[test]
    fn the_sdk_manifest_asks_for_what_the_sdk_uses() {
        let sdk = include_str!("../../plugins/sdk/Cargo.toml");
        let workspace = include_str!("../../Cargo.toml");
        let deps = sdk
            .split("[dependencies]")
            .nth(1)
            .and_then(|d| d.split("\n[").next())
            .expect("[dependencies]");
        for line in deps
            .lines()
            .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        {
            let name = line.split(['=', '.']).next().expect("name").trim();
            assert!(
                SDK_MANIFEST.contains(&format!("\n{name} =")),
                "{name} is missing from SDK_MANIFEST"
            );
        }
        let wit_bindgen = workspace
            .lines()
            .find(|l| l.starts_with("wit-bindgen ="))
            .expect("the workspace's wit-bindgen");
        assert!(
            SDK_MANIFEST.contains(wit_bindgen),
            "SDK_MANIFEST: {wit_bindgen}"
        );
    }

    #[test]
    fn the_rust_project_carries_every_file_of_the_sdk() {
        fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).expect("sdk dir") {
                let e = e.expect("entry");
                let name = format!("{rel}{}", e.file_name().to_string_lossy());
                if e.file_type().expect("type").is_dir() {
                    walk(&e.path(), &format!("{name}/"), out);
                } else {
                    out.push(name);
                }
            }
        }
        let mut sdk = Vec::new();
        walk(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/sdk/src"),
            "sdk/src/",
            &mut sdk,
        );
        sdk.sort();
        let mut written: Vec<String> = RUST
            .iter()
            .map(|(p, _, _)| p.to_string())
            .filter(|p| p.starts_with("sdk/src/"))
            .collect();
        written.sort();
        assert_eq!(
            written, sdk,
            "scaffold.rs's RUST list and plugins/sdk/src differ"
        );
    }

    #[test]
    fn a_project_is_written_once_with_its_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let project = dir.path().join("todo");
        let files = write(&project, "todo", Lang::Python).expect("written");
        assert!(files.iter().any(|f| f.ends_with("wit/plugin.wit")));
        let build = std::fs::read_to_string(project.join("build.sh")).expect("build.sh");
        let rust = dir.path().join("type");
        write(&rust, "type", Lang::Rust).expect("a keyword is a plugin name too");
        let sdk = std::fs::read_to_string(rust.join("sdk/src/lib.rs")).expect("sdk");
        assert!(
            sdk.contains("path: \"../wit\""),
            "the SDK reads the project's contract"
        );
        assert!(
            build.contains("-o todo.wasm") && !build.contains("@@"),
            "{build}"
        );
        assert!(
            build.contains(&format!("componentize-py=={COMPONENTIZE_PY}")),
            "{build}"
        );
        let js = dir.path().join("todo-js");
        write(&js, "todo-js", Lang::Js).expect("written");
        let package = std::fs::read_to_string(js.join("package.json")).expect("package.json");
        assert!(package.contains("\"name\": \"todo-js\""), "{package}");
        assert!(
            package.contains(&format!("\"{COMPONENTIZE_JS}\"")),
            "{package}"
        );
        for f in ["app.js", "build.mjs", "README.md"] {
            let text = std::fs::read_to_string(js.join(f)).expect("file");
            assert!(!text.contains("@@"), "{f}: {text}");
        }
        let again = write(&project, "todo", Lang::Python).expect_err("not empty");
        assert!(again.contains("not empty"), "{again}");
        for bad in ["Todo", "1x", "a_b", "", "x-", "a/b"] {
            assert!(
                write(&dir.path().join("o"), bad, Lang::Python).is_err(),
                "{bad}"
            );
        }
    }
}
