//! `portcullis new plugin NAME --lang python|js`: a plugin project that
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
    if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
        return Err(format!("{} is not empty: nothing written", dir.display()));
    }
    let files = match lang {
        Lang::Python => PYTHON,
        Lang::Js => JS,
    };
    let mut written = Vec::new();
    let contract = dir.join("wit").join("plugin.wit");
    std::fs::create_dir_all(dir.join("wit")).map_err(|e| format!("{}: {e}", dir.display()))?;
    std::fs::write(&contract, CONTRACT).map_err(|e| format!("{}: {e}", contract.display()))?;
    written.push(contract);
    for (rel, text, executable) in files {
        let path = dir.join(rel);
        let text = text
            .replace("@@NAME@@", name)
            .replace("@@COMPONENTIZE_PY@@", COMPONENTIZE_PY)
            .replace("@@COMPONENTIZE_JS@@", COMPONENTIZE_JS)
            .replace("@@PREVIEW2_SHIM@@", PREVIEW2_SHIM);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        #[cfg(unix)]
        if *executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
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
    fn a_project_is_written_once_with_its_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let project = dir.path().join("todo");
        let files = write(&project, "todo", Lang::Python).expect("written");
        assert!(files.iter().any(|f| f.ends_with("wit/plugin.wit")));
        let build = std::fs::read_to_string(project.join("build.sh")).expect("build.sh");
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
