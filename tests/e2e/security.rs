//! The secrets and deps plugins through the real binary: the default policy,
//! mounts, fail-closed behaviour and redaction in every output.

use crate::common::*;

/// A GitHub token assembled at run time (this file holds none).
fn github_token() -> String {
    let body: String = "R4nd0mT0k3nV4lu3Qx9Lz2Wp7Ks5Hd8Jf1Mc3"
        .chars()
        .take(36)
        .collect();
    format!("{}_{body}", "ghp")
}

#[test]
fn the_default_policy_finds_secrets_and_never_prints_them() {
    let token = github_token();
    let repo = Repo::new();
    repo.write(".env", format!("LOG=info\nGH_TOKEN={token}\n"))
        .write("src/main.py", "print('hello')\n");
    let json_path = repo.path().join("out.json");
    let json_s = json_path.to_string_lossy().into_owned();
    let (run, sarif) = repo.check_sarif(&["--json", &json_s]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(rule_ids(&sarif), ["secrets/github-pat"]);
    let result = &results(&sarif)[0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        ".env"
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        2
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startColumn"],
        10
    );
    let rule = sarif["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .flat_map(|run| run["tool"]["driver"]["rules"].as_array().expect("rules"))
        .find(|r| r["id"] == "secrets/github-pat")
        .expect("rule")
        .clone();
    assert_eq!(rule["properties"]["security-severity"], "8.5");
    let json = std::fs::read_to_string(&json_path).expect("json");
    for (what, text) in [
        ("stdout", run.stdout.as_str()),
        ("stderr", run.stderr.as_str()),
        ("sarif", &sarif.to_string()),
        ("json", json.as_str()),
    ] {
        assert!(!text.contains(&token), "{what} holds the token");
        assert!(
            !text.contains(&token[12..]),
            "{what} holds most of the token"
        );
    }
    assert!(run.stdout.contains("ghp_R4nd…"), "{}", run.stdout);
}

/// A RustSec-format advisory.
fn advisory(id: &str, package: &str, patched: &str) -> String {
    format!(
        "```toml\n[advisory]\nid = \"{id}\"\npackage = \"{package}\"\ndate = 2021-01-01\ncvss = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\"\n\n[versions]\npatched = [\"{patched}\"]\n```\n\n# Memory corruption in {package}\n",
    )
}

fn lock(packages: &[(&str, &str)]) -> String {
    let mut s = String::from("version = 4\n");
    for (name, version) in packages {
        s.push_str(&format!(
            "\n[[package]]\nname = \"{name}\"\nversion = \"{version}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
        ));
    }
    s
}

#[test]
fn deps_reads_a_mounted_advisory_database_and_fails_closed_without_one() {
    let db = tempfile::tempdir().expect("db");
    let adv = db.path().join("crates/smallvec");
    std::fs::create_dir_all(&adv).expect("mkdir");
    std::fs::write(
        adv.join("RUSTSEC-2021-0003.md"),
        advisory("RUSTSEC-2021-0003", "smallvec", ">= 1.6.1"),
    )
    .expect("write");
    let repo = Repo::new();
    repo.write(
        "Cargo.lock",
        lock(&[("libc", "0.2.150"), ("smallvec", "1.6.0")]),
    );
    let policy = |db: &str, extra: &str| {
        format!(
            "[plugins.deps]\nsource = \"builtin:deps\"\nread = [\".\"]\n\n[plugins.deps.mounts]\nadvisory-db = \"{db}\"\n{extra}"
        )
    };
    let db_s = db.path().to_string_lossy().replace('\\', "/");
    repo.write("portcullis.toml", policy(&db_s, ""));
    let (run, sarif) = repo.check_sarif(&[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(rule_ids(&sarif), ["deps/advisory"]);
    let r = &results(&sarif)[0];
    assert_eq!(
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "Cargo.lock"
    );
    assert_eq!(
        r["locations"][0]["physicalLocation"]["region"]["startLine"],
        9
    );
    assert_eq!(r["properties"]["advisory-id"], "RUSTSEC-2021-0003");
    assert_eq!(r["properties"]["security-severity"], "9.8");

    // A git checkout: the index is kept in the plugin's cache, keyed by the
    // commit; a corrupted entry is treated as missing and rewritten.
    std::fs::create_dir_all(db.path().join(".git/refs/heads")).expect("mkdir");
    std::fs::write(db.path().join(".git/HEAD"), "ref: refs/heads/main\n").expect("write");
    std::fs::write(
        db.path().join(".git/refs/heads/main"),
        format!("{}\n", "a".repeat(40)),
    )
    .expect("write");
    let entries = |repo: &Repo| -> Vec<std::path::PathBuf> {
        let Ok(plugins) = std::fs::read_dir(repo.cache_dir().join("plugin-data")) else {
            return Vec::new();
        };
        plugins
            .flatten()
            .flat_map(|p| std::fs::read_dir(p.path()).expect("dir").flatten())
            .map(|e| e.path())
            .collect()
    };
    for round in 0..3 {
        let (run, sarif) = repo.check_sarif(&[]);
        assert_eq!(run.code, 1, "round {round}: {}", run.stderr);
        assert_eq!(rule_ids(&sarif), ["deps/advisory"], "round {round}");
        let stored = entries(&repo);
        assert_eq!(stored.len(), 1, "one index entry");
        if round == 1 {
            let mut bytes = std::fs::read(&stored[0]).expect("entry");
            let n = bytes.len();
            bytes[n - 2] ^= 0x55;
            std::fs::write(&stored[0], bytes).expect("corrupt");
        }
    }

    // Missing database, not optional: exit 2 saying how to get one.
    repo.write("portcullis.toml", policy("no-such-db", ""));
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("no advisory database at")
            && run
                .stderr
                .contains("git clone https://github.com/rustsec/advisory-db"),
        "{}",
        run.stderr
    );
    // Optional: a note, the gate passes.
    repo.write(
        "portcullis.toml",
        policy(
            "no-such-db",
            "\n[plugins.deps.config.advisories]\noptional = true\n",
        ),
    );
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("deps/advisory-db"), "{}", run.stdout);
    // A mount that is a file: exit 2 naming the policy line.
    repo.write("portcullis.toml", policy("Cargo.lock", ""));
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("portcullis.toml:6:15: mount `advisory-db`:")
            && run.stderr.contains("is not a directory"),
        "{}",
        run.stderr
    );
    // A bad mount name.
    repo.write(
        "portcullis.toml",
        policy("x", "").replace("advisory-db =", "\"Advisory DB\" ="),
    );
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("portcullis.toml:6:17: mount name `Advisory DB` must be"),
        "{}",
        run.stderr
    );
}

