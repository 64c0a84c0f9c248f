//! Hostile plugins (tests/plugins/hostile) against every limit of the
//! sandbox. Each is contained, and a plugin failure fails the gate closed:
//! exit 2, one stderr line naming the plugin and the reason, and SARIF with
//! `executionSuccessful: false` and an error notification.

use std::time::{Duration, Instant};

use crate::common::*;

fn hostile(attack: &str, extra: &str) -> Repo {
    let repo = Repo::new();
    repo.write("README.md", "hello from the repository");
    repo.policy_with_wasm(
        "hostile",
        HOSTILE_WASM,
        &format!("{extra}\n[plugins.hostile.config]\nattack = \"{attack}\"\n"),
    );
    repo
}

/// Run an attack that must fail closed with `reason` in the stderr line.
fn assert_fails_closed(attack: &str, extra: &str, reason: &str) -> Run {
    let repo = hostile(attack, extra);
    let (run, sarif) = repo.check_sarif(&[]);
    assert_eq!(run.code, 2, "{attack}: exit code; stderr: {}", run.stderr);
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("portcullis: plugin hostile: "))
        .unwrap_or_else(|| panic!("{attack}: no failure line in {}", run.stderr));
    assert!(
        line.contains(reason),
        "{attack}: `{line}` should contain `{reason}`"
    );
    let inv = &sarif["runs"][0]["invocations"][0];
    assert_eq!(inv["executionSuccessful"], false, "{attack}");
    let notes = inv["toolExecutionNotifications"]
        .as_array()
        .expect("notifications");
    assert!(
        notes.iter().any(|n| n["level"] == "error"
            && n["message"]["text"]
                .as_str()
                .is_some_and(|t| t.contains(reason))),
        "{attack}: {notes:?}"
    );
    assert!(
        run.stdout.contains("gate could not be evaluated"),
        "{attack}: {}",
        run.stdout
    );
    run
}

