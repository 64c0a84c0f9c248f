//! `portcullis new plugin`: the project it writes builds, with the real
//! toolchain of its language, into a component the host loads and runs.

use std::process::Command;

use crate::common::{Repo, test_tool};

#[test]
fn a_python_plugin_from_new_plugin_builds_and_gates_a_repository() {
    let componentize = test_tool("componentize-py", "venv/bin/componentize-py");
    let work = tempfile::tempdir().expect("tempdir");
    let project = work.path().join("todo");
    let new = Repo::new().run(&[
        "new",
        "plugin",
        "todo",
        "--lang",
        "python",
        "--dir",
        &project.display().to_string(),
    ]);
    assert_eq!(new.code, 0, "{}", new.stderr);
    assert!(new.stdout.contains("./build.sh"), "{}", new.stdout);

    // Its build script, as its README says to run it: the rule's tests,
    // then componentize-py (found on PATH).
    let path = format!(
        "{}:{}",
        componentize.parent().expect("bin dir").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let build = Command::new(project.join("build.sh"))
        .env("PATH", &path)
        .output()
        .expect("run build.sh");
    let said = String::from_utf8_lossy(&build.stdout).into_owned();
    assert!(
        build.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&build.stderr)
    );
    // It prints the policy table that runs the component it built.
    let table = &said[said.find("[plugins.todo]").expect("a policy table")..];
    let wasm = std::fs::read(project.join("todo.wasm")).expect("built");
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
    repo.write("portcullis.toml", table);
    let run = repo.run(&["check", ".", "--format", "json"]);
    assert_eq!(run.code, 0, "a warning passes: {}", run.stderr);
    let doc = run.json();
    let findings = doc["findings"].as_array().expect("findings");
    assert_eq!(findings.len(), 1, "{doc}");
    assert_eq!(findings[0]["rule_id"], "todo/todo-without-issue", "{doc}");
    let at = &findings[0]["locations"][0];
    assert_eq!(at["path"], "src/app.py", "{doc}");
    assert_eq!(at["region"]["startLine"], 2, "{doc}");

    // Its config is the policy's, and a bad one fails closed.
    repo.write(
        "portcullis.toml",
        format!("{table}[plugins.todo.config]\nextensions = \".py\"\n"),
    );
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("extensions must be a list"),
        "{}",
        run.stderr
    );

    // And the level is the policy's to raise.
    repo.write(
        "portcullis.toml",
        format!("{table}[rules]\n\"todo/*\" = \"error\"\n"),
    );
    assert_eq!(repo.run(&["check", "."]).code, 1);
}
