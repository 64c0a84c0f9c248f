//! Approval-rule semantics, each predicate and option, composition, stale
//! approvals, self-approval and vetoes, through the native harness with
//! pull-request context in each accepted format.

use portcullis_plugin_approvals::Approvals;
use portcullis_sdk::testing::{Harness, write_tree};
use portcullis_sdk::{Evaluation, ReportFormat};
use serde_json::{Value, json};

const HEAD: &str = "cccccccccccccccccccccccccccccccccccccccc";
const OLD: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const MID: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn review(user: &str, state: &str, commit: &str, at: &str) -> Value {
    json!({"user": user, "state": state, "commit": commit, "submitted_at": at})
}

/// A pull request by alice to main changing `files`, with `reviews`.
fn pr(files: &[&str], labels: &[&str], reviews: Vec<Value>) -> Value {
    json!({
        "author": "alice",
        "labels": labels,
        "base": "main",
        "head": "feature",
        "head_sha": HEAD,
        "files": files.iter().map(|f| json!({"path": f, "status": "modified"})).collect::<Vec<_>>(),
        "commits": [
            {"sha": OLD, "author": "alice"},
            {"sha": MID, "author": "alice"},
            {"sha": HEAD, "author": "fmt-bot"},
        ],
        "reviews": reviews,
    })
}

fn run_with(
    files: &[(&str, String)],
    config: Value,
    reports: &[(&str, ReportFormat)],
) -> Result<Evaluation, String> {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(dir.path(), files);
    let mut h = Harness::new(dir.path()).config(config);
    for (path, format) in reports {
        h = h.report("pr", *format, path);
    }
    h.run::<Approvals>()
}

fn run(context: Value, config: Value, codeowners: Option<&str>) -> Evaluation {
    let mut files = vec![("pr.json", context.to_string())];
    if let Some(co) = codeowners {
        files.push((".github/CODEOWNERS", co.to_string()));
    }
    run_with(&files, config, &[("pr.json", ReportFormat::PrContext)]).expect("evaluates")
}

/// (rule id, message) of each finding.
fn found(e: &Evaluation) -> Vec<(String, String)> {
    e.findings
        .iter()
        .map(|f| (f.rule_id.clone(), f.message.clone()))
        .collect()
}

fn ids(e: &Evaluation) -> Vec<String> {
    e.findings.iter().map(|f| f.rule_id.clone()).collect()
}

