//! Results kept between runs (the SDK's `memo`, the deps plugin's facts):
//! a warm run reports exactly what a cold one does, and a change of any
//! file's content is judged anew.

use crate::common::*;
use crate::security::github_token;

/// `(rule, path, line)` of each finding, sorted.
fn found(run: &Run) -> Vec<(String, String, u64)> {
    let doc = run.json();
    let mut v: Vec<(String, String, u64)> = doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let at = &f["locations"][0];
            (
                f["rule_id"].as_str().expect("rule").to_string(),
                at["path"].as_str().unwrap_or("").to_string(),
                at["region"]["startLine"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    v.sort();
    v
}

/// Lines that make a file big enough for its results to be kept (the SDK
/// reads files under 1 KiB on every run).
fn padding() -> String {
    "# nothing to see on this line\n".repeat(40)
}

/// A repository with enough files for the plugins to keep per-file
/// results (the SDK reads every file when fewer than 32 are kept).
fn many_files() -> Repo {
    let repo = Repo::new();
    for i in 0..40 {
        repo.write(&format!("src/f{i}.txt"), format!("line {i}\n{}", padding()));
    }
    repo
}

fn check(repo: &Repo) -> Run {
    let run = repo.run(&["check", ".", "--format", "json"]);
    assert!(run.code <= 1, "{}\n{}", run.stdout, run.stderr);
    run
}

#[test]
fn kept_results_follow_every_change_of_content() {
    let token = github_token();
    let repo = many_files();
    repo.write(".env", format!("LOG=info\nGH_TOKEN={token}\n{}", padding()));
    let cold = check(&repo);
    assert_eq!(cold.code, 1);
    let secret = ("secrets/github-pat".to_string(), ".env".to_string(), 2);
    assert_eq!(found(&cold), std::slice::from_ref(&secret));
    assert!(
        repo.cache_dir().join("plugin-data").is_dir(),
        "results are kept"
    );
    // Warm: the same findings, replayed from the store.
    let warm = check(&repo);
    assert_eq!(found(&warm), found(&cold));
    assert_eq!(warm.code, 1);

    // The secret removed: gone; put back: found again.
    repo.write(".env", format!("LOG=info\n{}", padding()));
    assert_eq!(found(&check(&repo)), []);
    repo.write(".env", format!("LOG=info\nGH_TOKEN={token}\n{}", padding()));
    assert_eq!(found(&check(&repo)), std::slice::from_ref(&secret));

    // The same content under another path is that path's finding too.
    repo.write(
        "config/copy.env",
        format!("LOG=info\nGH_TOKEN={token}\n{}", padding()),
    );
    let both = found(&check(&repo));
    assert!(
        both.contains(&secret)
            && both.contains(&(
                "secrets/github-pat".to_string(),
                "config/copy.env".to_string(),
                2
            )),
        "{both:?}"
    );

    // A conflict marker in a file judged clean before.
    repo.write("src/f3.txt", format!("line 3\n<<<<<<< HEAD\n{}", padding()));
    let marker = (
        "lint/merge-conflict".to_string(),
        "src/f3.txt".to_string(),
        2,
    );
    assert!(found(&check(&repo)).contains(&marker));
    repo.write("src/f3.txt", format!("line 3\n{}", padding()));
    assert!(!found(&check(&repo)).contains(&marker));
}

#[test]
fn a_damaged_store_is_recomputed_and_no_store_gives_the_same_findings() {
    let token = github_token();
    let repo = many_files();
    repo.write(".env", format!("GH_TOKEN={token}\n{}", padding()))
        .write("src/f7.txt", format!("<<<<<<< HEAD\n{}", padding()));
    let cold = found(&check(&repo));
    assert_eq!(cold.len(), 2, "{cold:?}");
    // Every stored entry damaged: a miss, never a wrong answer.
    let mut damaged = 0;
    for plugin in std::fs::read_dir(repo.cache_dir().join("plugin-data")).expect("store") {
        for entry in std::fs::read_dir(plugin.expect("dir").path()).expect("entries") {
            let path = entry.expect("entry").path();
            let mut bytes = std::fs::read(&path).expect("read");
            let last = bytes.len() - 2;
            bytes[last] ^= 0x20;
            std::fs::write(&path, bytes).expect("write");
            damaged += 1;
        }
    }
    assert!(damaged >= 2, "lint's and secrets' results were stored");
    assert_eq!(found(&check(&repo)), cold);
    assert_eq!(found(&check(&repo)), cold, "and stored again");
    let off = repo.run_env(
        &["check", ".", "--format", "json"],
        &[("PORTCULLIS_CACHE_DIR", "off")],
    );
    assert_eq!(found(&off), cold);
}