#[test]
fn the_default_policy_on_a_rust_project_notes_a_missing_database_and_caches_metadata() {
    let repo = Repo::new();
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n",
    )
    .write("src/main.rs", "fn main() {}\n")
    .write(".gitignore", "/target\n");
    let home = tempfile::tempdir().expect("cargo home");
    let home_s = home.path().to_string_lossy().into_owned();
    let env = [
        ("CARGO_HOME", home_s.as_str()),
        ("CARGO_NET_OFFLINE", "true"),
    ];
    let run = repo.run_env(&["check", ".", "--format", "json"], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let doc = run.json();
    let messages = finding_messages(&doc);
    assert!(
        messages.iter().any(|m| m.starts_with(&format!(
            "no advisory database at {home_s}/advisory-db: advisories were not checked"
        ))),
        "{messages:?}"
    );
    let cached = |repo: &Repo| {
        let dir = repo.cache_dir().join("cargo-metadata");
        std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
    };
    assert_eq!(cached(&repo), 1, "metadata is cached");
    // A changed manifest is a new key; the old entry stays unused.
    repo.write(
        "Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.2.0\"\nedition = \"2021\"\nlicense = \"MIT\"\n",
    );
    let run = repo.run_env(&["check", "."], &env);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(cached(&repo), 2);
}
