//! Each lint rule run natively through the SDK harness, one at a time, on
//! fixture trees written to temporary directories (so this repository holds
//! no conflict markers or key headers of its own).

use portcullis_plugin_lint::Lint;
use portcullis_sdk::testing::Harness;

fn tree(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    portcullis_sdk::testing::write_tree(dir.path(), files);
    dir
}

/// (rule, path, line) of every finding.
fn run(dir: &tempfile::TempDir, config: serde_json::Value) -> Vec<(String, String, u32)> {
    let eval = Harness::new(dir.path())
        .config(config)
        .run::<Lint>()
        .expect("evaluates");
    portcullis_sdk::testing::found(&eval)
}

fn m(c: char) -> String {
    std::iter::repeat_n(c, 7).collect()
}

fn f(rule: &str, path: &str, line: u32) -> (String, String, u32) {
    (rule.into(), path.into(), line)
}

#[test]
fn merge_conflict_markers() {
    let conflict = format!("a\n{} HEAD\nb\n=======\nc\n{} topic\n", m('<'), m('>'));
    let rst = "Title\n=======\n\ntext\n"; // a heading, not a conflict
    let diff3 = format!(
        "{} ours\nx\n{} base\ny\n=======\nz\n{}\n",
        m('<'),
        m('|'),
        m('>')
    );
    let dir = tree(&[
        ("c.rs", conflict.as_bytes()),
        ("doc.rst", rst.as_bytes()),
        ("d.txt", diff3.as_bytes()),
    ]);
    assert_eq!(
        run(&dir, serde_json::json!({})),
        vec![
            f("merge-conflict", "c.rs", 2),
            f("merge-conflict", "c.rs", 4),
            f("merge-conflict", "c.rs", 6),
            f("merge-conflict", "d.txt", 1),
            f("merge-conflict", "d.txt", 3),
            f("merge-conflict", "d.txt", 5),
            f("merge-conflict", "d.txt", 7),
        ]
    );
}

#[test]
fn syntax_of_json_toml_yaml() {
    let dir = tree(&[
        ("ok.json", b"{\"a\": [1, 2]}"),
        ("bad.json", b"{\n  \"a\": 1,\n}\n"),
        ("ok.toml", b"[a]\nb = 1\n"),
        ("bad.toml", b"[a]\nb = 1\nb = 2\n"),
        ("ok.yml", b"a: 1\n---\nb: 2\n"),
        ("bad.yml", b"a: 1\n  b: 2\n"),
        ("skip/bad.json", b"{"),
    ]);
    assert_eq!(
        run(&dir, serde_json::json!({"exclude": ["skip/**"]})),
        vec![
            f("invalid-json", "bad.json", 3),
            f("invalid-toml", "bad.toml", 3),
            f("invalid-yaml", "bad.yml", 2)
        ]
    );
}

/// Templates are YAML only once rendered: a Helm chart's `templates/` are
/// not parsed, broken YAML holding Go-template or Jinja syntax is taken for a
/// template, and both are counted in one note. GitHub's `${{ }}` is not
/// template syntax: a broken workflow is still reported.
#[test]
fn templated_yaml_is_not_reported_but_counted() {
    // From a Helm chart as `helm create` writes it.
    let deployment = b"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"demo.fullname\" . }}\n  labels:\n    {{- include \"demo.labels\" . | nindent 4 }}\n";
    let dir = tree(&[
        (
            "charts/demo/Chart.yaml",
            b"apiVersion: v2\nname: demo\nversion: 0.1.0\n",
        ),
        ("charts/demo/templates/deployment.yaml", deployment),
        (
            "charts/demo/values.yaml",
            b"replicaCount: 1\n  bad: indent\n",
        ),
        (
            "ansible/site.yml",
            b"- hosts: all\n  vars:\n    x: {% if a %}1{% endif %}\n",
        ),
        (
            ".github/workflows/ci.yml",
            b"on: push\njobs:\n  a:\n    runs-on: ${{ matrix.os }}\n  b: [\n",
        ),
        ("templates/not-a-chart.yaml", b"a: {{ x }}\n b: 1\n"),
    ]);
    portcullis_sdk::testing::take_logs();
    let found = run(&dir, serde_json::json!({}));
    assert_eq!(
        found,
        vec![
            f("invalid-yaml", ".github/workflows/ci.yml", 6),
            f("invalid-yaml", "charts/demo/values.yaml", 2),
        ]
    );
    let logs = portcullis_sdk::testing::take_logs();
    assert!(
        logs.iter()
            .any(|l| l.contains("3 templated YAML file(s) not checked as YAML")),
        "{logs:?}"
    );
}

