//! Golden files for every stdout format, on one repository with findings of
//! each level, a waiver and a baseline. Volatile parts (timings, digests,
//! the temporary path, timestamps) are replaced by placeholders.
//! `PORTCULLIS_BLESS=1 cargo test --release -p portcullis --test e2e golden`
//! rewrites the files after an intended change; review the diff.

use crate::common::*;

fn repo() -> Repo {
    let repo = Repo::new();
    repo.write("src/lib.rs", format!("fn a() {{}}\n{} HEAD\n", "<".repeat(7)))
        .write("config/app.yaml", "a: [\n")
        .write("assets/big.bin", vec![b'a'; 600 * 1024])
        .write("docs/old.json", "{")
        .write(
            "portcullis.toml",
            "[gate]\nfail-at = \"warning\"\n\n[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n\n[rules]\n\"lint/invalid-yaml\" = \"note\"\n\n\
             [[waivers]]\nrule = \"lint/large-file\"\npaths = [\"assets/**\"]\nreason = \"artwork, moving to LFS\"\nowner = \"design@example.com\"\nexpires = 2026-12-01\n",
        );
    repo
}

fn normalize(text: &str, repo: &Repo) -> String {
    let root = repo
        .path()
        .canonicalize()
        .expect("root")
        .to_string_lossy()
        .into_owned();
    let mut out = text.replace(&root, "@@ROOT@@");
    for (key, placeholder) in [(" in ", " s"), ("time=\"", "\"")] {
        out = replace_values(&out, key, placeholder);
    }
    out
}

/// The JSON report with its volatile fields zeroed, still valid JSON.
fn normalize_json(text: &str, repo: &Repo) -> String {
    let mut doc: serde_json::Value = serde_json::from_str(text).expect("json");
    doc["elapsed_ms"] = 0.into();
    doc["repository"] = "…".into();
    doc["branch"] = "…".into();
    for p in doc["plugins"].as_array_mut().expect("plugins") {
        p["duration_ms"] = 0.into();
        p["evaluate_ms"] = 0.into();
        p["compile_cached"] = false.into();
        if p["sha256"].is_string() {
            p["sha256"] = "…".into();
        }
    }
    normalize(
        &(serde_json::to_string_pretty(&doc).expect("json") + "\n"),
        repo,
    )
}

/// Replace what follows each `key` up to the next `end` with `…`.
fn replace_values(text: &str, key: &str, end: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(key) {
        let after = &rest[i + key.len()..];
        let Some(j) = after.find(end) else { break };
        let value = &after[..j];
        // Only numbers, digests and booleans are volatile.
        if value
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == '.' || c.is_ascii_alphabetic())
            && !value.is_empty()
            && value.len() <= 64
        {
            out.push_str(&rest[..i + key.len()]);
            out.push('…');
            rest = &after[j..];
        } else {
            out.push_str(&rest[..i + key.len()]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn golden(name: &str, actual: &str) {
    let path = fixtures().join("golden").join(name);
    if std::env::var_os("PORTCULLIS_BLESS").is_some() {
        std::fs::write(&path, actual).expect("bless");
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with PORTCULLIS_BLESS=1)", path.display()));
    assert!(
        expected == actual,
        "{name} differs from its golden file:\n--- expected\n{expected}\n--- actual\n{actual}"
    );
}

#[test]
fn every_format_matches_its_golden_file() {
    let repo = repo();
    let baseline = repo
        .path()
        .join("baseline.json")
        .to_string_lossy()
        .into_owned();
    // The baseline holds today's docs/old.json finding only.
    repo.write("src/lib.rs", "fn a() {}\n")
        .write("config/app.yaml", "a: []\n");
    assert_eq!(
        repo.run_env(
            &["check", "--write-baseline", &baseline],
            &[("PORTCULLIS_TODAY", "2026-11-22")]
        )
        .code,
        1
    );
    let repo2 = repo;
    repo2
        .write(
            "src/lib.rs",
            format!("fn a() {{}}\n{} HEAD\n", "<".repeat(7)),
        )
        .write("config/app.yaml", "a: [\n");
    for (format, file) in [
        ("human", "human.txt"),
        ("json", "json.json"),
        ("github", "github.txt"),
        ("gitlab", "gitlab.json"),
        ("junit", "junit.xml"),
    ] {
        let run = repo2.run_env(
            &[
                "check",
                "--format",
                format,
                "--color",
                "never",
                "--baseline",
                &baseline,
            ],
            &[("PORTCULLIS_TODAY", "2026-11-22")],
        );
        assert_eq!(run.code, 1, "{format}: {}", run.stderr);
        let text = if format == "json" {
            normalize_json(&run.stdout, &repo2)
        } else {
            normalize(&run.stdout, &repo2)
        };
        golden(file, &text);
    }
}

/// SARIF with its volatile fields (timestamps, the temporary root) fixed,
/// as a JSON value: key order is the writer's business, content is not.
fn normalize_sarif(text: &str, repo: &Repo) -> serde_json::Value {
    let mut doc: serde_json::Value =
        serde_json::from_str(&normalize(text, repo)).expect("sarif json");
    for run in doc["runs"].as_array_mut().expect("runs") {
        for inv in run["invocations"].as_array_mut().expect("invocations") {
            inv["startTimeUtc"] = "…".into();
            inv["endTimeUtc"] = "…".into();
        }
        // The built-in component's digest changes with its code.
        let driver = &mut run["tool"]["driver"];
        if let Some(sha) = driver["properties"]["portcullis/sha256"]
            .as_str()
            .map(String::from)
        {
            driver["properties"]["portcullis/sha256"] = "…".into();
            let full = driver["fullName"]
                .as_str()
                .unwrap_or_default()
                .replace(&sha, "…");
            driver["fullName"] = full.into();
        }
    }
    doc
}

#[test]
fn sarif_matches_its_golden_file() {
    let repo = repo();
    let baseline = repo.path().join("baseline.json");
    let sarif = repo.path().join("out.sarif");
    // The baseline holds today's docs/old.json finding only.
    repo.write("src/lib.rs", "fn a() {}\n")
        .write("config/app.yaml", "a: []\n");
    let today = [("PORTCULLIS_TODAY", "2026-11-22")];
    let b = baseline.to_string_lossy().into_owned();
    assert_eq!(
        repo.run_env(&["check", "--write-baseline", &b], &today)
            .code,
        1
    );
    repo.write(
        "src/lib.rs",
        format!("fn a() {{}}\n{} HEAD\n", "<".repeat(7)),
    )
    .write("config/app.yaml", "a: [\n")
    .write("docs/old.json", "{}");
    let s = sarif.to_string_lossy().into_owned();
    let run = repo.run_env(&["check", "--baseline", &b, "--sarif", &s], &today);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let text = std::fs::read_to_string(&sarif).expect("sarif written");
    assert_valid_sarif(&serde_json::from_str(&text).expect("sarif json"));
    let actual = normalize_sarif(&text, &repo);
    let path = fixtures().join("golden").join("sarif.json");
    if std::env::var_os("PORTCULLIS_BLESS").is_some() {
        let pretty = serde_json::to_string_pretty(&actual).expect("json") + "\n";
        std::fs::write(&path, pretty).expect("bless");
        return;
    }
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with PORTCULLIS_BLESS=1)", path.display())),
    )
    .expect("golden sarif");
    assert!(
        expected == actual,
        "SARIF differs from its golden file:\n--- expected\n{expected:#}\n--- actual\n{actual:#}"
    );
}
