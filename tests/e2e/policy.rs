//! Policy files and arguments: every bad input is exit 2 with one line
//! saying what and where.

use crate::common::*;

#[test]
fn bad_policy_is_exit_2_with_file_line_col() {
    let repo = Repo::new();
    repo.write("portcullis.toml", "[gate]\nfail-at = \"error\"\n\n[plugins.lint]\nsource = \"builtin:lint\"\ntimout-ms = 100\n");
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2);
    let line = run.stderr.trim();
    assert!(
        line.starts_with("portcullis: ")
            && line.contains("portcullis.toml:6:1: unknown field `timout-ms`, expected one of"),
        "{line}"
    );
    assert_eq!(line.lines().count(), 1, "one line");
}

#[test]
fn sha256_pin_mismatch_shows_expected_and_actual() {
    let repo = Repo::new();
    let wrong = "0".repeat(64);
    repo.write(
        "portcullis.toml",
        format!("[plugins.p]\nsource = \"{PROBE_WASM}\"\nsha256 = \"{wrong}\"\n"),
    );
    let (run, sarif) = repo.check_sarif(&[]);
    assert_eq!(run.code, 2);
    let actual = portcullis::plugins::sha256_hex(&std::fs::read(PROBE_WASM).expect("wasm"));
    assert!(
        run.stderr
            .contains(&format!("policy pins {wrong}, file has {actual}")),
        "{}",
        run.stderr
    );
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        false
    );
}

#[test]
fn a_file_that_is_not_a_component_fails_closed() {
    let repo = Repo::new();
    repo.write("fake.wasm", b"\0asm not really");
    let sha = portcullis::plugins::sha256_hex(b"\0asm not really");
    repo.write(
        "portcullis.toml",
        format!("[plugins.fake]\nsource = \"fake.wasm\"\nsha256 = \"{sha}\"\n"),
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("portcullis: plugin fake: failed to load: "),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_arguments_are_exit_2() {
    let repo = Repo::new();
    for args in [
        vec!["check", "--format", "xml"],
        vec!["check", "--fail-at", "fatal"],
        vec!["check", "--jobs", "0"],
        vec!["check", "no/such/dir"],
        vec!["check", "--policy", "missing.toml"],
        vec!["frobnicate"],
    ] {
        let run = repo.run(&args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.trim().is_empty(), "{args:?}");
    }
}

#[test]
fn explicit_policy_and_rules_listing() {
    let repo = Repo::new();
    repo.write("org/policy.toml", "[gate]\nfail-at = \"warning\"\n[plugins.hygiene]\nsource = \"builtin:lint\"\nread = [\".\"]\n[plugins.hygiene.config]\nmax-file-kb = 1\n")
        .write("two-kb.txt", vec![b'a'; 2048]);
    let run = repo.run(&["check", "--policy", "org/policy.toml", "--format", "json"]);
    assert_eq!(
        run.code, 1,
        "fail-at warning from the policy: {}",
        run.stderr
    );
    assert_eq!(run.json()["findings"][0]["rule_id"], "hygiene/large-file");
    let rules = repo.run(&["rules", "--policy", "org/policy.toml"]);
    assert_eq!(rules.code, 0);
    assert!(
        rules
            .stdout
            .lines()
            .any(|l| l.starts_with("hygiene/merge-conflict")
                && l.contains("error")
                && l.contains("A merge-conflict marker was committed.")),
        "{}",
        rules.stdout
    );
    let default_rules = repo.run(&["rules"]);
    assert!(
        default_rules.stdout.contains("lint/private-key"),
        "{}",
        default_rules.stdout
    );
}

#[test]
fn several_plugins_run_side_by_side_and_one_failure_fails_the_gate() {
    let repo = Repo::new();
    let sha = portcullis::plugins::sha256_hex(&std::fs::read(HOSTILE_WASM).expect("wasm"));
    let policy = |attack: &str| {
        format!(
            "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n[plugins.lint.config]\nmax-file-kb = 1\n\
             [plugins.other]\nsource = \"{HOSTILE_WASM}\"\nsha256 = \"{sha}\"\ntimeout-ms = 500\n[plugins.other.config]\nattack = \"{attack}\"\n"
        )
    };
    repo.write("big.txt", vec![b'a'; 4096])
        .write("portcullis.toml", policy("none"));
    let (run, sarif) = repo.check_sarif(&["--jobs", "2"]);
    assert_eq!(run.code, 0, "a warning passes: {}", run.stderr);
    let runs = sarif["runs"].as_array().expect("runs");
    let ids: Vec<&str> = runs
        .iter()
        .map(|r| r["automationDetails"]["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        ["portcullis/lint/", "portcullis/other/"],
        "one run per plugin, in policy order"
    );
    assert_eq!(runs[0]["results"][0]["ruleId"], "lint/large-file");

    // One plugin times out: the gate cannot pass, whatever the others found,
    // and the other plugin's results are still reported.
    repo.write("portcullis.toml", policy("loop"));
    let (run, sarif) = repo.check_sarif(&["--jobs", "2"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr.trim(),
        "portcullis: plugin other: timed out after 500 ms"
    );
    assert_eq!(
        sarif["runs"][0]["invocations"][0]["executionSuccessful"],
        true
    );
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "lint/large-file");
    assert_eq!(
        sarif["runs"][1]["invocations"][0]["executionSuccessful"],
        false
    );
}

#[test]
fn rule_levels_from_the_policy_decide_the_gate() {
    let repo = Repo::new();
    repo.write("big.bin", vec![b'a'; 600 * 1024])
        .write("bad.json", "{");
    let policy = |rules: &str| {
        format!("[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n[rules]\n{rules}")
    };
    // Raised: a warning rule now fails the gate.
    repo.write(
        "portcullis.toml",
        policy("\"lint/large-file\" = \"error\"\n\"lint/invalid-json\" = \"note\"\n"),
    );
    let (run, sarif) = repo.check_sarif(&["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    assert_eq!(
        doc["counts"],
        serde_json::json!({"error": 1, "warning": 0, "note": 1})
    );
    let mut levels: Vec<(String, String)> = results(&sarif)
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().expect("id").to_string(),
                r["level"].as_str().expect("level").to_string(),
            )
        })
        .collect();
    levels.sort();
    assert_eq!(
        levels,
        [
            ("lint/invalid-json".to_string(), "note".to_string()),
            ("lint/large-file".to_string(), "error".to_string())
        ]
    );
    // Off: the findings are gone and the gate passes.
    repo.write("portcullis.toml", policy("\"lint/*\" = \"off\"\n"));
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 0);
    assert_eq!(run.json()["findings"], serde_json::json!([]));
    // A misspelt id is reported, not silently ignored.
    repo.write(
        "portcullis.toml",
        policy("\"lint/large-files\" = \"error\"\n"),
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 1, "bad.json still fails");
    assert!(run.stdout.contains("note: portcullis.toml:5:1: [rules] entry `lint/large-files` matches no rule of the plugins in this policy"), "{}", run.stdout);
}
