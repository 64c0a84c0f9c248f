//! Pre-push mode: `--changed-since` on a real git repository made in the
//! test, `portcullis hook install|uninstall`, the installed hook under a
//! real `git push` to a local bare remote, and `check --staged`.

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
    let ids = finding_ids(&doc);
    assert_eq!(ids, ["lint/invalid-yaml"], "old.json did not change");
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

    assert!(
        std::fs::read_to_string(&hook)
            .expect("hook")
            .contains("hook pre-push \"$@\""),
        "the hook hands git's arguments (and standard input) on"
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

/// A repository with a bare remote `origin` holding its `main` (pushed
/// before any hook is installed), `origin/HEAD` set, and the hook
/// installed.
fn pushed_repo() -> (Repo, tempfile::TempDir) {
    let remote = tempfile::tempdir().expect("remote");
    let repo = git_repo();
    let bare = remote.path().to_string_lossy().into_owned();
    git(&repo, &["init", "-q", "--bare", &bare]);
    git(&repo, &["remote", "add", "origin", &bare]);
    git(&repo, &["push", "-q", "origin", "HEAD:refs/heads/main"]);
    git(&repo, &["fetch", "-q", "origin"]);
    git(&repo, &["remote", "set-head", "origin", "main"]);
    assert_eq!(repo.run(&["hook", "install"]).code, 0);
    (repo, remote)
}

/// `git push <args>` through the installed hook (the compile cache kept
/// private); the run's exit code and everything it printed.
fn push(repo: &Repo, args: &[&str]) -> (i32, String) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.com",
            "push",
        ])
        .args(args)
        .current_dir(repo.path())
        .env("PORTCULLIS_CACHE_DIR", repo.cache_dir())
        .env_remove("CI")
        .output()
        .expect("git push");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

/// The commit the remote's `branch` is at, if it has the branch.
fn remote_head(repo: &Repo, branch: &str) -> Option<String> {
    let out = Command::new("git")
        .args(["ls-remote", "origin", &format!("refs/heads/{branch}")])
        .current_dir(repo.path())
        .output()
        .expect("ls-remote");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().next().map(str::to_string)
}

const MARKER: &str = "x\n<<<<<<< HEAD\ny\n=======\nz\n>>>>>>> other\n";

#[cfg(unix)]
#[test]
fn the_hook_judges_the_pushed_commit_not_the_work_tree() {
    let (repo, _remote) = pushed_repo();
    let before = remote_head(&repo, "main");
    // A marker committed, then fixed in the work tree only.
    repo.write("notes.txt", MARKER);
    repo.symlink("docs/link", "../ok.txt");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "marker"]);
    repo.write("notes.txt", "fixed, but not committed\n");
    let (code, out) = push(&repo, &["origin", "HEAD:main"]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("notes.txt:2:1  error    lint/merge-conflict"),
        "{out}"
    );
    assert!(
        out.contains("changes against refs/heads/main on origin ("),
        "judged against the remote's commit: {out}"
    );
    assert!(
        !out.contains("old.json"),
        "old.json, already on the remote, does not count: {out}"
    );
    assert_eq!(
        remote_head(&repo, "main"),
        before,
        "the marker never reached the remote"
    );

    // The fix committed: the push goes through.
    git(&repo, &["commit", "-qam", "fix"]);
    let (code, out) = push(&repo, &["origin", "HEAD:main"]);
    assert_eq!(code, 0, "{out}");
    assert_ne!(remote_head(&repo, "main"), before);

    // Deleting a branch judges nothing.
    git(
        &repo,
        &[
            "push",
            "-q",
            "--no-verify",
            "origin",
            "HEAD:refs/heads/gone",
        ],
    );
    let (code, out) = push(&repo, &["origin", "--delete", "gone"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("portcullis:"), "{out}");
}

