//! The gate as a table: levels × waivers × baseline × changed files ×
//! fail-at → verdict and counts.

use std::collections::BTreeSet;
use std::path::Path;

use super::*;
use crate::baseline::{Baseline, Entry};
use crate::failure::PluginFailure;
use crate::finding::{Finding, Location, RuleInfo};

fn finding(rule: &str, level: Level, path: &str) -> Finding {
    Finding {
        plugin: "p".into(),
        rule_id: format!("p/{rule}"),
        rule_index: 0,
        level,
        message: format!("{rule} in {path}"),
        locations: vec![Location {
            path: path.into(),
            region: None,
        }],
        fingerprint: format!("fp-{rule}-{path}"),
        properties: None,
        waived_by: None,
        baseline: None,
    }
}

fn run(findings: Vec<Finding>) -> PluginRun {
    let mut r = PluginRun::new("p");
    r.origin = "builtin:lint".into();
    r.rules = ["a", "b", "c"]
        .iter()
        .map(|id| RuleInfo {
            id: (*id).into(),
            name: (*id).into(),
            short_description: String::new(),
            full_description: String::new(),
            help_markdown: String::new(),
            default_level: Level::Warning,
            tags: Vec::new(),
            security_severity: None,
        })
        .collect();
    r.findings = findings;
    r
}

struct Case {
    name: &'static str,
    /// Appended to a policy with one plugin `p`.
    policy: &'static str,
    baseline: &'static [&'static str],
    changed: Option<&'static [&'static str]>,
    fail_at: Level,
    failed: bool,
    exit: Exit,
    /// error, warning, note, waived, baselined
    counts: [usize; 5],
    /// Rules of the host's run's findings.
    host: &'static [&'static str],
}

const WAIVER: &str = "[[waivers]]\nrule = \"p/a\"\nreason = \"r\"\nowner = \"o\"\n";

