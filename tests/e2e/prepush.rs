//! Pre-push mode: `--changed-since` on a real git repository made in the
//! test, and `portcullis hook install|uninstall`.

use std::process::Command;

use crate::common::*;

fn git(repo: &Repo, args: &[&str]) {
    repo.git(args);
}

fn git_repo() -> Repo {
    let repo = Repo::new();
    git(&repo, &["init", "-q"]);
    repo.write("old.json", "{").write("ok.txt", "fine\n");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "base"]);
    git(&repo, &["tag", "base"]);
    repo
}

#[test]
fn only_findings_in_changed_files_count() {
    let repo = git_repo();
    repo.write("new.yaml", "a: [\n"); // untracked
    repo.write("ok.txt", "fine\n\n"); // modified, clean
    let run = repo.run(&["check", "--changed-since", "base", "--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let ids: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule_id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["lint/invalid-yaml"], "old.json did not change");
    assert_eq!(
        doc["notices"][0],
        "1 findings in files unchanged since base are not shown (--changed-since)"
    );
    // Committed changes count too.
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "more"]);
    let doc = repo
        .run(&["check", "--changed-since", "base", "--format", "json"])
        .json();
    assert_eq!(doc["findings"].as_array().expect("findings").len(), 1);
    // Nothing changed since HEAD: the gate passes although old.json is bad.
    assert_eq!(repo.run(&["check", "--changed-since", "HEAD"]).code, 0);
}

#[test]
fn a_bad_revision_is_exit_2() {
    let repo = git_repo();
    let run = repo.run(&["check", "--changed-since", "no-such-rev"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("portcullis: --changed-since no-such-rev: fatal: "),
        "{}",
        run.stderr
    );
    let plain = Repo::new();
    let run = plain.run(&["check", "--changed-since", "HEAD"]);
    assert_eq!(run.code, 2, "not a git repository");
}

#[cfg(unix)]
#[test]
fn hook_install_refuses_to_clobber_and_runs_the_gate() {
    let repo = git_repo();
    let hook = repo.path().join(".git/hooks/pre-push");
    std::fs::write(&hook, "#!/bin/sh\necho mine\n").expect("write");
    let run = repo.run(&["hook", "install"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("exists and was not written by portcullis; use --force"),
        "{}",
        run.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&hook).expect("kept"),
        "#!/bin/sh\necho mine\n"
    );
    assert_eq!(
        repo.run(&["hook", "uninstall"]).code,
        2,
        "never removes a foreign hook"
    );

    let run = repo.run(&["hook", "install", "--force"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&hook).expect("hook").permissions().mode() & 0o111,
        0o111,
        "executable"
    );
    assert_eq!(
        repo.run(&["hook", "install"]).code,
        0,
        "reinstalling over our own hook is fine"
    );

    // Run the hook as git would (no upstream: the whole repository).
    let out = Command::new(&hook)
        .current_dir(repo.path())
        .env("PORTCULLIS_CACHE_DIR", repo.path().join(".cache"))
        .output()
        .expect("hook");
    assert_eq!(
        out.status.code(),
        Some(1),
        "old.json is invalid: {}",
        String::from_utf8_lossy(&out.stdout)
    );

    let run = repo.run(&["hook", "uninstall"]);
    assert_eq!(run.code, 0);
    assert!(!hook.exists());
    assert_eq!(
        repo.run(&["hook", "uninstall"]).code,
        2,
        "nothing left to remove"
    );
}

#[test]
fn narrowing_to_changed_files_does_not_make_waivers_look_unused() {
    let repo = git_repo();
    repo.write(
        "portcullis.toml",
        "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n\
         [[waivers]]\nrule = \"lint/invalid-json\"\npaths = [\"old.json\"]\nreason = \"legacy\"\nowner = \"o@example.com\"\nexpires = 2030-01-01\n",
    );
    let run = repo.run(&["check", "--changed-since", "base", "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let doc = run.json();
    assert!(
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["rule_id"] != "portcullis/waiver-unused"),
        "the waiver still covers old.json, which only did not change: {doc}"
    );
}
