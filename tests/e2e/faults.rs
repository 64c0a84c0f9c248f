//! Faults and bad inputs end in exit 2 with one line saying what and where:
//! never a hang, never a pass, never a change to what the gate was given.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;

/// Run `portcullis <args>` in `repo`, killed (and the test failed) if it
/// does not end within 30 s.
fn run_bounded(repo: &Repo, args: &[&str], env: &[(&str, &str)]) -> Run {
    let child = Command::new(BIN)
        .args(args)
        .current_dir(repo.path())
        .env_remove("CI")
        .env("PORTCULLIS_CACHE_DIR", repo.cache_dir())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run portcullis");
    wait_bounded(
        child,
        Duration::from_secs(30),
        &format!("portcullis {args:?}"),
    )
}

/// The child's output, or a failed test (the child killed) when it has not
/// ended within `limit`.
fn wait_bounded(mut child: std::process::Child, limit: Duration, what: &str) -> Run {
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("{what} hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Run::from(child.wait_with_output().expect("output"))
}

#[cfg(unix)]
fn mkfifo(path: &std::path::Path) {
    let out = Command::new("mkfifo").arg(path).output().expect("mkfifo");
    assert!(out.status.success());
}

#[cfg(unix)]
#[test]
fn special_files_are_refused_not_read() {
    let repo = Repo::new();
    repo.write("ok.txt", "fine\n");
    mkfifo(&repo.path().join("fifo.toml"));
    repo.write("extends.toml", "extends = [\"fifo.toml\"]\n");
    for (args, what) in [
        (vec!["check", ".", "--policy", "fifo.toml"], "fifo.toml"),
        (vec!["check", ".", "--policy", "/dev/zero"], "/dev/zero"),
        (vec!["check", ".", "--policy", "extends.toml"], "fifo.toml"),
        (vec!["check", ".", "--baseline", "fifo.toml"], "fifo.toml"),
    ] {
        let run = run_bounded(&repo, &args, &[]);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        let lines: Vec<&str> = run.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: {}", run.stderr);
        assert!(
            lines[0].contains(what) && lines[0].contains("not a regular file"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_revision_range_is_not_a_base() {
    let repo = Repo::new();
    repo.git(&["init", "-q"]);
    repo.write("a.txt", "a\n");
    repo.git(&["add", "."]);
    repo.git(&["commit", "-qm", "one"]);
    let run = run_bounded(
        &repo,
        &["check", ".", "--changed-since", "HEAD~1..HEAD"],
        &[],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "--changed-since `HEAD~1..HEAD`: a range, not a revision; give the base (`HEAD~1`)"
        ),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn hook_install_never_writes_through_a_symlink() {
    let repo = Repo::new();
    repo.git(&["init", "-q"]);
    let outside = tempfile::tempdir().expect("tempdir");
    let target = outside.path().join("created-by-the-hook");
    let hook = repo.path().join(".git/hooks/pre-push");
    std::fs::create_dir_all(hook.parent().expect("hooks")).expect("hooks dir");
    std::os::unix::fs::symlink(&target, &hook).expect("dangling link");
    let run = run_bounded(&repo, &["hook", "install"], &[]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("use --force"), "{}", run.stderr);
    let run = run_bounded(&repo, &["hook", "install", "--force"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!target.exists(), "the hook was written through the symlink");
    let meta = std::fs::symlink_metadata(&hook).expect("hook");
    assert!(meta.file_type().is_file());
}

#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_to_stdout_is_exit_2() {
    let repo = Repo::new();
    repo.write("ok.txt", "fine\n");
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = Command::new(BIN)
        .args(["check", ".", "--format", "json"])
        .current_dir(repo.path())
        .env("PORTCULLIS_CACHE_DIR", repo.cache_dir())
        .stdout(full)
        .output()
        .expect("run");
    let run = Run::from(out);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("standard output: cannot write"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_missing_home_is_not_created() {
    let repo = Repo::new();
    repo.write("ok.txt", "fine\n");
    let base = tempfile::tempdir().expect("tempdir");
    let home = base.path().join("no/such/home");
    let home_s = home.to_string_lossy().into_owned();
    let out = Command::new(BIN)
        .args(["check", "."])
        .current_dir(repo.path())
        .env_remove("PORTCULLIS_CACHE_DIR")
        .env_remove("XDG_CACHE_HOME")
        .env("HOME", &home_s)
        .output()
        .expect("run");
    let run = Run::from(out);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!base.path().join("no").exists(), "created {home_s}");
}

/// The policy's own mistakes are named at their file:line:col, in words a
/// user reads: not serde's internals, not an errno, not "No such file".
#[test]
fn policy_mistakes_found_late_are_named_at_their_line() {
    let repo = Repo::new();
    repo.write("a.txt", "x\n");
    let cases: [(&str, &[u8], &str); 7] = [
        (
            "escape.toml",
            b"[plugins.lint]\nsource = \"builtin:\\u001b[31mnope\"\n",
            "portcullis: escape.toml:2:10: unknown built-in plugin `\\u{1b}[31mnope`",
        ),
        (
            "utf8.toml",
            b"# caf\xe9\n[plugins.lint]\nsource = \"builtin:lint\"\n",
            "portcullis: utf8.toml:1:6: not UTF-8 text (byte 0xe9)",
        ),
        (
            "grant.toml",
            b"[plugins.lint]\nsource = \"builtin:lint\"\nread = [\"nope\"]\n",
            "grant.toml:3:9: read grant `nope`: ",
        ),
        (
            "extends.toml",
            b"extends = [\"builtin:nope\"]\n",
            "portcullis: extends.toml:1:12: extends `builtin:nope`: no such built-in policy (the built-in one is `builtin:default`)",
        ),
        (
            "config.toml",
            b"[plugins.lint]\nsource = \"builtin:lint\"\n[plugins.lint.config]\nmax-warnings = \"x\"\n",
            "portcullis: plugin lint: returned an error: config.toml:4:16: config.max-warnings: invalid type: string \"x\", expected u64",
        ),
        (
            "nested.toml",
            b"[plugins.perf]\nsource = \"builtin:perf\"\n[plugins.perf.config]\nbenchmarks = [{ format = \"jsn\", current = \"a.json\" }]\n",
            "portcullis: plugin perf: returned an error: nested.toml:4:26: config.benchmarks[0].format: unknown variant `jsn`",
        ),
        (
            "nan.toml",
            b"[plugins.lint]\nsource = \"builtin:lint\"\n[plugins.lint.config]\nmax-scan-mb = nan\n",
            "nan.toml:4:15: config.max-scan-mb: invalid type: string \"NaN\"",
        ),
    ];
    for (name, policy, expected) in cases {
        repo.write(name, policy);
        let run = repo.run(&["check", "--policy", name]);
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(expected), "{name}: {}", run.stderr);
        assert!(!run.stderr.contains("os error"), "{name}: {}", run.stderr);
        assert!(
            !run.stderr.contains('\u{1b}'),
            "{name}: a raw escape reached the terminal"
        );
    }
}

/// `portcullis check .` under a shell limit (`ulimit -n 12`, `ulimit -v …`),
/// bounded like [`run_bounded`].
fn run_limited(repo: &Repo, limit: &str) -> Run {
    let script = format!("{limit} && exec \"$0\" check .");
    let child = Command::new("sh")
        .args(["-c", &script, BIN])
        .current_dir(repo.path())
        .env_remove("CI")
        .env("PORTCULLIS_CACHE_DIR", repo.cache_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run portcullis under a limit");
    wait_bounded(
        child,
        Duration::from_secs(60),
        &format!("portcullis under `{limit}`"),
    )
}

/// Too few file descriptors or too little address space for the host is
/// exit 2 with lines that say so — never a panic, a hang or a pass. The
/// repository holds a finding, so a run that completes is exit 1.
#[test]
fn host_resource_limits_are_exit_2_never_a_panic_or_a_pass() {
    let repo = Repo::new();
    repo.write("notes.json", "{\"a\": 1,}\n")
        .write("src/a.txt", "text\n");
    repo.git(&["init", "-q"]);
    repo.git(&["add", "."]);
    let mut refused = 0;
    let limits = (6..=20)
        .map(|n| format!("ulimit -n {n}"))
        .chain(["ulimit -v 1000000", "ulimit -v 3000000"].map(String::from));
    for limit in limits {
        let run = run_limited(&repo, &limit);
        assert!(
            run.code == 1 || run.code == 2,
            "`{limit}`: exit {}: {}",
            run.code,
            run.stderr
        );
        assert!(
            !run.stderr.contains("panicked"),
            "`{limit}`: {}",
            run.stderr
        );
        assert!(
            !run.stderr.contains("os error"),
            "`{limit}`: {}",
            run.stderr
        );
        if run.code == 2 {
            refused += 1;
            for line in run.stderr.lines().filter(|l| !l.starts_with("gate ")) {
                assert!(line.starts_with("portcullis: "), "`{limit}`: {line}");
            }
        }
        if limit.starts_with("ulimit -v") {
            assert_eq!(run.code, 2, "`{limit}`: {}", run.stderr);
            assert!(
                run.stderr.contains("`ulimit -v` is too low"),
                "`{limit}`: {}",
                run.stderr
            );
        }
    }
    assert!(refused >= 3, "the lowest limits must refuse");
}
