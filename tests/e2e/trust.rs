//! The change under review is hostile: what it can name, plant or race
//! must not move the gate. One test per attack; each fails on a host that
//! lets the attack through.

use std::path::Path;
use std::process::Command;

use crate::common::*;

/// An OpenSSH private key as the secrets plugin finds it (built at run
/// time, so this file holds none).
fn private_key() -> String {
    let dashes = "-".repeat(5);
    format!(
        "{dashes}BEGIN OPENSSH PRIVATE KEY{dashes}\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n{dashes}END OPENSSH PRIVATE KEY{dashes}\n"
    )
}

/// A shell script that records its invocation in `marker` and fails.
#[cfg(unix)]
fn tripwire(path: &Path, marker: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        path,
        format!(
            "#!/bin/sh\necho \"$0 $*\" >> '{}'\nexit 1\n",
            marker.display()
        ),
    )
    .expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[cfg(unix)]
#[test]
fn cargo_metadata_runs_nothing_the_repository_names() {
    let repo = Repo::new();
    let outside = tempfile::tempdir().expect("tempdir");
    let marker = outside.path().join("ran");
    let root = repo.path().canonicalize().expect("root");
    for script in ["wrapper.sh", "tc/bin/cargo", "tc/bin/rustc", "rustc.sh"] {
        tripwire(&root.join(script), &marker);
    }
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n",
    )
    .write("src/main.rs", "fn main() {}\n")
    .write("Cargo.lock", crate::security::own_lock("0.1.0"))
    .write(
        ".cargo/config.toml",
        format!(
            "[build]\nrustc-wrapper = \"{0}/wrapper.sh\"\nrustc-workspace-wrapper = \"{0}/wrapper.sh\"\nrustc = \"{0}/rustc.sh\"\n[env]\nRUSTC_BOOTSTRAP = \"1\"\n",
            root.display()
        ),
    )
    .write(
        "rust-toolchain.toml",
        format!("[toolchain]\npath = \"{}/tc\"\n", root.display()),
    );
    let home = tempfile::tempdir().expect("cargo home");
    // As in CI: `cargo` is rustup's proxy, which honours rust-toolchain.toml
    // unless a toolchain is forced by the environment.
    let out = Command::new(BIN)
        .args(["check", ".", "--format", "json"])
        .current_dir(repo.path())
        .env_remove("CARGO")
        .env_remove("RUSTUP_TOOLCHAIN")
        .env_remove("RUSTC")
        .env_remove("RUSTC_WRAPPER")
        .env("CARGO_HOME", home.path())
        .env("CARGO_NET_OFFLINE", "true")
        .env("PORTCULLIS_CACHE_DIR", repo.cache_dir())
        .output()
        .expect("run portcullis");
    let run = Run::from(out);
    assert!(
        !marker.exists(),
        "a program named by the repository ran: {}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[cfg(unix)]
#[test]
fn changed_since_runs_no_program_named_in_git_config() {
    let repo = Repo::new();
    let outside = tempfile::tempdir().expect("tempdir");
    let marker = outside.path().join("ran");
    let evil = outside.path().join("evil.sh");
    tripwire(&evil, &marker);
    repo.git(&["init", "-q"]);
    repo.write("a.txt", "one\n");
    repo.git(&["add", "."]);
    repo.git(&["commit", "-qm", "base"]);
    let evil_s = evil.to_string_lossy();
    for (key, value) in [
        ("core.fsmonitor", evil_s.as_ref()),
        ("diff.external", evil_s.as_ref()),
        ("diff.evil.textconv", evil_s.as_ref()),
        ("core.pager", evil_s.as_ref()),
    ] {
        repo.git(&["config", key, value]);
    }
    repo.write(".gitattributes", "* diff=evil\n")
        .write("a.txt", "one\ntwo\n");
    let run = repo.run(&["check", ".", "--changed-since", "HEAD"]);
    assert!(
        !marker.exists(),
        "a program named in git config ran: {}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// Findings of the hostile plugin under `attack` with `read = ["."]`.
fn hostile_repo(attack: &str, extra_config: &str) -> Repo {
    let repo = Repo::new();
    repo.write("README.md", "hello from the repository");
    repo.policy_with_wasm(
        "hostile",
        HOSTILE_WASM,
        &format!("read = [\".\"]\n[plugins.hostile.config]\nattack = \"{attack}\"\n{extra_config}"),
    );
    repo
}

fn probe_messages(run: &Run) -> Vec<String> {
    let doc = run.json();
    let messages: Vec<String> = finding_messages(&doc)
        .into_iter()
        .map(String::from)
        .collect();
    assert!(!messages.is_empty(), "{}\n{}", run.stdout, run.stderr);
    messages
}

#[cfg(unix)]
#[test]
fn git_directories_are_never_readable() {
    let repo = hostile_repo("read-git", "");
    repo.git(&["init", "-q"]);
    repo.git(&[
        "config",
        "http.https://github.com/.extraheader",
        "AUTHORIZATION: basic SECRET-TOKEN",
    ]);
    repo.write("sub/.git/config", "[core]\n# SECRET-TOKEN\n")
        .symlink("g", ".git");
    let run = repo.run(&["check", ".", "--format", "json"]);
    let messages = probe_messages(&run);
    assert_eq!(messages.len(), 6, "{messages:?}");
    for m in &messages {
        assert!(m.starts_with("blocked:"), "{m}");
        assert!(!m.contains("SECRET"), "{m}");
    }
}

#[cfg(unix)]
#[test]
fn a_concurrent_swapper_cannot_redirect_a_read_outside_the_repository() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let outside = tempfile::tempdir().expect("tempdir");
    let secret = outside.path().join("secret");
    std::fs::write(&secret, "OUTSIDE the repository\n").expect("secret");
    let repo = hostile_repo("race", "seconds = 1.5\n");
    repo.write("victim.txt", "inside\n");
    let root = repo.path().to_path_buf();
    let stop = Arc::new(AtomicBool::new(false));
    let swaps = Arc::new(AtomicU64::new(0));
    // The link and the replacement file are made outside the repository and
    // renamed in (one filesystem, so each rename is atomic): the repository
    // only ever holds `victim.txt`, a file or a link, never a transient name
    // that the file list could see and then lose.
    let staging = outside.path().to_path_buf();
    let swapper = {
        let (stop, swaps) = (stop.clone(), swaps.clone());
        std::thread::spawn(move || {
            let (victim, link, file) = (
                root.join("victim.txt"),
                staging.join("victim.lnk"),
                staging.join("victim.new"),
            );
            while !stop.load(Ordering::Relaxed) {
                let _ = std::os::unix::fs::symlink(&secret, &link);
                let _ = std::fs::rename(&link, &victim);
                let _ = std::fs::write(&file, "inside\n");
                let _ = std::fs::rename(&file, &victim);
                swaps.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let run = repo.run(&["check", ".", "--format", "json"]);
    stop.store(true, Ordering::Relaxed);
    swapper.join().expect("swapper");
    let messages = probe_messages(&run);
    assert!(messages[0].starts_with("blocked:"), "{}", messages[0]);
    let reads: u64 = messages[0]
        .split('(')
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .and_then(|n| n.parse().ok())
        .expect("read count");
    assert!(
        reads >= 100,
        "the plugin read only {reads} times: {messages:?}"
    );
    assert!(
        swaps.load(Ordering::Relaxed) >= 100,
        "the swapper barely ran"
    );
}

#[test]
fn a_call_that_returns_after_its_deadline_fails() {
    // Blocked in a host call (no epoch check fires) for 400 ms under a
    // 200 ms deadline, then a clean return, before the watchdog's grace
    // runs out.
    let repo = Repo::new();
    repo.policy_with_wasm(
        "hostile",
        HOSTILE_WASM,
        "timeout-ms = 200\n[plugins.hostile.config]\nattack = \"overrun\"\nms = 400\n",
    );
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("plugin hostile") && run.stderr.contains("200 ms"),
        "{}",
        run.stderr
    );
}

#[test]
fn rules_per_plugin_are_capped() {
    let repo = hostile_repo("many-rules", "");
    let run = repo.run(&["check", ".", "--junit", "j.xml"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("declares and discovers 5002 rules, over the limit of 5000"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_compile_over_its_bounds_is_stopped_with_a_clear_error() {
    let repo = hostile_repo("none", "");
    for (env, message) in [
        (
            ("PORTCULLIS_COMPILE_MEMORY_MB", "40"),
            "compiling the component needed more than 40 MiB; it was stopped",
        ),
        (
            ("PORTCULLIS_COMPILE_TIMEOUT_MS", "1"),
            "compiling the component took longer than 1 ms; it was stopped",
        ),
    ] {
        let run = repo.run_env(&["check", "."], &[env]);
        assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
        assert!(run.stderr.contains(message), "{env:?}: {}", run.stderr);
    }
    // Within bounds, the same component compiles (in the child) and runs.
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

/// Every output of a run whose plugin writes a forged message.
struct Forged {
    human: String,
    annotations: String,
    summary: String,
    junit: String,
    sarif: serde_json::Value,
}

fn forged() -> Forged {
    let repo = Repo::new();
    repo.policy_with_wasm(
        "renamed",
        HOSTILE_WASM,
        "[plugins.renamed.config]\nattack = \"forge\"\n",
    );
    let human = repo.run(&["check", "."]);
    assert_eq!(human.code, 1, "{}\n{}", human.stdout, human.stderr);
    let summary = repo.cache_dir().join("summary.md");
    let summary_s = summary.to_string_lossy().into_owned();
    let annotations = repo.run_env(
        &["check", ".", "--format", "github", "--junit", "j.xml"],
        &[("GITHUB_STEP_SUMMARY", &summary_s)],
    );
    let junit = std::fs::read_to_string(repo.path().join("j.xml")).expect("junit");
    std::fs::remove_file(repo.path().join("j.xml")).expect("rm");
    let (_, sarif) = repo.check_sarif(&[]);
    Forged {
        human: human.stdout,
        annotations: annotations.stdout,
        summary: std::fs::read_to_string(&summary).expect("summary"),
        junit,
        sarif,
    }
}

#[test]
fn plugin_text_cannot_forge_the_terminal_or_annotations() {
    let f = forged();
    for (name, text) in [("terminal", &f.human), ("annotations", &f.annotations)] {
        for c in ['\u{1b}', '\u{202e}', '\u{200b}', '\u{fffe}', '\r'] {
            assert!(!text.contains(c), "{name} has U+{:04X}: {text}", c as u32);
        }
        assert!(text.contains("\\u{202e}txt.exe\\u{200b}"), "{name}: {text}");
        assert!(text.contains("src/\\u{202e}cod.rs"), "{name}: {text}");
    }
    // One annotation line, then the summary: the message's newline is escaped.
    let lines: Vec<&str> = f.annotations.lines().collect();
    assert_eq!(lines.len(), 2, "{}", f.annotations);
    assert!(
        lines[0]
            .starts_with("::error file=src/\\u{202e}cod.rs,line=1,title=renamed/probe-result::## ")
    );
    assert!(lines[1].starts_with("gate FAILED: 1 error"), "{}", lines[1]);
}

#[test]
fn plugin_text_cannot_forge_the_job_summary() {
    let f = forged();
    let html = gfm_html(&f.summary);
    // The only heading is the host's verdict; the message adds no link,
    // image, HTML element or autolink, and stays in its table cell.
    assert_eq!(html.matches("<h2").count(), 1, "{html}");
    assert!(
        html.contains("<h2>❌ portcullis: gate FAILED</h2>"),
        "{html}"
    );
    for tag in ["<a ", "<img", "<details", "<summary"] {
        assert!(!html.contains(tag), "{tag} in {html}");
    }
    assert!(
        !html.contains('\u{202e}') && html.contains("\\u{202e}txt.exe"),
        "{html}"
    );
    let findings_table = html
        .split("Findings at or above")
        .nth(1)
        .expect("findings table");
    let row = findings_table
        .split("<tbody>")
        .nth(1)
        .and_then(|b| b.split("</tr>").next())
        .expect("one row");
    assert_eq!(row.matches("<td").count(), 4, "{row}");
    for tag in ["<code", "<em", "<strong", "<del"] {
        assert!(!row.contains(tag), "{tag} in {row}");
    }
}

/// The job summary as GitHub renders it: CommonMark with GitHub's table,
/// autolink and strikethrough extensions, raw HTML passed through (stricter
/// than GitHub, which filters some tags).
fn gfm_html(md: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.autolink = true;
    options.extension.strikethrough = true;
    options.render.r#unsafe = true;
    comrak::markdown_to_html(md, &options)
}

#[test]
fn plugin_text_cannot_break_junit_or_name_the_sarif_tool() {
    let f = forged();
    assert!(
        !f.junit.contains('\u{fffe}') && f.junit.contains("\\u{202e}txt.exe"),
        "{}",
        f.junit
    );
    assert!(
        f.junit
            .chars()
            .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..)),
        "JUnit holds a character XML 1.0 cannot: {}",
        f.junit
    );
    // The tool is named by the policy (id, source, digest), not by the
    // plugin, which calls itself `hostile`.
    let driver = &f.sarif["runs"][0]["tool"]["driver"];
    let sha = portcullis::digest::sha256_hex(&std::fs::read(HOSTILE_WASM).expect("wasm"));
    assert_eq!(driver["name"], "renamed");
    assert!(
        driver["fullName"]
            .as_str()
            .is_some_and(|n| n.starts_with("renamed (") && n.ends_with(&format!("sha256:{sha})"))),
        "{driver}"
    );
    assert_eq!(driver["properties"]["portcullis/sha256"], sha.as_str());
    assert_eq!(driver["properties"]["portcullis/declared-name"], "hostile");
}

#[test]
fn a_repository_policy_cannot_unlock_the_org_policy() {
    let repo = Repo::new();
    let org = tempfile::tempdir().expect("org");
    std::fs::write(
        org.path().join("org.toml"),
        "extends = [\"builtin:default\"]\n[rules]\n\"secrets/*\" = { level = \"error\", locked = true }\n",
    )
    .expect("org policy");
    repo.write(
        "portcullis.toml",
        format!(
            "extends = [\"{}/org.toml\"]\n[plugins.secrets]\nsource = \"builtin:secrets\"\n[plugins.secrets.config]\nallow-paths = [\"**\"]\n",
            org.path().display()
        ),
    )
    .write("id_rsa", private_key());
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("portcullis.toml:2:")
            && run
                .stderr
                .contains("[plugins.secrets] redefines a plugin whose rules are locked at ")
            && run.stderr.contains("org.toml:3:1"),
        "{}",
        run.stderr
    );
}

#[test]
fn fail_at_locked_by_the_policy_cannot_be_raised_on_the_command_line() {
    let repo = Repo::new();
    repo.write(
        "portcullis.toml",
        "extends = [\"builtin:default\"]\n[gate]\nfail-at = { level = \"warning\", locked = true }\n",
    )
    .write("big.bin", vec![b'a'; 600 * 1024]);
    let run = repo.run(&["check", ".", "--fail-at", "error"]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(
            "--fail-at error raises the gate's threshold, locked at portcullis.toml:3:11 as \"warning\""
        ),
        "{}",
        run.stderr
    );
    // Lowering it is allowed; at the locked level the large file fails.
    assert_eq!(repo.run(&["check", ".", "--fail-at", "note"]).code, 1);
    assert_eq!(repo.run(&["check", "."]).code, 1);
}

#[test]
fn a_tracked_file_is_checked_even_when_gitignore_hides_it() {
    let repo = Repo::new();
    repo.git(&["init", "-q"]);
    repo.write(".gitignore", ".env\n")
        .write(".env", private_key());
    repo.git(&["add", "-f", ".env", ".gitignore"]);
    let run = repo.run(&["check", ".", "--format", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    assert!(
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .any(|f| f["rule_id"] == "secrets/private-key" && f["locations"][0]["path"] == ".env"),
        "{doc}"
    );
}

#[cfg(unix)]
#[test]
fn a_bare_repository_committed_in_the_tree_is_never_used() {
    let repo = Repo::new();
    let outside = tempfile::tempdir().expect("tempdir");
    let marker = outside.path().join("ran");
    let evil = outside.path().join("clean.sh");
    tripwire(&evil, &marker);
    // `sub/` is laid out as a bare repository whose work tree is itself,
    // with a clean filter for every file.
    let sub = repo.path().join("sub");
    let out = Command::new("git")
        .args(["init", "-q", "--bare"])
        .arg(&sub)
        .output()
        .expect("git init --bare");
    assert!(out.status.success());
    let config = |k: &str, v: &str| {
        let out = Command::new("git")
            .arg("--git-dir")
            .arg(&sub)
            .args(["config", k, v])
            .output()
            .expect("git config");
        assert!(out.status.success());
    };
    config("core.bare", "false");
    config("core.worktree", ".");
    config("filter.x.clean", &evil.to_string_lossy());
    repo.write("sub/.gitattributes", "* filter=x\n")
        .write("sub/a.txt", "one\n");
    let run = repo.run(&["check", "sub", "--changed-since", "HEAD"]);
    assert!(
        !marker.exists(),
        "a program named in the tree's bare repository ran: {}",
        std::fs::read_to_string(&marker).unwrap_or_default()
    );
    assert_eq!(
        run.code, 2,
        "not a repository: {}\n{}",
        run.stdout, run.stderr
    );
}

#[cfg(unix)]
#[test]
fn a_report_cannot_be_a_symlink_to_the_checkouts_token() {
    let repo = Repo::new();
    repo.git(&["init", "-q"]);
    repo.git(&[
        "config",
        "http.https://github.com/.extraheader",
        "AUTHORIZATION: basic SECRET-TOKEN",
    ]);
    repo.symlink("target/clippy.json", "../.git/config").write(
        "portcullis.toml",
        "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n[reports.clippy]\npath = \"target/clippy.json\"\nformat = \"clippy-json\"\n",
    );
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("target/clippy.json: not readable: a symlink"),
        "{}",
        run.stderr
    );
    assert!(!run.stdout.contains("SECRET") && !run.stderr.contains("SECRET"));
}

#[cfg(unix)]
#[test]
fn a_report_file_is_replaced_not_written_through_a_symlink() {
    let repo = Repo::new();
    let outside = tempfile::tempdir().expect("tempdir");
    let victim = outside.path().join("victim");
    std::fs::write(&victim, "precious\n").expect("victim");
    repo.symlink("out.sarif", &victim.to_string_lossy())
        .write("ok.txt", "fine\n");
    let run = repo.run(&["check", ".", "--sarif", "out.sarif", "--junit", "out.xml"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious\n"
    );
    let meta = std::fs::symlink_metadata(repo.path().join("out.sarif")).expect("sarif");
    assert!(
        meta.file_type().is_file(),
        "the symlink was replaced by the report"
    );
    let text = std::fs::read_to_string(repo.path().join("out.sarif")).expect("sarif");
    assert_valid_sarif(&serde_json::from_str(&text).expect("sarif json"));
}

#[test]
fn a_mount_may_not_hold_the_repository() {
    let repo = Repo::new();
    repo.policy_with_wasm(
        "hostile",
        HOSTILE_WASM,
        "[plugins.hostile.mounts]\nall = \"..\"\n",
    );
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("holds the repository or its `.git`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_baseline_does_not_excuse_a_locked_rule() {
    let repo = Repo::new();
    repo.write(
        "portcullis.toml",
        "extends = [\"builtin:default\"]\n[rules]\n\"lint/large-file\" = { level = \"error\", locked = true }\n\"lint/invalid-json\" = \"error\"\n",
    )
    .write("big.bin", vec![b'a'; 600 * 1024])
    .write("bad.json", "{");
    assert_eq!(
        repo.run(&["check", ".", "--write-baseline", "b.json"]).code,
        1
    );
    let run = repo.run(&["check", ".", "--baseline", "b.json", "--format", "json"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let counted: Vec<&str> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| f["baseline_state"] != "unchanged")
        .filter_map(|f| f["rule_id"].as_str())
        .collect();
    assert_eq!(counted, ["lint/large-file"], "{doc}");
}

/// Plugins that run wasm for 1 100 ms under a 1 000 ms deadline, six at
/// once on one core: the epoch ticker starves and its ticks lag far
/// behind the clock, which must not stretch the deadline.
#[cfg(target_os = "linux")]
#[test]
fn a_busy_machine_does_not_stretch_the_deadline() {
    let repo = Repo::new();
    let bytes = std::fs::read(HOSTILE_WASM).expect("wasm");
    let sha = portcullis::digest::sha256_hex(&bytes);
    let mut policy = String::new();
    for i in 0..6 {
        policy.push_str(&format!(
            "[plugins.spin{i}]\nsource = \"{HOSTILE_WASM}\"\nsha256 = \"{sha}\"\ntimeout-ms = 1000\n[plugins.spin{i}.config]\nattack = \"spin\"\nms = 1100\n"
        ));
    }
    repo.write("portcullis.toml", policy);
    // Compile first, so the timed run is only the calls.
    let _ = repo.run(&["check", ".", "--jobs", "1"]);
    let out = Command::new("taskset")
        .args([
            "-c", "0", BIN, "check", ".", "--jobs", "6", "--format", "json",
        ])
        .current_dir(repo.path())
        .env("PORTCULLIS_CACHE_DIR", repo.cache_dir())
        .output()
        .expect("taskset (util-linux) runs portcullis");
    let run = Run::from(out);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let timed_out = doc["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .filter(|p| p["error_kind"] == "timeout")
        .count();
    assert_eq!(timed_out, 6, "{doc}");
}