/// Run a probing attack that must be contained: the plugin itself reports
/// `blocked:` and the gate evaluates normally.
fn assert_blocked(attack: &str, extra: &str) -> String {
    let repo = hostile(attack, extra);
    let run = repo.run(&["check", "--format", "json"]);
    let doc = run.json();
    let msg = doc["findings"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{attack}: {doc}"))
        .to_string();
    assert!(
        msg.starts_with("blocked:"),
        "{attack} escaped the sandbox: {msg}"
    );
    msg
}

/// Run `attack` under a 1000 ms deadline on a warm compile cache (so the
/// timing measures the deadline, not Cranelift); returns the run and its
/// wall time.
fn timed_against_deadline(attack: &str) -> (Run, Duration) {
    let repo = hostile("none", "timeout-ms = 1000");
    assert_eq!(repo.run(&["check"]).code, 0);
    repo.policy_with_wasm(
        "hostile",
        HOSTILE_WASM,
        &format!("timeout-ms = 1000\n[plugins.hostile.config]\nattack = \"{attack}\"\n"),
    );
    let started = Instant::now();
    let run = repo.run(&["check", "--verbose"]);
    let took = started.elapsed();
    assert_eq!(run.code, 2, "{attack}: {}", run.stderr);
    assert!(
        run.stderr
            .lines()
            .any(|l| l == "portcullis: plugin hostile: timed out after 1000 ms"),
        "{attack}: {}",
        run.stderr
    );
    assert!(
        took >= Duration::from_millis(1000),
        "{attack} stopped before its deadline: {took:?}"
    );
    // And the full fail-closed contract (stderr line, SARIF, summary).
    assert_fails_closed(attack, "timeout-ms = 1000", "timed out after 1000 ms");
    (run, took)
}

#[test]
fn infinite_loop_times_out_within_deadline() {
    // The epoch deadline stops wasm code: deadline + process start + a tick.
    let (_, took) = timed_against_deadline("loop");
    assert!(
        took < Duration::from_millis(1000 + 700),
        "loop ran {took:?} for a 1000 ms deadline"
    );
}

#[test]
fn sleeping_in_a_host_call_times_out_too() {
    // A WASI sleep blocks in the host, where no epoch check fires; the
    // watchdog ends the call 250 ms past the deadline.
    let (run, took) = timed_against_deadline("sleep");
    assert!(
        took < Duration::from_millis(1000 + 250 + 700),
        "a one-hour sleep ran {took:?}"
    );
    assert!(
        run.stderr.contains("the call was abandoned"),
        "{}",
        run.stderr
    );
}

/// Time spent running cargo for the contract's `cargo-metadata` is not the
/// plugin's, but the deadline holds again once cargo is done: a plugin that
/// asks (2 s of cargo) and then asks again and again (answered at once)
/// times out.
#[test]
fn asking_for_cargo_metadata_pauses_the_deadline_only_while_cargo_runs() {
    let repo = hostile("cargo-then-loop", "timeout-ms = 1000");
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"asked\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .write("src/lib.rs", "\n");
    let slow = tempfile::tempdir().expect("tempdir");
    let marker = slow.path().join("cargo-ran");
    let cargo = slow_cargo(slow.path(), 2, &marker);
    let cargo_s = cargo.to_string_lossy().into_owned();
    let started = Instant::now();
    let run = repo.run_env(
        &["check", "--format", "json"],
        &[("CARGO", cargo_s.as_str())],
    );
    let took = started.elapsed();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(marker.exists(), "the slow cargo did not run");
    assert!(run.stderr.contains("timed out"), "{}", run.stderr);
    assert!(
        took >= Duration::from_secs(3) && took < Duration::from_secs(8),
        "2 s of cargo, then 1 s of deadline: took {took:?}"
    );
}

#[test]
fn memory_bomb_hits_the_cap() {
    assert_fails_closed(
        "memory",
        "memory-mb = 64",
        "exceeded its memory limit of 64 MiB",
    );
}

#[test]
fn panic_is_reported_with_its_message() {
    assert_fails_closed(
        "panic",
        "",
        "panicked: the hostile plugin panics on purpose",
    );
}

#[test]
fn plugin_error_fails_closed() {
    assert_fails_closed(
        "error",
        "",
        "returned an error: portcullis.toml:6:10: config.attack: the hostile plugin fails on purpose",
    );
}

#[test]
fn too_many_findings_is_refused_naming_the_limit() {
    assert_fails_closed(
        "findings",
        "",
        "returned 200000 findings, over the limit of 10000",
    );
}

#[test]
fn huge_message_is_rejected() {
    assert_fails_closed("big-message", "", "over the limit of 16 MiB");
}

#[test]
fn undeclared_rules_and_escaping_paths_are_malformed() {
    assert_fails_closed("unknown-rule", "", "did not declare");
    assert_fails_closed(
        "absolute-path",
        "",
        "`/etc/passwd` is not a repository-relative path",
    );
    assert_fails_closed(
        "dotdot-path",
        "",
        "`../outside` is not a repository-relative path",
    );
    assert_fails_closed("bad-properties", "", "properties are not a JSON object");
}

#[test]
fn rule_ids_that_could_forge_output_are_malformed() {
    let run = assert_fails_closed(
        "escape-rule-id",
        "",
        "rule id `\\u{1b}[2J\\u{1b}[32mgate passed` is not 1–200 letters",
    );
    assert!(!run.stderr.contains('\u{1b}') && !run.stdout.contains('\u{1b}'));
}

#[test]
fn stderr_and_log_floods_are_capped_not_fatal() {
    for attack in ["stderr", "log-flood"] {
        let repo = hostile(attack, "timeout-ms = 30000");
        let (run, sarif) = repo.check_sarif(&["--verbose"]);
        assert_eq!(run.code, 0, "{attack}: {}", run.stderr);
        assert!(
            run.stderr.contains("dropped"),
            "{attack}: the cap is reported: {}",
            &run.stderr[run.stderr.len().saturating_sub(300)..]
        );
        assert!(
            run.stderr.len() < 2 << 20,
            "{attack}: stderr is capped ({} bytes)",
            run.stderr.len()
        );
        assert!(
            !run.stderr.contains('\u{1b}'),
            "{attack}: terminal escapes are stripped"
        );
        assert_eq!(
            sarif["runs"][0]["invocations"][0]["executionSuccessful"],
            true
        );
    }
}

#[test]
fn filesystem_outside_the_grant_is_unreachable() {
    assert!(assert_blocked("read-passwd", "read = [\".\"]").contains("/etc/passwd"));
    assert_blocked("dotdot", "read = [\".\"]");
    assert_blocked("write", "read = [\".\"]");
    // Without a grant, even the repository is unreadable.
    assert_blocked("read-granted", "");
}

#[test]
fn granted_files_are_readable() {
    // The positive control for the tests above: the same plugin reads a
    // granted file.
    let repo = hostile("read-granted", "read = [\".\"]");
    let doc = repo.run(&["check", "--format", "json"]).json();
    assert_eq!(
        doc["findings"][0]["message"],
        "leaked: /repo/README.md: hello from the repository"
    );
}

#[cfg(unix)]
#[test]
fn symlinks_cannot_escape() {
    let repo = hostile("symlink", "read = [\".\"]");
    repo.symlink("escape", "/etc");
    assert_blocked_in(&repo, "symlink");
    let repo = hostile("symlink-file", "read = [\".\"]");
    repo.symlink("passwd-link", "/etc/passwd");
    assert_blocked_in(&repo, "symlink-file");
}

#[cfg(unix)]
#[test]
fn the_batch_read_host_call_keeps_to_the_grants() {
    let repo = hostile("read-many", "read = [\".\"]");
    repo.symlink("escape", "/etc")
        .symlink("passwd-link", "/etc/passwd");
    let doc = repo.run(&["check", "--format", "json"]).json();
    let messages = finding_messages(&doc);
    assert_eq!(messages.len(), 5, "{doc}");
    for m in &messages[..4] {
        assert!(m.starts_with("blocked: read-files "), "escaped: {m}");
    }
    assert_eq!(
        messages[4], "leaked: read-files README.md: hello from the repository",
        "granted files are readable"
    );
    // Without a grant nothing is readable through the host call either.
    let repo = hostile("read-many", "");
    let doc = repo.run(&["check", "--format", "json"]).json();
    assert!(
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("blocked:"))),
        "{doc}"
    );
}