fn rule(name: &str, extra: Value) -> Value {
    let mut r = json!({"name": name});
    if let (Some(o), Some(e)) = (r.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    r
}

#[test]
fn each_predicate_decides_whether_a_rule_applies() {
    let needs_bob = |predicate: Value| json!({"teams": {"org/leads": ["alice"]}, "rules": [rule("r", json!({"if": predicate, "requires": {"users": ["bob"]}}))]});
    let cases: &[(Value, bool, &str)] = &[
        (json!({}), true, "no predicate: always applies"),
        (
            json!({"changed-files": ["deploy/**"]}),
            true,
            "a changed file matches",
        ),
        (
            json!({"changed-files": ["docs/**"]}),
            false,
            "no changed file matches",
        ),
        (
            json!({"author-in": {"users": ["alice"]}}),
            true,
            "author listed",
        ),
        (
            json!({"author-in": {"teams": ["org/leads"]}}),
            true,
            "author in a team",
        ),
        (
            json!({"author-in": {"users": ["carol"]}}),
            false,
            "author not listed",
        ),
        (
            json!({"labels": ["release", "other"]}),
            true,
            "one label present",
        ),
        (json!({"labels": ["hotfix"]}), false, "label absent"),
        (
            json!({"target-branch": ["main", "release/*"]}),
            true,
            "base branch matches",
        ),
        (
            json!({"target-branch": ["release/*"]}),
            false,
            "base branch does not match",
        ),
        (
            json!({"changed-files": ["deploy/**"], "labels": ["hotfix"]}),
            false,
            "every condition must hold",
        ),
    ];
    for (predicate, applies, why) in cases {
        let e = run(
            pr(&["deploy/app.yaml"], &["release"], vec![]),
            needs_bob(predicate.clone()),
            None,
        );
        assert_eq!(
            ids(&e) == ["rule-pending"],
            *applies,
            "{why}: {:?}",
            found(&e)
        );
    }
}

#[test]
fn requirements_count_and_who_may_approve() {
    let cfg = |requires: Value, options: Value| json!({"teams": {"org/sre": ["bob", "carol"]}, "rules": [rule("deploy", json!({"requires": requires, "options": options}))]});
    let approvals = |users: &[&str]| -> Vec<Value> {
        users
            .iter()
            .map(|u| review(u, "APPROVED", HEAD, "2026-11-01T10:00:00Z"))
            .collect()
    };
    let cases: &[(Value, Value, &[&str], bool, &str)] = &[
        (
            json!({"count": 1}),
            json!({}),
            &["dave"],
            true,
            "no users or teams: anyone",
        ),
        (
            json!({"count": 2, "teams": ["org/sre"]}),
            json!({}),
            &["bob"],
            false,
            "one of two",
        ),
        (
            json!({"count": 2, "teams": ["org/sre"]}),
            json!({}),
            &["bob", "carol"],
            true,
            "two of two",
        ),
        (
            json!({"teams": ["org/sre"]}),
            json!({}),
            &["dave"],
            false,
            "dave is not in the team",
        ),
        (
            json!({"users": ["dave"]}),
            json!({}),
            &["dave"],
            true,
            "a listed user",
        ),
        (
            json!({"users": ["alice"]}),
            json!({}),
            &["alice"],
            false,
            "self-approval does not count",
        ),
        (
            json!({"users": ["alice"]}),
            json!({"allow-author": true}),
            &["alice"],
            true,
            "unless allow-author",
        ),
        (
            json!({"count": 1}),
            json!({}),
            &["alice"],
            false,
            "anyone but the author",
        ),
    ];
    for (requires, options, users, pass, why) in cases {
        let e = run(
            pr(&["a.rs"], &[], approvals(users)),
            cfg(requires.clone(), options.clone()),
            None,
        );
        assert_eq!(e.findings.is_empty(), *pass, "{why}: {:?}", found(&e));
    }
    let e = run(
        pr(&["a.rs"], &[], approvals(&["bob"])),
        cfg(json!({"count": 2, "teams": ["org/sre"]}), json!({})),
        None,
    );
    assert_eq!(
        found(&e),
        [(
            "rule-pending".to_string(),
            "rule `deploy` needs 2 approval(s), has 1 (bob); 1 missing, from: carol".to_string()
        )]
    );
}

#[test]
fn stale_approvals_latest_decisions_and_vetoes() {
    let cfg = |options: Value| json!({"rules": [rule("r", json!({"requires": {"users": ["bob", "carol"]}, "options": options}))]});
    let stale = vec![review("bob", "APPROVED", OLD, "2026-11-01T10:00:00Z")];
    let on_mid = vec![review("bob", "APPROVED", MID, "2026-11-01T10:00:00Z")];
    let cases: &[(Vec<Value>, Value, bool, &str)] = &[
        (
            stale.clone(),
            json!({}),
            true,
            "approvals survive pushes by default",
        ),
        (
            stale.clone(),
            json!({"invalidate-on-push": true}),
            false,
            "an approval of an older commit does not count",
        ),
        (
            on_mid.clone(),
            json!({"invalidate-on-push": true}),
            false,
            "the head commit came after it",
        ),
        (
            on_mid,
            json!({"invalidate-on-push": true, "ignore-edited-by": {"users": ["fmt-bot"]}}),
            true,
            "only the ignored bot pushed since",
        ),
        (
            stale,
            json!({"invalidate-on-push": true, "ignore-edited-by": {"users": ["fmt-bot"]}}),
            false,
            "alice pushed since too",
        ),
        (
            vec![
                review("bob", "APPROVED", HEAD, "2026-11-01T10:00:00Z"),
                review("bob", "COMMENTED", HEAD, "2026-11-02T10:00:00Z"),
            ],
            json!({}),
            true,
            "a later comment does not undo an approval",
        ),
        (
            vec![
                review("bob", "APPROVED", HEAD, "2026-11-01T10:00:00Z"),
                review("bob", "DISMISSED", HEAD, "2026-11-02T10:00:00Z"),
            ],
            json!({}),
            false,
            "a dismissed approval does not count",
        ),
        (
            vec![
                review("bob", "CHANGES_REQUESTED", HEAD, "2026-11-01T10:00:00Z"),
                review("bob", "APPROVED", HEAD, "2026-11-02T10:00:00Z"),
            ],
            json!({}),
            true,
            "a later approval lifts the veto",
        ),
        (
            vec![
                review("bob", "APPROVED", HEAD, "2026-11-01T10:00:00Z"),
                review("carol", "CHANGES_REQUESTED", OLD, "2026-11-01T09:00:00Z"),
            ],
            json!({}),
            false,
            "changes requested by a required reviewer veto, even on an older commit",
        ),
        (
            vec![
                review("bob", "APPROVED", HEAD, "2026-11-01T10:00:00Z"),
                review("zed", "CHANGES_REQUESTED", HEAD, "2026-11-01T11:00:00Z"),
            ],
            json!({}),
            true,
            "a reviewer who is not required cannot veto",
        ),
    ];
    for (reviews, options, pass, why) in cases {
        let e = run(
            pr(&["a.rs"], &[], reviews.clone()),
            cfg(options.clone()),
            None,
        );
        assert_eq!(e.findings.is_empty(), *pass, "{why}: {:?}", found(&e));
    }
    let e = run(
        pr(
            &["a.rs"],
            &[],
            vec![review(
                "carol",
                "CHANGES_REQUESTED",
                HEAD,
                "2026-11-01T10:00:00Z",
            )],
        ),
        cfg(json!({})),
        None,
    );
    assert_eq!(ids(&e), ["changes-requested", "rule-pending"]);
}

#[test]
fn and_or_composition_with_skipped_members() {
    let config = |approval: Value| {
        json!({
            "rules": [
                rule("docs", json!({"if": {"changed-files": ["docs/**"]}, "requires": {"users": ["dora"]}})),
                rule("code", json!({"if": {"changed-files": ["src/**"]}, "requires": {"users": ["bob"]}})),
                rule("lead", json!({"requires": {"users": ["lea"]}})),
            ],
            "approval": approval,
        })
    };
    let approved = |users: &[&str]| -> Vec<Value> {
        users
            .iter()
            .map(|u| review(u, "APPROVED", HEAD, "2026-11-01T10:00:00Z"))
            .collect()
    };
    // (changed files, approval, approvers, pending rules, why)
    type Case<'a> = (&'a [&'a str], Value, &'a [&'a str], &'a [&'a str], &'a str);
    let cases: &[Case] = &[
        (
            &["src/a.rs"],
            json!(["docs", "code"]),
            &["bob"],
            &[],
            "and: the skipped docs rule drops out",
        ),
        (
            &["src/a.rs"],
            json!(["docs", "code"]),
            &[],
            &["code"],
            "and: code is pending",
        ),
        (
            &["src/a.rs"],
            json!([{"or": ["code", "lead"]}]),
            &["lea"],
            &[],
            "or: one member is enough",
        ),
        (
            &["src/a.rs"],
            json!([{"or": ["code", "lead"]}]),
            &[],
            &["code", "lead"],
            "or: all members reported when none pass",
        ),
        (
            &["src/a.rs"],
            json!([{"or": ["docs"]}]),
            &[],
            &[],
            "or with every member skipped is skipped",
        ),
        (
            &["docs/x.md", "src/a.rs"],
            json!([{"and": ["docs", "code"]}]),
            &["bob"],
            &["docs"],
            "nested and",
        ),
        (
            &["README"],
            json!([]),
            &[],
            &[],
            "an empty policy requires nothing",
        ),
    ];
    for (files, approval, users, pending, why) in cases {
        let e = run(
            pr(files, &[], approved(users)),
            config(approval.clone()),
            None,
        );
        let pending_rules: Vec<String> = e
            .findings
            .iter()
            .map(|f| f.message.split('`').nth(1).unwrap_or_default().to_string())
            .collect();
        assert_eq!(pending_rules, *pending, "{why}: {:?}", found(&e));
    }
    let e = run_with(
        &[("pr.json", pr(&["a"], &[], vec![]).to_string())],
        config(json!(["nope"])),
        &[("pr.json", ReportFormat::PrContext)],
    );
    assert_eq!(
        e.expect_err("unknown rule"),
        "config.approval names `nope`, which is not a rule"
    );
}

#[test]
fn code_owners_must_approve_their_files() {
    let co = "* @global\n/deploy/ @org/sre\ndocs/* @dora\n/vendor/\n";
    let config = json!({"teams": {"org/sre": ["bob", "carol"], "global": []}});
    let files = [
        "deploy/app.yaml",
        "deploy/db.yaml",
        "docs/a.md",
        "vendor/x.c",
    ];
    let e = run(pr(&files, &[], vec![]), config.clone(), Some(co));
    assert_eq!(
        found(&e),
        [
            ("codeowners-pending".to_string(), "2 changed file(s) need an approval from @org/sre (deploy/app.yaml, deploy/db.yaml)".to_string()),
            ("codeowners-pending".to_string(), "1 changed file(s) need an approval from @dora (docs/a.md)".to_string()),
        ],
        "vendor/ is unowned"
    );
    let lines: Vec<u32> = e
        .findings
        .iter()
        .map(|f| f.locations[0].region.as_ref().map_or(0, |r| r.start_line))
        .collect();
    assert_eq!(lines, [2, 3], "each finding points at its CODEOWNERS line");
    let reviews = vec![
        review("carol", "APPROVED", HEAD, "2026-11-01T10:00:00Z"),
        review("dora", "APPROVED", HEAD, "2026-11-01T10:00:00Z"),
    ];
    assert!(
        run(pr(&files, &[], reviews.clone()), config.clone(), Some(co))
            .findings
            .is_empty()
    );
    // The author cannot approve as a code owner.
    let mut own = pr(
        &["docs/a.md"],
        &[],
        vec![review("alice", "APPROVED", HEAD, "2026-11-01T10:00:00Z")],
    );
    own["author"] = json!("alice");
    let e = run(own, json!({}), Some("docs/* @alice\n"));
    assert_eq!(ids(&e), ["codeowners-pending"]);
    // Code owners as a rule's reviewers.
    let e = run(
        pr(
            &["deploy/app.yaml"],
            &[],
            vec![review("carol", "APPROVED", HEAD, "2026-11-01T10:00:00Z")],
        ),
        json!({"teams": {"org/sre": ["bob", "carol"], "global": []}, "codeowners": {"required": false}, "rules": [rule("owners", json!({"requires": {"code-owners": true, "count": 2}}))]}),
        Some(co),
    );
    assert_eq!(
        found(&e)[0].1,
        "rule `owners` needs 2 approval(s), has 1 (carol); 1 missing, from: bob"
    );
    // Code owners required but none known: said so, not "anyone".
    let e = run(
        pr(&["x.rs"], &[], vec![]),
        json!({"rules": [rule("owners", json!({"requires": {"code-owners": true}}))]}),
        None,
    );
    assert!(found(&e)[0].1.ends_with("from: nobody known: no listed user, team member or code owner can approve (check `teams` and CODEOWNERS)"), "{:?}", found(&e));
    // An unknown team is reported once, at its line.
    let e = run(
        pr(&["x"], &[], vec![]),
        json!({"codeowners": {"required": false}}),
        Some("* @org/ghosts\n"),
    );
    assert_eq!(ids(&e), ["unknown-team"]);
}

#[test]
fn github_event_and_gh_pr_view_combine() {
    let event = json!({
        "action": "synchronize",
        "pull_request": {
            "user": {"login": "alice"},
            "labels": [{"name": "release"}],
            "base": {"ref": "main", "sha": OLD},
            "head": {"ref": "feature", "sha": HEAD},
        }
    });
    let gh = json!({
        "files": [{"path": "deploy/app.yaml", "additions": 1, "deletions": 0}],
        "commits": [{"oid": HEAD, "authors": [{"login": "alice"}]}],
        "reviews": [{"author": {"login": "bob"}, "state": "APPROVED", "submittedAt": "2026-11-01T10:00:00Z", "commit": {"oid": HEAD}}],
    });
    let config = json!({"rules": [rule("release", json!({"if": {"labels": ["release"], "target-branch": ["main"]}, "requires": {"users": ["bob"]}, "options": {"invalidate-on-push": true}}))]});
    let files = [
        ("event.json", event.to_string()),
        ("gh.json", gh.to_string()),
    ];
    let e = run_with(
        &files,
        config.clone(),
        &[
            ("event.json", ReportFormat::GithubEvent),
            ("gh.json", ReportFormat::GhPr),
        ],
    )
    .expect("evaluates");
    assert!(e.findings.is_empty(), "{:?}", found(&e));
    // Without the reviews: an error, not a silent pass.
    let files = [("event.json", event.to_string())];
    let err = run_with(&files, config, &[("event.json", ReportFormat::GithubEvent)])
        .expect_err("no files");
    assert!(
        err.starts_with("the pull-request context (event.json) lists no changed files"),
        "{err}"
    );
    // Malformed context names the report and position.
    let err = run_with(
        &[("pr.json", "{\"author\": 3}".into())],
        json!({}),
        &[("pr.json", ReportFormat::PrContext)],
    )
    .expect_err("bad");
    assert!(err.starts_with("report pr (pr.json:1:"), "{err}");
    // No context at all: an error unless optional.
    let err = run_with(&[("a.txt", "x".into())], json!({}), &[]).expect_err("no context");
    assert!(
        err.starts_with("the approvals plugin needs pull-request context"),
        "{err}"
    );
    let e = run_with(&[("a.txt", "x".into())], json!({"optional": true}), &[]).expect("optional");
    assert_eq!(ids(&e), ["no-context"]);
}

#[test]
fn every_rule_is_well_formed_and_documented_in_the_readme() {
    use portcullis_sdk::Plugin;
    portcullis_sdk::testing::assert_rules_well_formed(portcullis_plugin_approvals::RULES);
    portcullis_sdk::testing::assert_rules_documented(
        &Approvals::describe(),
        "approvals",
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")),
    );
}

/// A CODEOWNERS that is a symlink (here a dangling one) is an error naming
/// it. Before, it read as "no CODEOWNERS", and its owners silently stopped
/// being required.
#[cfg(unix)]
#[test]
fn a_codeowners_symlink_is_an_error_not_an_absent_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_tree(
        dir.path(),
        &[("pr.json", pr(&["src/a.rs"], &[], vec![]).to_string())],
    );
    std::fs::create_dir_all(dir.path().join(".github")).expect("mkdir");
    std::os::unix::fs::symlink("../owners-moved", dir.path().join(".github/CODEOWNERS"))
        .expect("symlink");
    let err = Harness::new(dir.path())
        .config(json!({}))
        .report("pr", ReportFormat::PrContext, "pr.json")
        .run::<Approvals>()
        .expect_err("a dangling CODEOWNERS");
    assert_eq!(
        err,
        ".github/CODEOWNERS is a symlink, and only the file itself is read: commit the file itself so its owners apply"
    );
}

/// A deployment of `HEAD` to `environment`, started by alice, with
/// approvals in the shape GitHub's API gives them
/// (`gh api repos/O/R/actions/runs/ID/approvals`).
fn deployment(environment: &str, approvals: Vec<Value>) -> Value {
    json!({
        "author": "alice",
        "environment": environment,
        "ref": "main",
        "sha": HEAD,
        "approvals": approvals,
    })
}

fn approval(user: &str, state: &str, environment: &str) -> Value {
    json!({
        "state": state,
        "comment": "",
        "user": {"login": user, "id": 1, "type": "User"},
        "environments": [{"id": 7, "name": environment}],
    })
}

#[test]
fn production_deploys_need_two_release_managers_and_not_the_author() {
    let config = json!({
        "teams": {"org/release-managers": ["alice", "bob", "carol", "dave"]},
        "rules": [rule("production deploys", json!({
            "if": {"environment": ["production"]},
            "requires": {"count": 2, "teams": ["org/release-managers"]},
        }))],
    });
    // Approvals as (user, state, environment), judged for production.
    let production = |approvals: &[(&str, &str, &str)]| {
        let approvals = approvals
            .iter()
            .map(|(user, state, env)| approval(user, state, env))
            .collect();
        run(deployment("production", approvals), config.clone(), None)
    };
    // The author's own approval and one for staging do not count.
    let e = production(&[
        ("alice", "approved", "production"),
        ("bob", "approved", "production"),
        ("carol", "approved", "staging"),
    ]);
    assert_eq!(ids(&e), ["rule-pending"], "{:?}", found(&e));
    assert!(found(&e)[0].1.contains("(bob)"), "{:?}", found(&e));
    // Two release managers other than the author: it may deploy.
    let e = production(&[
        ("bob", "approved", "production"),
        ("dave", "approved", "production"),
    ]);
    assert!(e.findings.is_empty(), "{:?}", found(&e));
    // A rejection is a veto.
    let e = production(&[
        ("bob", "approved", "production"),
        ("dave", "approved", "production"),
        ("carol", "rejected", "production"),
    ]);
    assert_eq!(
        found(&e),
        [(
            "changes-requested".to_string(),
            "rule `production deploys`: carol rejected the deployment to production".to_string()
        )]
    );
    // The rule does not apply to staging.
    let e = run(deployment("staging", vec![]), config.clone(), None);
    assert!(e.findings.is_empty(), "{:?}", found(&e));
    // No approvals at all is not "nobody approved": it is missing context.
    let mut no_approvals = deployment("production", vec![]);
    no_approvals
        .as_object_mut()
        .expect("an object")
        .remove("approvals");
    let err = run_with(
        &[("pr.json", no_approvals.to_string())],
        config.clone(),
        &[("pr.json", ReportFormat::PrContext)],
    )
    .expect_err("fails closed");
    assert!(err.contains("has no approvals"), "{err}");
}

#[test]
fn a_github_deployment_event_with_the_runs_approvals() {
    // The deployment event names the environment and who started it; the
    // approvals come from the API, in a second report.
    let event = json!({
        "action": "created",
        "deployment": {
            "id": 1, "sha": HEAD, "ref": "main", "task": "deploy",
            "environment": "production",
            "creator": {"login": "alice", "id": 1},
        },
        "repository": {"full_name": "o/r"},
    });
    let approvals = json!({"approvals": [
        approval("bob", "approved", "production"),
        approval("carol", "approved", "production"),
        approval("alice", "approved", "production"),
    ]});
    let config = json!({
        "teams": {"org/release-managers": ["alice", "bob", "carol"]},
        "rules": [rule("production deploys", json!({
            "if": {"environment": ["prod*"]},
            "requires": {"count": 3, "teams": ["org/release-managers"]},
        }))],
    });
    let e = run_with(
        &[
            ("approvals.json", approvals.to_string()),
            ("event.json", event.to_string()),
        ],
        config,
        &[
            ("approvals.json", ReportFormat::PrContext),
            ("event.json", ReportFormat::GithubEvent),
        ],
    )
    .expect("evaluates");
    // alice started the deployment: her approval does not count.
    assert_eq!(ids(&e), ["rule-pending"], "{:?}", found(&e));
    assert!(found(&e)[0].1.contains("(bob, carol)"), "{:?}", found(&e));
}
