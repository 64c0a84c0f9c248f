//! Mutation test of what the deps plugin reads: Cargo.lock (this
//! workspace's real one, a v3 one and a hand-made one) and `cargo metadata`
//! output (real, of a fixture crate), through the native harness with a
//! small advisory database. Every mutant is checked or refused with one
//! line naming the lockfile (and its line, where TOML breaks); none panics
//! or hangs.

use std::path::Path;

use portcullis_plugin_deps::Deps;
use portcullis_sdk::testing::mutants::Mutants;
use portcullis_sdk::testing::{Harness, write_tree};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");

fn database(root: &Path) {
    let advisory = "```toml\n[advisory]\nid = \"RUSTSEC-2021-0003\"\npackage = \"smallvec\"\ndate = 2021-01-01\nurl = \"https://rustsec.org/advisories/RUSTSEC-2021-0003\"\n[versions]\npatched = [\">= 1.6.1\"]\n```\n\n# Buffer overflow\n\nDetails.\n";
    write_tree(
        root,
        &[
            ("crates/smallvec/RUSTSEC-2021-0003.md", advisory),
            (".git/HEAD", "ref: refs/heads/main\n"),
        ],
    );
}

#[test]
fn cargo_lock_mutants() {
    let db = tempfile::tempdir().expect("db");
    database(db.path());
    let repo = tempfile::tempdir().expect("repo");
    let own = std::fs::read_to_string(format!("{ROOT}/Cargo.lock")).expect("Cargo.lock");
    // The first 120 packages keep a mutant small enough to read thousands.
    let cut = own
        .match_indices("\n[[package]]")
        .nth(120)
        .map_or(own.len(), |(i, _)| i);
    let small = format!("{}\n", &own[..cut]);
    let v3 = small.replacen("version = 4", "version = 3", 1);
    let words = [
        "[[package]]",
        "name",
        "version",
        "source",
        "checksum",
        "dependencies",
        "\"registry+https://github.com/rust-lang/crates.io-index\"",
        "\"1.0.0\"",
    ];
    Mutants::with_words("Cargo.lock", &[&small, &v3], 2_000, &words).check(
        |text| {
            std::fs::write(repo.path().join("Cargo.lock"), text).expect("write the mutant");
            Harness::new(repo.path())
                .mount("advisory-db", db.path())
                .config(serde_json::json!({"bans": {"duplicates": true}}))
                .run::<Deps>()
        },
        |_, message| {
            if message.starts_with("Cargo.lock:") || message.starts_with("Cargo.lock: ") {
                Ok(())
            } else {
                Err("does not name the lockfile".into())
            }
        },
    );
}

/// `cargo metadata` of the clippy fixture crate, run here (in a copy, so
/// the fixture gains no Cargo.lock).
#[test]
fn cargo_metadata_mutants() {
    let krate = tempfile::tempdir().expect("crate");
    let from = Path::new(ROOT).join("tests/fixtures/reports/clippy-demo");
    write_tree(
        krate.path(),
        &[
            (
                "Cargo.toml",
                std::fs::read_to_string(from.join("Cargo.toml")).expect("toml"),
            ),
            (
                "src/main.rs",
                std::fs::read_to_string(from.join("src/main.rs")).expect("main"),
            ),
        ],
    );
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .current_dir(krate.path())
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seed = String::from_utf8(out.stdout).expect("utf-8");
    let db = tempfile::tempdir().expect("db");
    database(db.path());
    let words = [
        "\"packages\"",
        "\"workspace_root\"",
        "\"license\"",
        "\"dependencies\"",
        "\"resolve\"",
        "\"MIT OR Apache-2.0\"",
        "\"GPL-3.0\"",
    ];
    Mutants::with_words("cargo metadata", &[&seed], 1_500, &words).check(
        |text| {
            Harness::new(krate.path())
                .mount("advisory-db", db.path())
                .cargo_metadata(text.to_string())
                .config(serde_json::json!({"licenses": {"allow": ["MIT", "Apache-2.0"]}}))
                .run::<Deps>()
        },
        |_, message| {
            let known = [
                "cargo metadata output",
                "Cargo.lock",
                "config.",
                "licenses are read",
                "cannot read ",
                "cargo metadata",
            ];
            if known.iter().any(|k| message.starts_with(k)) {
                Ok(())
            } else {
                Err("does not say what it could not read".into())
            }
        },
    );
}
