//! The README's plugin example is real code: it is `examples/todo.rs`
//! verbatim, and it works under the native harness.

#[path = "../examples/todo.rs"]
mod todo;

use portcullis_sdk::testing::Harness;

#[test]
fn readme_shows_the_example_verbatim() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README");
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/todo.rs"))
        .expect("example");
    let code = example
        .split_once("\n\n")
        .map(|(_, code)| code)
        .expect("header");
    assert!(
        readme.contains(code),
        "README's \"Write a plugin\" code differs from examples/todo.rs"
    );
}

#[test]
fn the_example_finds_todos() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.rs"), "fn a() {}\n// TODO: b\n").expect("write");
    let eval = Harness::new(dir.path())
        .run::<todo::Todo>()
        .expect("evaluates");
    assert_eq!(eval.findings.len(), 1);
    assert_eq!(eval.findings[0].locations[0].path, "a.rs");
    assert_eq!(
        eval.findings[0].locations[0]
            .region
            .as_ref()
            .map(|r| r.start_line),
        Some(2)
    );
}

#[test]
fn the_example_declares_well_formed_rules() {
    portcullis_sdk::testing::assert_rules_well_formed(todo::RULES);
}