#[cfg(unix)]
fn assert_blocked_in(repo: &Repo, attack: &str) {
    let doc = repo.run(&["check", "--format", "json"]).json();
    let msg = doc["findings"][0]["message"]
        .as_str()
        .unwrap_or_else(|| panic!("{attack}: {doc}"));
    assert!(msg.starts_with("blocked:"), "{attack} escaped: {msg}");
}

#[test]
fn no_environment_arguments_or_network() {
    assert_blocked("env", "");
    assert_blocked("args", "");
    assert_blocked("network", "");
}

#[test]
fn the_empty_plugin_passes() {
    let repo = hostile("none", "");
    let (run, sarif) = repo.check_sarif(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        sarif["runs"][0]["results"],
        serde_json::json!([]),
        "results present even when empty"
    );
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["name"], "hostile");
}

#[test]
fn terminal_escapes_in_findings_never_reach_the_terminal() {
    let repo = hostile("escape-message", "");
    let run = repo.run(&["check", "--color", "never"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stdout.contains('\u{1b}'), "{:?}", run.stdout);
    assert!(run.stdout.contains("\u{fffd}[2Jcleared"), "{}", run.stdout);
}

#[test]
fn the_json_report_names_what_kind_of_failure_it_was() {
    for (attack, kind) in [
        ("panic", "panic"),
        ("error", "plugin-error"),
        ("unknown-rule", "malformed-output"),
    ] {
        let repo = hostile(attack, "");
        let run = repo.run(&["check", "--format", "json"]);
        assert_eq!(run.code, 2, "{attack}: {}", run.stderr);
        let doc = run.json();
        let plugin = &doc["plugins"][0];
        assert_eq!(plugin["success"], false, "{attack}");
        assert_eq!(plugin["error_kind"], kind, "{attack}: {plugin}");
        assert!(
            plugin["error"]
                .as_str()
                .is_some_and(|e| doc["errors"][0].as_str() == Some(&format!("plugin hostile: {e}"))),
            "{attack}: {doc}"
        );
    }
}

/// A plugin that traps is named with the trap's own words: no wasm
/// backtrace, no offsets, no mangled symbols; one that asks for more memory
/// than a plugin can address is told so, not "capacity overflow" panics.
#[test]
fn traps_are_reported_without_engine_internals() {
    for (attack, reason) in [
        (
            "abort",
            "trapped: wasm trap: wasm `unreachable` instruction executed",
        ),
        ("stack", "trapped: wasm trap: call stack exhausted"),
        (
            "capacity",
            "ran out of memory: it asked for more than a plugin can hold (capacity overflow)",
        ),
    ] {
        let run = assert_fails_closed(attack, "", reason);
        for leak in ["backtrace", "0x", "_ZN", "<unknown>", "raw_vec", "/rustc/"] {
            assert!(
                !run.stderr.contains(leak),
                "{attack}: `{leak}` in {}",
                run.stderr
            );
        }
    }
}
