//! Generated documentation stays current: the rule reference
//! (`docs/rules.md`, from every built-in plugin's declared rules and the
//! host's), and the README's tables of policy keys and report formats
//! (from `policy::keys` and `policy::ReportFormat`).
//! `PORTCULLIS_BLESS=1 cargo test --release -p portcullis --test e2e docs`
//! rewrites them after an intended change; review the diff.

use std::path::PathBuf;

use crate::common::*;

fn root() -> PathBuf {
    fixtures()
        .parent()
        .and_then(|p| p.parent())
        .expect("repository root")
        .to_path_buf()
}

fn check_or_bless(path: &std::path::Path, expected: &str, actual: &str) {
    if expected == actual {
        return;
    }
    if std::env::var_os("PORTCULLIS_BLESS").is_some() {
        std::fs::write(path, actual).expect("bless");
        return;
    }
    panic!(
        "{} is stale: regenerate it with PORTCULLIS_BLESS=1 (see tests/e2e/docs.rs)",
        path.display()
    );
}

#[test]
fn rule_reference_is_generated_from_the_declarations() {
    let repo = Repo::new();
    let plugins: String = portcullis::builtins::names()
        .iter()
        .map(|n| format!("[plugins.{n}]\nsource = \"builtin:{n}\"\n"))
        .collect();
    repo.write("portcullis.toml", plugins);
    let run = repo.run(&["rules", "--format", "markdown", "--declared"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for n in portcullis::builtins::names() {
        assert!(run.stdout.contains(&format!("\n## {n}\n")), "{n}");
    }
    assert!(run.stdout.contains("### portcullis/waiver-unused"));
    let path = root().join("docs/rules.md");
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    check_or_bless(&path, &current, &run.stdout);
}

/// Replace what lies between `<!-- generated: NAME -->` and
/// `<!-- end generated: NAME -->` with `body`.
fn splice(text: &str, name: &str, body: &str) -> String {
    let begin = format!("<!-- generated: {name} -->\n");
    let end = format!("<!-- end generated: {name} -->");
    let a = text
        .find(&begin)
        .unwrap_or_else(|| panic!("README.md lacks {begin}"))
        + begin.len();
    let b = text[a..]
        .find(&end)
        .unwrap_or_else(|| panic!("README.md lacks {end}"))
        + a;
    format!("{}{body}{}", &text[..a], &text[b..])
}

#[test]
fn readme_tables_are_generated_from_the_declarations() {
    let path = root().join("README.md");
    let current = std::fs::read_to_string(&path).expect("README.md");
    let mut updated = splice(
        &current,
        "policy keys",
        &portcullis::report::reference::policy_keys_table(),
    );
    updated = splice(
        &updated,
        "report formats",
        &portcullis::report::reference::report_formats_table(),
    );
    check_or_bless(&path, &current, &updated);
}
