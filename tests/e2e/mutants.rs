//! Mutation test of the host's own parsers: policies (the shipped ones and
//! the README's example) and baselines (written by the binary here), in
//! process — thousands of mutants in seconds — and a sample of them through
//! the real binary, where each ends in exit 0, 1 or 2 and every line of an
//! exit 2 names its file and line.

use std::path::Path;

use portcullis::baseline::Baseline;
use portcullis::policy::Policy;
use portcullis_sdk::testing::mutants::{Mutants, json_located};

use crate::common::*;

const POLICY_WORDS: &[&str] = &[
    "[plugins.x]",
    "[[waivers]]",
    "[rules]",
    "[gate]",
    "[reports.r]",
    "extends",
    "source",
    "\"builtin:lint\"",
    "\"builtin:default\"",
    "sha256",
    "read",
    "mounts",
    "config",
    "locked",
    "fail-at",
    "\"error\"",
    "\"off\"",
    "expires",
    "owner",
    "reason",
    "rule",
    "paths",
    "timeout-ms",
    "memory-mb",
    "2099-01-01",
    "\"lint/*\"",
    "locked-waivers",
];

fn policy_seeds() -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read =
        |p: &str| std::fs::read_to_string(root.join(p)).unwrap_or_else(|e| panic!("{p}: {e}"));
    let readme = read("README.md");
    // The README's annotated example policy.
    let example = readme
        .split("```toml\n")
        .filter_map(|b| b.split("```").next())
        .find(|b| b.contains("[plugins.lint]") && b.contains("[[waivers]]"))
        .expect("the README's example policy")
        .to_string();
    vec![
        read("policies/default.toml"),
        read("policies/rego.toml"),
        example,
    ]
}

/// What a policy as a whole lacks has no line to point at; everything
/// else does.
const WHOLE_FILE: &[&str] = &["p.toml: no plugins:"];

/// Every line of a rejected policy names `p.toml` and a line (or is about
/// the whole file).
fn located(message: &str) -> Result<(), String> {
    for line in message.lines() {
        if WHOLE_FILE.iter().any(|w| line.starts_with(w)) {
            continue;
        }
        let rest = line
            .strip_prefix("p.toml:")
            .ok_or("a line does not name the policy")?;
        let number = rest.split(':').next().unwrap_or("");
        if number.parse::<usize>().is_err() {
            return Err(format!("a line names no line number: {line}"));
        }
    }
    Ok(())
}

#[test]
fn policy_mutants_in_process() {
    let seeds = policy_seeds();
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    Mutants::with_words("policy", &seeds, 4_000, POLICY_WORDS).check(
        |text| match Policy::parse(text, "p.toml", Some(dir.path().to_path_buf())) {
            Ok(_) => Ok(()),
            Err(e) => {
                let all = e.to_string();
                // Each line is checked; the first stands for the rejection.
                match located(&all) {
                    Ok(()) => Err(all.lines().next().unwrap_or_default().to_string()),
                    Err(why) => Err(format!("UNLOCATED ({why}): {}", all.replace('\n', " | "))),
                }
            }
        },
        |_, message| {
            if message.starts_with("UNLOCATED") {
                Err("not every line is located".into())
            } else {
                Ok(())
            }
        },
    );
}

#[test]
fn baseline_mutants_in_process() {
    let repo = Repo::new();
    repo.write("notes.json", "{\"a\": 1,}\n")
        .write("b.json", "[1, 2\n")
        .write("big.txt", "x".repeat(2 << 20));
    let run = repo.run(&["check", "--write-baseline", "baseline.json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let seed = std::fs::read_to_string(repo.path().join("baseline.json")).expect("baseline");
    assert!(seed.contains("lint/invalid-json"), "{seed}");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("b.json");
    let words = [
        "\"version\"",
        "\"findings\"",
        "\"rule_id\"",
        "\"fingerprint\"",
        "\"level\"",
        "\"warning\"",
        "\"path\"",
        "\"line\"",
    ];
    Mutants::with_words("baseline", &[&seed], 3_000, &words).check(
        |text| {
            std::fs::write(&file, text).expect("write the mutant");
            Baseline::load(&file).map_err(|e| e.to_string())
        },
        |text, message| {
            let shown = file.display().to_string();
            if !message.starts_with(&shown) {
                return Err("does not name the baseline".into());
            }
            json_located(&shown, text, message)
        },
    );
}

/// A sample of the policy mutants through the binary: the gate's exit code
/// is 0, 1 or 2, never a crash; an exit 2 is one or more lines on stderr,
/// each `portcullis: ` and located, and nothing on stdout claims a pass.
#[test]
fn policy_mutants_through_the_binary() {
    let seeds = policy_seeds();
    let seeds: Vec<&str> = seeds.iter().map(String::as_str).collect();
    let repo = Repo::new();
    repo.write("a.txt", "text\n");
    let mutants = Mutants::with_words("policy (binary)", &seeds, 120, POLICY_WORDS);
    let (mut exits, mut refused) = ([0usize; 3], 0usize);
    for (i, text) in mutants.texts().iter().enumerate() {
        repo.write("p.toml", text);
        let run = repo.run(&["check", "--policy", "p.toml", "."]);
        assert!(
            (0..=2).contains(&run.code),
            "mutant {i}: exit {}: {}\n{text}",
            run.code,
            run.stderr
        );
        exits[run.code as usize] += 1;
        if run.code == 2 {
            refused += 1;
            assert!(
                !run.stderr.trim().is_empty(),
                "mutant {i}: exit 2 with nothing said"
            );
            assert!(
                !run.stderr.contains("panicked"),
                "mutant {i}: {}",
                run.stderr
            );
            assert!(
                !run.stdout.contains("gate passed"),
                "mutant {i}: {}",
                run.stdout
            );
        }
    }
    assert!(refused > 0);
    let _ = exits;
}
