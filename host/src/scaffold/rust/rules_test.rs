//! The plugin, run natively on a fixture by the SDK's harness: no host and
//! no component needed.

use portcullis_sdk::testing::Harness;

#[test]
fn a_todo_without_an_issue_is_reported_on_its_line() {
    assert_eq!(
        plugin::todos("x = 1\n# TODO: handle errors\n# TODO(#12): tracked\nTODOS = []\n"),
        [2]
    );
}

#[test]
fn the_plugin_reports_it_in_the_files_it_checks() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("a.py"), "x = 1\n# TODO: b\n").expect("write");
    std::fs::write(dir.path().join("notes.txt"), "TODO: not source\n").expect("write");
    #[cfg(unix)]
    std::os::unix::fs::symlink("a.py", dir.path().join("link.py")).expect("symlink");
    let eval = Harness::new(dir.path())
        .run::<plugin::Todo>()
        .expect("evaluates");
    assert_eq!(eval.findings.len(), 1);
    assert_eq!(eval.findings[0].locations[0].path, "a.py");
}

#[test]
fn a_bad_config_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Harness::new(dir.path())
        .config(serde_json::json!({ "extension": [".rs"] }))
        .run::<plugin::Todo>()
        .err()
        .expect("refused");
    assert!(err.contains("unknown field `extension`"), "{err}");
}
