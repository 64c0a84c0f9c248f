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
    let actual = portcullis::digest::sha256_hex(&std::fs::read(PROBE_WASM).expect("wasm"));
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
    let sha = portcullis::digest::sha256_hex(b"\0asm not really");
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
        default_rules.stdout.contains("secrets/private-key"),
        "{}",
        default_rules.stdout
    );
    assert!(
        default_rules
            .stdout
            .lines()
            .any(|l| l.starts_with("portcullis/waiver-expired") && l.contains("warning")),
        "{}",
        default_rules.stdout
    );
}

#[test]
fn several_plugins_run_side_by_side_and_one_failure_fails_the_gate() {
    let repo = Repo::new();
    let sha = portcullis::digest::sha256_hex(&std::fs::read(HOSTILE_WASM).expect("wasm"));
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
        .map(|r| r["tool"]["driver"]["name"].as_str().expect("name"))
        .collect();
    assert_eq!(
        ids,
        ["lint", "other"],
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
        serde_json::json!({"error": 1, "warning": 0, "note": 1, "waived": 0, "baselined": 0})
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

/// A repository with a large file (warning) and a bad JSON file (error),
/// and a policy whose `[[waivers]]` are `waivers`.
fn waived_repo(waivers: &str) -> Repo {
    let repo = Repo::new();
    repo.write("tests/fixtures/big.bin", vec![b'a'; 600 * 1024]).write("tests/fixtures/bad.json", "{").write(
        "portcullis.toml",
        format!("[gate]\nfail-at = \"warning\"\n\n[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n{waivers}"),
    );
    repo
}

const TODAY: (&str, &str) = ("PORTCULLIS_TODAY", "2026-11-22");

fn waiver(rule: &str, extra: &str, expires: &str) -> String {
    format!(
        "\n[[waivers]]\nrule = \"{rule}\"\n{extra}reason = \"fixtures are meant to be odd\"\nowner = \"sec@example.com\"\nexpires = {expires}\n"
    )
}

fn check_today(repo: &Repo, extra: &[&str]) -> (Run, serde_json::Value) {
    let sarif = repo.path().join("w.sarif").to_string_lossy().into_owned();
    let mut args = vec!["check", "--format", "json", "--sarif", &sarif];
    args.extend_from_slice(extra);
    let run = repo.run_env(&args, &[TODAY]);
    let value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif).expect("sarif")).expect("json");
    assert_valid_sarif(&value);
    (run, value)
}

#[test]
fn an_active_waiver_excuses_findings_and_keeps_them_in_sarif() {
    let repo = waived_repo(&(waiver("lint/*", "paths = [\"tests/fixtures/**\"]\n", "2027-03-31")));
    let (run, sarif) = check_today(&repo, &[]);
    assert_eq!(run.code, 0, "both findings waived: {}", run.stdout);
    let doc = run.json();
    assert_eq!(
        doc["counts"],
        serde_json::json!({"error": 0, "warning": 0, "note": 0, "waived": 2, "baselined": 0})
    );
    assert_eq!(doc["findings"][0]["waiver"]["owner"], "sec@example.com");
    assert_eq!(doc["findings"][0]["waiver"]["at"], "portcullis.toml:9");
    let results = results(&sarif);
    let lint: Vec<_> = results
        .iter()
        .filter(|r| {
            r["ruleId"]
                .as_str()
                .is_some_and(|id| id.starts_with("lint/"))
        })
        .collect();
    assert_eq!(lint.len(), 2);
    for r in lint {
        let s = &r["suppressions"][0];
        assert_eq!(s["kind"], "external");
        assert_eq!(s["justification"], "fixtures are meant to be odd");
        assert_eq!(s["properties"]["owner"], "sec@example.com");
    }
    let human = repo.run_env(&["check"], &[TODAY]);
    assert!(
        human
            .stdout
            .starts_with("gate passed: 0 errors, 0 warnings, 2 waived from 1 plugin in "),
        "{}",
        human.stdout
    );
}