#[test]
fn judge_table() {
    // Findings in every case: p/a error in src/x, p/b warning in src/y,
    // p/c note in docs/z.
    let cases = [
        Case {
            name: "plain: an error fails at error",
            policy: "",
            baseline: &[],
            changed: None,
            fail_at: Level::Error,
            failed: false,
            exit: Exit::Fail,
            counts: [1, 1, 1, 0, 0],
            host: &[],
        },
        Case {
            name: "the error turned off passes",
            policy: "[rules]\n\"p/a\" = \"off\"\n",
            baseline: &[],
            changed: None,
            fail_at: Level::Error,
            failed: false,
            exit: Exit::Pass,
            counts: [0, 1, 1, 0, 0],
            host: &[],
        },
        Case {
            name: "a glob lowers, an exact id raises",
            policy: "[rules]\n\"p/*\" = \"note\"\n\"p/b\" = \"error\"\n",
            baseline: &[],
            changed: None,
            fail_at: Level::Error,
            failed: false,
            exit: Exit::Fail,
            counts: [1, 0, 2, 0, 0],
            host: &[],
        },
        Case {
            name: "fail-at warning fails on the warning alone",
            policy: "[rules]\n\"p/a\" = \"note\"\n",
            baseline: &[],
            changed: None,
            fail_at: Level::Warning,
            failed: false,
            exit: Exit::Fail,
            counts: [0, 1, 2, 0, 0],
            host: &[],
        },
        Case {
            name: "an active waiver excuses the error",
            policy: "expires = 2099-01-01\n",
            baseline: &[],
            changed: None,
            fail_at: Level::Error,
            failed: false,
            exit: Exit::Pass,
            counts: [0, 1, 1, 1, 0],
            host: &[],
        },
        Case {
            name: "an expired waiver excuses nothing and says so",
            policy: "expires = 2000-01-01\n",
            baseline: &[],
            changed: None,
            fail_at: Level::Error,
            failed: false,
            exit: Exit::Fail,
            counts: [1, 2, 1, 0, 0],
            host: &["portcullis/waiver-expired"],
        },
        Case {
            name: "a waiver that matches nothing is unused (warning, fails at warning)",
            policy: "expires = 2099-01-01\n[rules]\n\"p/a\" = \"off\"\n",
            baseline: &[],
            changed: None,
            fail_at: Level::Warning,
            failed: false,
            exit: Exit::Fail,
            counts: [0, 2, 1, 0, 0],
            host: &["portcullis/waiver-unused"],
        },
        Case {
            name: "the host's rules take policy levels too",
            policy: "expires = 2099-01-01\n[rules]\n\"p/a\" = \"off\"\n\"portcullis/waiver-unused\" = \"note\"\n",
            baseline: &[],
            changed: None,
            fail_at: Level::Warning,
            failed: false,
            exit: Exit::Fail,
            counts: [0, 1, 2, 0, 0],
            host: &["portcullis/waiver-unused"],
        },
        Case {
            name: "an unused waiver is not reported when a plugin failed",
            policy: "expires = 2099-01-01\n[rules]\n\"p/a\" = \"off\"\n",
            baseline: &[],
            changed: None,
            fail_at: Level::Error,
            failed: true,
            exit: Exit::Error,
            counts: [0, 1, 1, 0, 0],
            host: &[],
        },
        Case {
            name: "the baseline holds the error",
            policy: "",
            baseline: &["p/a"],
            changed: None,
            fail_at: Level::Error,
            failed: false,
            exit: Exit::Pass,
            counts: [0, 1, 1, 0, 1],
            host: &[],
        },
        Case {
            name: "waived and in the baseline counts as waived",
            policy: "expires = 2099-01-01\n",
            baseline: &["p/a"],
            changed: None,
            fail_at: Level::Error,
            failed: false,
            exit: Exit::Pass,
            counts: [0, 1, 1, 1, 0],
            host: &[],
        },
        Case {
            name: "only changed files count",
            policy: "",
            baseline: &[],
            changed: Some(&["src/y", "docs/z"]),
            fail_at: Level::Error,
            failed: false,
            exit: Exit::Pass,
            counts: [0, 1, 1, 0, 0],
            host: &[],
        },
        Case {
            name: "a waiver used outside the changed files is not unused",
            policy: "expires = 2099-01-01\n",
            baseline: &[],
            changed: Some(&["docs/z"]),
            fail_at: Level::Note,
            failed: false,
            exit: Exit::Fail,
            counts: [0, 0, 1, 0, 0],
            host: &[],
        },
        Case {
            name: "a failed plugin is exit 2 whatever else",
            policy: "[rules]\n\"p/*\" = \"off\"\n",
            baseline: &[],
            changed: None,
            fail_at: Level::Error,
            failed: true,
            exit: Exit::Error,
            counts: [0, 0, 0, 0, 0],
            host: &[],
        },
    ];
    for case in cases {
        let text = if case.policy.starts_with("expires") {
            format!(
                "[plugins.p]\nsource = \"builtin:lint\"\n{WAIVER}{}",
                case.policy
            )
        } else {
            format!("[plugins.p]\nsource = \"builtin:lint\"\n{}", case.policy)
        };
        let policy = Policy::parse(&text, "p.toml", None).expect(case.name);
        let mut r = run(vec![
            finding("a", Level::Error, "src/x"),
            finding("b", Level::Warning, "src/y"),
            finding("c", Level::Note, "docs/z"),
        ]);
        if case.failed {
            r.failure = Some(PluginFailure::Timeout(5));
        }
        let baseline = Baseline {
            version: 1,
            findings: case
                .baseline
                .iter()
                .map(|rule| {
                    let f = r
                        .findings
                        .iter()
                        .find(|f| f.rule_id == *rule)
                        .expect("rule");
                    Entry {
                        rule_id: f.rule_id.clone(),
                        fingerprint: f.fingerprint.clone(),
                        level: f.level,
                        message: f.message.clone(),
                        path: None,
                        line: None,
                    }
                })
                .collect(),
        };
        let changed: Option<BTreeSet<String>> = case
            .changed
            .map(|c| c.iter().map(|s| (*s).to_string()).collect());
        let j = judge(
            &policy,
            vec![r],
            GateInputs {
                baseline: (!case.baseline.is_empty()).then_some(&baseline),
                changed: changed.as_ref().map(|c| ("HEAD", c)),
                today: Date::parse("2026-06-01").expect("date"),
                fail_at: case.fail_at,
                root: Path::new("/nonexistent"),
            },
        );
        let c = j.verdict.counts;
        assert_eq!(
            (
                j.verdict.exit,
                [c.error, c.warning, c.note, c.waived, c.baselined]
            ),
            (case.exit, case.counts),
            "{}",
            case.name
        );
        let host: Vec<&str> = j
            .runs
            .iter()
            .filter(|r| r.is_host())
            .flat_map(|r| r.findings.iter().map(|f| f.rule_id.as_str()))
            .collect();
        assert_eq!(host, case.host, "{}", case.name);
    }
}