#[cfg(unix)]
#[test]
fn a_new_branch_is_judged_against_its_merge_base_with_the_default_branch() {
    let (repo, _remote) = pushed_repo();
    // old.json (invalid) is on main already; the branch adds a clean file.
    git(&repo, &["checkout", "-q", "-b", "feature"]);
    repo.write("feature.txt", "clean\n");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "feature"]);
    let (code, out) = push(&repo, &["-u", "origin", "feature"]);
    assert_eq!(code, 0, "findings already on main do not block: {out}");
    assert!(
        out.contains("changes against its merge-base with origin/main ("),
        "{out}"
    );
    assert!(remote_head(&repo, "feature").is_some());

    // A second new branch that adds a broken file is refused.
    git(&repo, &["checkout", "-q", "-b", "broken"]);
    repo.write("new.yaml", "a: [\n");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "broken"]);
    let (code, out) = push(&repo, &["origin", "broken"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("new.yaml:2:1"), "{out}");
    assert!(remote_head(&repo, "broken").is_none());

    // As the pre-commit framework runs it: no standard input, the refs in
    // its environment.
    let head = String::from_utf8_lossy(
        &Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(repo.path())
            .output()
            .expect("rev-parse")
            .stdout,
    )
    .trim()
    .to_string();
    let run = repo.run_env(
        &["hook", "pre-push"],
        &[
            ("PRE_COMMIT_REMOTE_NAME", "origin"),
            ("PRE_COMMIT_TO_REF", &head),
            ("PRE_COMMIT_FROM_REF", "feature"),
            ("PRE_COMMIT_LOCAL_BRANCH", "refs/heads/broken"),
            ("PRE_COMMIT_REMOTE_BRANCH", "refs/heads/broken"),
        ],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("refs/heads/broken at "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("new.yaml:2:1"), "{}", run.stdout);

    // The framework names no ref for a push holding a root commit: HEAD is
    // judged as a new branch (here against its merge-base with main).
    let run = repo.run_env(
        &["hook", "pre-push"],
        &[("PRE_COMMIT_REMOTE_NAME", "origin")],
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("HEAD at "), "{}", run.stdout);
    assert!(run.stdout.contains("new.yaml:2:1"), "{}", run.stdout);

    // Garbage on standard input is exit 2 naming the line.
    let mut child = Command::new(BIN)
        .args(["hook", "pre-push", "origin"])
        .current_dir(repo.path())
        .env("PORTCULLIS_CACHE_DIR", repo.cache_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"refs/heads/x not-a-sha refs/heads/x 0000\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("pre-push input line 1: expected"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn staged_judges_the_index_not_the_work_tree() {
    let repo = git_repo();
    // Staged with a marker, fixed in the work tree only: refused.
    repo.write("notes.txt", MARKER);
    git(&repo, &["add", "notes.txt"]);
    repo.write("notes.txt", "fixed, not staged\n");
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("notes.txt:2:1"), "{}", run.stdout);
    assert!(
        !run.stdout.contains("old.json"),
        "old.json is committed, not staged: {}",
        run.stdout
    );
    // Staged clean, broken in the work tree only: passes.
    git(&repo, &["add", "notes.txt"]);
    repo.write("notes.txt", MARKER);
    let run = repo.run(&["check", "--staged"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // From a subdirectory: the same index.
    repo.write("sub/keep.txt", "x\n");
    let sub = Command::new(BIN)
        .args(["check", "--staged", "."])
        .current_dir(repo.path().join("sub"))
        .env("PORTCULLIS_CACHE_DIR", repo.cache_dir())
        .output()
        .expect("run");
    assert_eq!(sub.status.code(), Some(0));
    assert_eq!(
        repo.run(&["check", "--staged", "--changed-since", "HEAD"])
            .code,
        2,
        "one scope at a time"
    );
}

/// What is pushed is what git's object store holds, as sent: a replace
/// object, or a `.gitattributes` encoding that makes the work tree look
/// clean and different, does not hide a committed marker.
#[cfg(unix)]
#[test]
fn the_pushed_bytes_are_judged_whatever_git_shows_in_the_work_tree() {
    let (repo, _remote) = pushed_repo();
    let blob = |text: &str| {
        let out = Command::new("git")
            .args(["hash-object", "-w", "--stdin"])
            .current_dir(repo.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write;
                c.stdin.take().expect("stdin").write_all(text.as_bytes())?;
                c.wait_with_output()
            })
            .expect("hash-object");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // A replace object shows clean content in place of the marker.
    repo.write("notes.txt", MARKER);
    git(&repo, &["add", "notes.txt"]);
    git(&repo, &["commit", "-qm", "marker"]);
    let marked = blob(MARKER);
    let clean = blob("clean\n");
    git(&repo, &["replace", &marked, &clean]);
    let (code, out) = push(&repo, &["origin", "HEAD:main"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("notes.txt:2:1"), "{out}");
    git(&repo, &["replace", "-d", &marked]);

    // An encoding the tree asks for: the work tree holds UTF-16, git calls
    // it clean, the commit holds the marker in UTF-8.
    git(&repo, &["rm", "-q", "notes.txt"]);
    repo.write("enc.txt", MARKER);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "marker, utf-8"]);
    repo.write(".gitattributes", "*.txt working-tree-encoding=UTF-16LE\n");
    git(&repo, &["add", ".gitattributes"]);
    git(&repo, &["commit", "-qm", "encoding"]);
    std::fs::remove_file(repo.path().join("enc.txt")).expect("rm");
    git(&repo, &["checkout", "--", "enc.txt"]);
    let on_disk = std::fs::read(repo.path().join("enc.txt")).expect("read");
    assert!(on_disk.contains(&0), "the work tree holds UTF-16");
    let (code, out) = push(&repo, &["origin", "HEAD:main"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("enc.txt:2:1"), "{out}");
}

/// Narrowed to the changed files, a new path that collides in case with
/// an unchanged one is still refused, wherever the finding is placed.
#[test]
fn a_case_collision_with_an_unchanged_path_still_counts() {
    let repo = git_repo();
    repo.write("docs/readme.md", "a\n");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "docs"]);
    git(&repo, &["tag", "-f", "docs"]);
    repo.write("docs/README.md", "b\n");
    repo.write("Docs/x.md", "c\n");
    let run = repo.run(&["check", "--changed-since", "docs", "--format", "json"]);
    let doc = run.json();
    let ids = finding_ids(&doc);
    if std::fs::read_dir(repo.path().join("docs"))
        .expect("dir")
        .count()
        == 2
    {
        assert_eq!(
            ids,
            ["lint/path-case-collision", "lint/path-case-collision"],
            "a file and a directory collision: {doc}"
        );
    }
}

/// The pushed commit's tree is kept in the cache between pushes and
/// brought to each pushed commit by the trees' difference: nothing of an
/// earlier push's tree stays in it to be judged.
#[cfg(unix)]
#[test]
fn the_kept_tree_holds_each_pushed_commit_and_nothing_of_the_last() {
    let (repo, _remote) = pushed_repo();
    // Refused: a marker in `Readme.md`.
    repo.write("Readme.md", MARKER);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "readme"]);
    let (code, out) = push(&repo, &["origin", "HEAD:main"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("Readme.md:2:1"), "{out}");
    // Redone as `README.md`: had `Readme.md` stayed in the kept tree, the
    // two would collide in case.
    git(&repo, &["reset", "-q", "--hard", "HEAD~1"]);
    repo.write("README.md", "clean\n");
    repo.write("docs/guide.md", "a guide\n");
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "README"]);
    let (code, out) = push(&repo, &["origin", "HEAD:main"]);
    assert_eq!(code, 0, "{out}");
    let kept: Vec<_> = std::fs::read_dir(repo.cache_dir().join("snapshots"))
        .expect("kept trees")
        .map(|e| e.expect("entry").path().join("tree"))
        .collect();
    assert_eq!(kept.len(), 1, "one kept tree for the repository");
    assert!(kept[0].join("README.md").is_file());
    assert!(!kept[0].join("Readme.md").exists());
    // The next push removes a directory's only file and brings a marker
    // into another: judged from the updated tree.
    git(&repo, &["rm", "-q", "docs/guide.md"]);
    repo.write("src/new.txt", MARKER);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-qm", "move"]);
    let (code, out) = push(&repo, &["origin", "HEAD:main"]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("src/new.txt:2:1"), "{out}");
    assert!(!kept[0].join("docs").exists(), "{out}");
}