#[test]
fn waiver_states_expired_expiring_unused() {
    let repo = waived_repo(&format!(
        "{}{}{}",
        waiver("lint/invalid-json", "", "2026-11-21"), // expired yesterday
        waiver("lint/large-file", "", "2026-12-01"),   // 9 days left
        waiver(
            "lint/merge-conflict",
            "paths = [\"src/**\"]\n",
            "2027-12-31"
        ), // matches nothing
    ));
    let (run, sarif) = check_today(&repo, &[]);
    assert_eq!(run.code, 1, "the expired waiver's finding counts again");
    let doc = run.json();
    let by_rule = |id: &str| {
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .filter(|f| f["rule_id"] == id)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert!(
        by_rule("lint/invalid-json")[0]["waiver"].is_null(),
        "expired: not waived"
    );
    assert_eq!(
        by_rule("lint/large-file")[0]["waiver"]["expires"],
        "2026-12-01",
        "still valid"
    );
    let expired = &by_rule("portcullis/waiver-expired")[0];
    assert_eq!(expired["level"], "warning");
    assert_eq!(
        expired["message"],
        "waiver for `lint/invalid-json` at portcullis.toml:9 (owner sec@example.com) expired on 2026-11-21; its findings count again"
    );
    assert_eq!(
        expired["locations"][0],
        serde_json::json!({"path": "portcullis.toml", "region": {"startLine": 9}})
    );
    let expiring = &by_rule("portcullis/waiver-expiring")[0];
    assert_eq!(expiring["level"], "note");
    assert!(
        expiring["message"]
            .as_str()
            .expect("msg")
            .ends_with("expires on 2026-12-01 (9 days)")
    );
    let unused = &by_rule("portcullis/waiver-unused")[0];
    assert_eq!(unused["level"], "warning");
    assert!(
        unused["message"]
            .as_str()
            .expect("msg")
            .contains("`lint/merge-conflict` at portcullis.toml:21"),
        "{unused}"
    );
    let host = sarif["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .find(|r| r["tool"]["driver"]["name"] == "portcullis")
        .expect("host run");
    assert_eq!(host["tool"]["driver"]["version"], env!("CARGO_PKG_VERSION"));
    // The expiring window is configurable.
    let text = std::fs::read_to_string(repo.path().join("portcullis.toml")).expect("policy");
    repo.write(
        "portcullis.toml",
        text.replace(
            "fail-at = \"warning\"\n",
            "fail-at = \"warning\"\nwaiver-expiring-days = 5\n",
        ),
    );
    let (run, _) = check_today(&repo, &[]);
    assert!(
        run.json()["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .all(|f| f["rule_id"] != "portcullis/waiver-expiring")
    );
}

#[test]
fn a_waiver_can_name_one_finding_by_fingerprint() {
    let repo = waived_repo("");
    let (run, _) = check_today(&repo, &[]);
    let doc = run.json();
    let fp = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule_id"] == "lint/invalid-json")
        .expect("json")["fingerprint"]
        .as_str()
        .expect("fp")
        .to_string();
    let repo = waived_repo(&waiver(
        "lint/*",
        &format!("fingerprint = \"{fp}\"\n"),
        "2027-01-31",
    ));
    let (run, _) = check_today(&repo, &[]);
    let doc = run.json();
    assert_eq!(doc["counts"]["waived"], 1);
    assert_eq!(
        doc["counts"]["warning"], 1,
        "the large file is still counted"
    );
    assert_eq!(run.code, 1);
}

#[test]
fn baseline_round_trip_gates_only_new_findings() {
    let repo = Repo::new();
    repo.write("a.json", "{\n").write("b.toml", "x = \n");
    let baseline = repo
        .path()
        .join("baseline.json")
        .to_string_lossy()
        .into_owned();
    let run = repo.run(&["check", "--write-baseline", &baseline]);
    assert_eq!(
        run.code, 1,
        "writing a baseline does not change the verdict"
    );
    let recorded: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&baseline).expect("baseline")).expect("json");
    assert_eq!(recorded["version"], 1);
    assert_eq!(recorded["findings"].as_array().expect("findings").len(), 2);

    // Unrelated edits shift lines; one finding is fixed, one is new.
    repo.write("b.toml", "# a comment\n\nx = \n")
        .write("a.json", "{}\n")
        .write("c.yaml", "a: [\n");
    let (run, sarif) = repo.check_sarif(&["--baseline", &baseline, "--format", "json"]);
    assert_eq!(
        run.code, 1,
        "the new finding fails the gate: {}",
        run.stderr
    );
    let doc = run.json();
    assert_eq!(doc["counts"]["baselined"], 1);
    assert_eq!(doc["counts"]["error"], 1);
    let state = |id: &str| {
        doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["rule_id"] == id)
            .expect(id)["baseline_state"]
            .clone()
    };
    assert_eq!(
        state("lint/invalid-toml"),
        "unchanged",
        "survives the line shift"
    );
    assert_eq!(state("lint/invalid-yaml"), "new");
    assert_eq!(doc["absent"][0]["rule_id"], "lint/invalid-json");
    let states: Vec<(String, String)> = results(&sarif)
        .iter()
        .map(|r| {
            (
                r["ruleId"].as_str().expect("id").to_string(),
                r["baselineState"].as_str().expect("state").to_string(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("lint/invalid-toml".to_string(), "unchanged".to_string()),
            ("lint/invalid-yaml".to_string(), "new".to_string()),
            ("lint/invalid-json".to_string(), "absent".to_string()),
        ]
    );
    // Only unchanged findings left: the gate passes.
    repo.write("c.yaml", "a: []\n");
    let run = repo.run(&["check", "--baseline", &baseline]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("1 in the baseline"), "{}", run.stdout);
}

#[test]
fn a_bad_baseline_is_exit_2_and_an_incomplete_run_writes_none() {
    let repo = Repo::new();
    repo.write(
        "base.json",
        "{\"version\": 1, \"findings\": [{\"rule_id\": 3}]}",
    );
    let run = repo.run(&["check", "--baseline", "base.json"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.starts_with("portcullis: base.json:1:"),
        "{}",
        run.stderr
    );
    repo.policy_with_wasm(
        "h",
        HOSTILE_WASM,
        "[plugins.h.config]\nattack = \"panic\"\n",
    );
    let run = repo.run(&["check", "--write-baseline", "new.json"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("not writing the baseline new.json: the run is incomplete"),
        "{}",
        run.stderr
    );
    assert!(!repo.path().join("new.json").exists());
}

#[test]
fn an_org_policy_rolls_out_and_its_locks_hold() {
    let repo = Repo::new();
    repo.write(
        "org/security.toml",
        "extends = [\"builtin:default\"]\n[rules]\n\"lint/merge-conflict\" = { level = \"error\", locked = true }\n",
    )
    .write("portcullis.toml", "extends = [\"org/security.toml\"]\n[rules]\n\"lint/large-file\" = \"error\"\n")
    .write("big.bin", vec![b'a'; 600 * 1024]);
    let run = repo.run(&["check", "--format", "json"]);
    assert_eq!(run.code, 1, "the repo raised large-file: {}", run.stderr);
    assert_eq!(run.json()["findings"][0]["level"], "error");
    repo.write(
        "portcullis.toml",
        "extends = [\"org/security.toml\"]\n[rules]\n\"lint/*\" = \"off\"\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.starts_with("portcullis: portcullis.toml:3:1: `lint/*` = off lowers rule `lint/merge-conflict`, locked at ")
            && run.stderr.contains("org/security.toml:3:1 as error"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_wasm_source_is_relative_to_the_policy_that_names_it() {
    // Regression: the path was joined with the policy's directory twice.
    let repo = Repo::new();
    let bytes = std::fs::read(HOSTILE_WASM).expect("wasm");
    repo.write("org/plugins/h.wasm", &bytes).write(
        "org/policy.toml",
        format!(
            "[plugins.h]\nsource = \"plugins/h.wasm\"\nsha256 = \"{}\"\n",
            portcullis::digest::sha256_hex(&bytes)
        ),
    );
    let run = repo.run(&["check", "--policy", "org/policy.toml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn three_mistakes_are_three_located_lines_in_one_run() {
    let repo = Repo::new();
    repo.write(
        "portcullis.toml",
        "[gate]\nfail-at = \"eror\"\n\n[plugins.lint]\nsource = \"builtin:lint\"\ntimout-ms = 5\n\n[[waivers]]\nrule = \"lint/*\"\nreason = \"r\"\nowner = \" \"\nexpires = 2027-02-27\n",
    );
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 3, "{}", run.stderr);
    assert!(
        lines[0].starts_with("portcullis: portcullis.toml:2:11: unknown variant `eror`"),
        "{}",
        run.stderr
    );
    assert!(
        lines[1].starts_with("portcullis: portcullis.toml:6:1: unknown field `timout-ms`"),
        "{}",
        run.stderr
    );
    assert!(
        lines[2].starts_with("portcullis: portcullis.toml:11:9: waiver `owner` must not be empty"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_plugin_built_against_another_contract_version_is_named_as_such() {
    let repo = Repo::new();
    repo.policy_with_wasm("old", CONTRACT_V1_WASM, "");
    let run = repo.run(&["check"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(
        run.stderr.trim(),
        "portcullis: plugin old: failed to load: built against the plugin contract \
         portcullis:plugin@0.1.0; this portcullis speaks @0.2.0: rebuild the plugin with the \
         matching portcullis-sdk",
    );
}

/// `portcullis check` in `dir` (a subdirectory of the repository).
fn check_in(repo: &Repo, dir: &str) -> Run {
    let out = std::process::Command::new(BIN)
        .args(["check", "."])
        .current_dir(repo.path().join(dir))
        .env_remove("CI")
        .env("PORTCULLIS_CACHE_DIR", repo.cache_dir())
        .output()
        .expect("run portcullis");
    Run::from(out)
}

/// The policy is found like git finds its configuration: `portcullis.toml`,
/// then `.portcullis.toml`, in the directory checked and each one above it
/// up to the repository's root — never above it. The summary names it.
#[test]
fn the_policy_is_found_from_the_directory_up_to_the_repository_root() {
    let repo = Repo::new();
    // The lint plugin alone, strict about warnings: a large file fails it.
    let strict = "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n[plugins.lint.config]\nmax-file-kb = 1\n[gate]\nfail-at = \"warning\"\n";
    repo.git(&["init", "-q"]);
    repo.write("src/deep/big.txt", "x".repeat(4096))
        .write(".portcullis.toml", strict);
    let run = check_in(&repo, "src/deep");
    assert_eq!(
        run.code, 1,
        "the root's .portcullis.toml applies: {}{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stdout
            .trim_end()
            .ends_with(", policy ../../.portcullis.toml"),
        "{}",
        run.stdout
    );
    // portcullis.toml comes first in a directory; a nearer one wins.
    repo.write(
        "portcullis.toml",
        "[plugins.secrets]\nsource = \"builtin:secrets\"\nread = [\".\"]\n",
    );
    let run = check_in(&repo, "src/deep");
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .trim_end()
            .ends_with(", policy ../../portcullis.toml"),
        "{}",
        run.stdout
    );
    repo.write("src/.portcullis.toml", strict);
    let run = check_in(&repo, "src/deep");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(
        run.stdout
            .trim_end()
            .ends_with(", policy ../.portcullis.toml"),
        "{}",
        run.stdout
    );
}

/// A policy above the repository (another project's, or one planted in a
/// shared directory) is never used: the search stops at `.git`.
#[test]
fn a_policy_above_the_repository_is_never_used() {
    let outer = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        outer.path().join("portcullis.toml"),
        "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n[gate]\nfail-at = \"note\"\n[rules]\n\"lint/*\" = \"error\"\n",
    )
    .expect("write");
    let repo_dir = outer.path().join("repo");
    std::fs::create_dir_all(&repo_dir).expect("mkdir");
    let init = std::process::Command::new("git")
        .args(["init", "-q"])
        .current_dir(&repo_dir)
        .status()
        .expect("git init");
    assert!(init.success());
    std::fs::write(repo_dir.join("a.txt"), "text\n").expect("write");
    let cache = tempfile::tempdir().expect("cache");
    let out = std::process::Command::new(BIN)
        .args(["check", "."])
        .current_dir(&repo_dir)
        .env_remove("CI")
        .env("PORTCULLIS_CACHE_DIR", cache.path())
        .output()
        .expect("run portcullis");
    let run = Run::from(out);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.trim_end().ends_with(", policy builtin:default"),
        "{}{}",
        run.stdout,
        run.stderr
    );
}

/// Extending the default to add one exclude is three lines: the plugin
/// table merges into the default's (source, grants and config kept).
#[test]
fn extending_the_default_to_add_one_exclude_is_three_lines() {
    let repo = Repo::new();
    repo.write("vendor/big.yaml", "a: [\n")
        .write("src/ok.txt", "fine\n");
    assert_eq!(repo.run(&["check", "."]).code, 1, "the vendored file fails");
    repo.write(
        "portcullis.toml",
        "extends = [\"builtin:default\"]\n[plugins.lint.config]\nexclude = [\"vendor/**\"]\n",
    );
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    // The default's own config key still applies.
    repo.write("src/huge.txt", "x".repeat(501 * 1024));
    let run = repo.run(&["check", ".", "--format", "json"]);
    assert!(run.stdout.contains("lint/large-file"), "{}", run.stdout);
    // A table where the parent has a value: exit 2 naming both files.
    repo.write(
        "portcullis.toml",
        "extends = [\"builtin:default\"]\n[plugins.lint.config.max-file-kb]\nx = 1\n",
    );
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("portcullis.toml:2:1: config.max-file-kb is a table here and a value at builtin:default:"),
        "{}",
        run.stderr
    );
}
