//! Precision and recall on a generated corpus (see `corpus/mod.rs`):
//! 14 planted secrets per rule (266) and 250 hard decoys.

#![allow(clippy::disallowed_macros)] // the figures are printed for the docs

mod generate;
use generate as corpus;

use portcullis_plugin_secrets::Secrets;
use portcullis_sdk::testing::Harness;

#[test]
fn recall_and_precision_meet_the_targets() {
    let mut total_tp = 0;
    let mut total_pos = 0;
    let mut total_findings = 0;
    let mut total_good = 0;
    for seed in [1, 2, 3] {
        let cases = corpus::generate(seed, 14, 250);
        let dir = tempfile::tempdir().expect("tempdir");
        corpus::write(&cases, dir.path());
        let eval = Harness::new(dir.path())
            .run::<Secrets>()
            .expect("evaluates");
        let mut missed = Vec::new();
        for c in &cases {
            let Some((rule, line)) = c.expect else {
                continue;
            };
            total_pos += 1;
            let found = eval.findings.iter().any(|f| {
                f.rule_id == rule
                    && f.locations[0].path == c.path
                    && f.locations[0].region.as_ref().map(|r| r.start_line) == Some(line)
            });
            if found {
                total_tp += 1;
            } else {
                missed.push(format!("{rule} in {}", c.path));
            }
        }
        let mut false_positives = Vec::new();
        for f in &eval.findings {
            total_findings += 1;
            let good = cases.iter().any(|c| {
                c.path == f.locations[0].path && c.expect.is_some_and(|(rule, _)| rule == f.rule_id)
            });
            if good {
                total_good += 1;
            } else {
                false_positives.push(format!(
                    "{} {}: {}",
                    f.rule_id, f.locations[0].path, f.message
                ));
            }
        }
        eprintln!("seed {seed}: missed {missed:?}\nfalse positives {false_positives:?}");
    }
    let recall = total_tp as f64 / total_pos as f64;
    let precision = total_good as f64 / total_findings as f64;
    eprintln!(
        "corpus: {total_pos} secrets, 750 decoy files; recall {recall:.3}, precision {precision:.3}"
    );
    assert!(recall >= 0.95, "recall {recall:.3}");
    assert!(precision >= 0.90, "precision {precision:.3}");
}

/// Write a corpus for the benchmark script: `PORTCULLIS_CORPUS_OUT=DIR
/// cargo test -p portcullis-plugin-secrets --test corpus -- --ignored`.
#[test]
#[ignore = "writes a corpus for scripts/bench-secrets"]
fn write_corpus() {
    let out = std::env::var("PORTCULLIS_CORPUS_OUT").expect("PORTCULLIS_CORPUS_OUT");
    let cases = corpus::generate(1, 14, 250);
    corpus::write(&cases, std::path::Path::new(&out));
    let expected: Vec<String> = cases
        .iter()
        .filter_map(|c| {
            c.expect
                .map(|(rule, line)| format!("{}\t{line}\t{rule}", c.path))
        })
        .collect();
    std::fs::write(format!("{out}.expected.tsv"), expected.join("\n") + "\n").expect("write");
}