/// JSON with comments where it is the convention (tsconfig, jsconfig,
/// `.vscode/`, devcontainer): comments and trailing commas parse, other
/// errors keep their line; elsewhere a comment is still an error. The
/// message says how to leave a file out.
#[test]
fn jsonc_where_it_is_the_convention() {
    let tsconfig = b"{\n  // what tsc --init writes\n  \"compilerOptions\": {\n    \"strict\": true, /* on */\n    \"paths\": {\"@/*\": [\"src/*\"],},\n  },\n}\n";
    let dir = tree(&[
        ("tsconfig.json", tsconfig),
        ("web/tsconfig.app.json", tsconfig),
        (
            ".vscode/settings.json",
            b"{\n  \"a\": \"// not a comment\", // one\n}\n",
        ),
        (
            ".devcontainer/devcontainer.json",
            b"{ /* x */ \"image\": \"debian\", }",
        ),
        (
            "tsconfig.base.json",
            b"{\n  // fine\n  \"a\": 1\n  \"b\": 2\n}\n",
        ),
        ("package.json", b"{\n  // not here\n}\n"),
    ]);
    assert_eq!(
        run(&dir, serde_json::json!({})),
        vec![
            f("invalid-json", "package.json", 2),
            f("invalid-json", "tsconfig.base.json", 4),
        ]
    );
    let eval = Harness::new(dir.path()).run::<Lint>().expect("evaluates");
    let message = &eval.findings[0].message;
    assert!(
        message.contains("exclude = [\"package.json\"]")
            && message.contains("[plugins.lint.config]"),
        "{message}"
    );
}

#[test]
fn large_files_and_binary_content() {
    let mut big = vec![0u8; 3 * 1024];
    big[10] = b'<';
    let dir = tree(&[("big.bin", &big), ("small.txt", b"ok")]);
    assert_eq!(
        run(&dir, serde_json::json!({"max-file-kb": 2})),
        vec![f("large-file", "big.bin", 0)]
    );
    assert_eq!(run(&dir, serde_json::json!({})), vec![]);
}

#[test]
fn case_collisions_in_files_and_directories() {
    let dir = tree(&[("Docs/a.md", b"a"), ("docs/b.md", b"b"), ("x.txt", b"x")]);
    let found = run(&dir, serde_json::json!({}));
    // Only on case-sensitive filesystems can the fixture hold both.
    if std::fs::read_dir(dir.path()).expect("dir").count() == 3 {
        assert_eq!(found, vec![f("path-case-collision", "docs", 0)]);
    }
}

#[cfg(unix)]
#[test]
fn broken_symlinks() {
    let dir = tree(&[("real.txt", b"x")]);
    std::os::unix::fs::symlink("real.txt", dir.path().join("good")).expect("symlink");
    std::os::unix::fs::symlink("gone.txt", dir.path().join("bad")).expect("symlink");
    assert_eq!(
        run(&dir, serde_json::json!({})),
        vec![f("broken-symlink", "bad", 0)]
    );
}

#[test]
fn unknown_config_keys_are_errors() {
    let dir = tree(&[("a", b"a")]);
    let err = Harness::new(dir.path())
        .config(serde_json::json!({"max-file-mb": 1}))
        .run::<Lint>()
        .expect_err("unknown key");
    assert!(err.contains("unknown field `max-file-mb`"), "{err}");
    let err = Harness::new(dir.path())
        .config(serde_json::json!({"exclude": ["a/{b"]}))
        .run::<Lint>()
        .expect_err("bad glob");
    assert!(err.contains("bad glob `a/{b`"), "{err}");
}

#[test]
fn rule_ids_are_unique_kebab_case_and_documented() {
    use portcullis_sdk::Plugin;
    portcullis_sdk::testing::assert_rules_well_formed(portcullis_plugin_lint::RULES);
    let info = Lint::describe();
    let ids: Vec<&str> = info.rules.iter().map(|r| r.id.as_str()).collect();
    // The full list, so a renamed or removed rule shows up in review.
    assert_eq!(
        ids,
        [
            "large-file",
            "merge-conflict",
            "invalid-json",
            "invalid-toml",
            "invalid-yaml",
            "path-case-collision",
            "broken-symlink",
            "max-warnings",
        ]
    );
    portcullis_sdk::testing::assert_rules_documented(
        &info,
        "lint",
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")),
    );
}

/// Told which files changed, the content rules read only those; the rules
/// about the whole tree still see every path (a new file colliding in case
/// with an old one is found).
#[test]
fn only_changed_files_are_read_but_the_whole_tree_is_seen() {
    let marker = format!("{}\n", m('<'));
    let dir = tree(&[
        ("old.txt", marker.as_bytes()),
        ("new.txt", marker.as_bytes()),
        ("Docs/a.md", b"a"),
        ("docs/b.md", b"b"),
    ]);
    let eval = Harness::new(dir.path())
        .changed(&["new.txt", "docs/b.md"])
        .run::<Lint>()
        .expect("evaluates");
    let found = portcullis_sdk::testing::found(&eval);
    assert!(
        found.contains(&f("merge-conflict", "new.txt", 1)),
        "{found:?}"
    );
    assert!(
        !found.iter().any(|(_, p, _)| p == "old.txt"),
        "an unchanged file is not read: {found:?}"
    );
    if std::fs::read_dir(dir.path()).expect("dir").count() == 4 {
        assert!(
            found.iter().any(|(r, _, _)| r == "path-case-collision"),
            "{found:?}"
        );
    }
}
