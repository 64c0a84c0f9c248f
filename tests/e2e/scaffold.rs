//! `portcullis new plugin`: the project it writes builds, with the real
//! toolchain of its language, into a component the host loads and runs,
//! gating a repository as a built-in plugin would: the contract is the
//! same in every language.

use std::path::Path;
use std::process::Command;

use crate::common::{Repo, test_tool};

#[test]
fn a_rust_plugin_from_new_plugin_builds_and_gates_a_repository() {
    // Its build script with the toolchain the tests run with, offline (the
    // SDK's crates are the workspace's), into a target directory kept
    // between runs when the tests have one.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|d| Path::new(&d).join("scaffold-rust"))
        .unwrap_or_else(|| std::env::temp_dir().join("portcullis-scaffold-rust"));
    builds_and_gates("rust", "todo-rs", |project| {
        let mut c = Command::new(project.join("build.sh"));
        c.env("CARGO_NET_OFFLINE", "true")
            .env("CARGO_TARGET_DIR", &target)
            // Not this workspace's toolchain file: the project has none.
            .env_remove("RUSTUP_TOOLCHAIN");
        c
    });
}

#[test]
fn a_python_plugin_from_new_plugin_builds_and_gates_a_repository() {
    let componentize = test_tool("componentize-py", "venv/bin/componentize-py");
    let path = format!(
        "{}:{}",
        componentize.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Its build script, as its README says to run it, with componentize-py
    // on PATH.
    builds_and_gates("python", "todo", |project| {
        assert_eq!(
            std::fs::metadata(project.join("build.sh"))
                .map(|m| std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o111)
                .expect("build.sh"),
            0o111,
            "build.sh is executable"
        );
        let mut c = Command::new(project.join("build.sh"));
        c.env("PATH", &path);
        c
    });
}

#[test]
fn a_javascript_plugin_from_new_plugin_builds_and_gates_a_repository() {
    let package = test_tool(
        "componentize-js",
        "npm/node_modules/@bytecodealliance/componentize-js/package.json",
    );
    let modules = package
        .ancestors()
        .nth(3)
        .expect("node_modules")
        .to_path_buf();
    // `npm install` would fetch componentize-js; the tests use the copy
    // scripts/test-tools installed, then run `npm run build`.
    builds_and_gates("js", "todo-js", |project| {
        std::os::unix::fs::symlink(&modules, project.join("node_modules")).expect("link");
        let mut c = Command::new("npm");
        c.args(["run", "--silent", "build"]).current_dir(project);
        c
    });
}

/// `new plugin NAME --lang LANG`, built by `build`, gates a repository with
/// one TODO without an issue; its config and levels are the policy's.
fn builds_and_gates(lang: &str, name: &str, build: impl FnOnce(&Path) -> Command) {
    let work = tempfile::tempdir().expect("tempdir");
    let project = work.path().join(name);
    let new = Repo::new().run(&[
        "new",
        "plugin",
        name,
        "--lang",
        lang,
        "--dir",
        &project.display().to_string(),
    ]);
    assert_eq!(new.code, 0, "{}", new.stderr);
    assert!(new.stdout.contains("build"), "{}", new.stdout);

    // The build runs the rule's tests, then makes the component.
    let built = build(&project).output().expect("run the build");
    let said = String::from_utf8_lossy(&built.stdout).into_owned();
    assert!(
        built.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&built.stderr)
    );
    // It prints the policy table that runs the component it built.
    let table = &said[said
        .find(&format!("[plugins.{name}]"))
        .unwrap_or_else(|| panic!("a policy table in {said}"))..];
    let wasm = std::fs::read(project.join(format!("{name}.wasm"))).expect("built");
    assert!(
        table.contains(&portcullis::digest::sha256_hex(&wasm)),
        "{table}"
    );

    let repo = Repo::new();
    repo.write(
        "src/app.py",
        "def handler(event):\n    # TODO: retry on timeouts\n    return event\n",
    );
    repo.write("src/ok.py", "# TODO(#42): tracked\nx = 1\n");
    repo.write("notes.txt", "TODO: not a source file\n");
    // A symlink is not read (the host refuses reads through one).
    repo.symlink("src/link.py", "app.py");
    repo.write("portcullis.toml", table);
    let run = repo.run(&["check", ".", "--format", "json"]);
    assert_eq!(run.code, 0, "a warning passes: {}", run.stderr);
    let doc = run.json();
    let findings = doc["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{doc}");
    assert_eq!(
        findings[0]["rule_id"],
        format!("{name}/todo-without-issue"),
        "{doc}"
    );
    let at = &findings[0]["locations"][0];
    assert_eq!(at["path"], "src/app.py", "{doc}");
    assert_eq!(at["region"]["startLine"], 2, "{doc}");

    // Its config is the policy's, and a bad one fails closed.
    repo.write(
        "portcullis.toml",
        format!("{table}[plugins.{name}.config]\nextensions = \".py\"\n"),
    );
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("plugin {name}: returned an error"))
            && run.stderr.contains("extensions"),
        "{}",
        run.stderr
    );

    // And the level is the policy's to raise.
    repo.write(
        "portcullis.toml",
        format!("{table}[rules]\n\"{name}/*\" = \"error\"\n"),
    );
    assert_eq!(repo.run(&["check", "."]).code, 1);
}