#[test]
fn changed_files_drop_findings_with_a_notice_and_keep_locationless_ones() {
    let policy =
        Policy::parse("[plugins.p]\nsource = \"builtin:lint\"\n", "p.toml", None).expect("policy");
    let mut no_location = finding("a", Level::Error, "x");
    no_location.locations.clear();
    let changed: BTreeSet<String> = ["src/y".to_string()].into();
    let j = judge(
        &policy,
        vec![run(vec![
            no_location,
            finding("a", Level::Error, "src/x"),
            finding("b", Level::Warning, "src/y"),
        ])],
        GateInputs {
            baseline: None,
            changed: Some(("main", &changed)),
            today: Date::parse("2026-06-01").expect("date"),
            fail_at: Level::Error,
            root: Path::new("/nonexistent"),
        },
    );
    assert_eq!(j.runs[0].findings.len(), 2);
    assert_eq!(
        j.verdict.exit,
        Exit::Fail,
        "the located-nowhere error counts"
    );
    assert_eq!(
        j.notices,
        ["1 findings in files unchanged since main are not shown"]
    );
}

/// Narrowed to changed files, plugins look at no other file: a baseline
/// entry elsewhere is not "fixed", nor is a waiver elsewhere "unused".
#[test]
fn a_narrowed_run_says_nothing_of_files_it_did_not_look_at() {
    let policy = Policy::parse(
        "[plugins.p]\nsource = \"builtin:lint\"\n[[waivers]]\nrule = \"p/a\"\npaths = [\"old/x\"]\nreason = \"r\"\nowner = \"o\"\nexpires = 2030-01-01\n",
        "p.toml",
        None,
    )
    .expect("policy");
    let entry = |path: &str| Entry {
        rule_id: "p/a".into(),
        fingerprint: format!("fp-a-{path}"),
        level: Level::Error,
        message: "m".into(),
        path: Some(path.into()),
        line: None,
    };
    let baseline = Baseline {
        version: 1,
        findings: vec![entry("old/x"), entry("src/y")],
    };
    let changed: BTreeSet<String> = ["src/y".to_string()].into();
    let judge_with = |changed: Option<(&'static str, &BTreeSet<String>)>| {
        judge(
            &policy,
            vec![run(Vec::new())],
            GateInputs {
                baseline: Some(&baseline),
                changed,
                today: Date::parse("2026-06-01").expect("date"),
                fail_at: Level::Error,
                root: Path::new("/nonexistent"),
            },
        )
    };
    let narrowed = judge_with(Some(("main", &changed)));
    let absent: Vec<_> = narrowed.absent.iter().map(|e| e.path.clone()).collect();
    assert_eq!(
        absent,
        [Some("src/y".to_string())],
        "only a changed file's entry is fixed"
    );
    assert!(
        narrowed.runs.iter().all(|r| r.findings.is_empty()),
        "no waiver-unused on a narrowed run"
    );
    let whole = judge_with(None);
    assert_eq!(whole.absent.len(), 2);
    assert!(
        whole
            .runs
            .iter()
            .flat_map(|r| &r.findings)
            .any(|f| f.rule_id == "portcullis/waiver-unused"),
        "a whole run says the waiver matched nothing"
    );
}
