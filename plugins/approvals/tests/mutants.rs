//! Mutation test of what the approvals plugin reads: CODEOWNERS (GitHub's
//! documented example and a real file, `tests/fixtures/codeowners`) and
//! pull-request context in each accepted format. Every mutant is read or
//! refused with one line saying where; none panics or hangs.

use portcullis_plugin_approvals::{Approvals, Codeowners};
use portcullis_sdk::ReportFormat;
use portcullis_sdk::testing::Harness;
use portcullis_sdk::testing::mutants::{Mutants, json_located};
use serde_json::json;

/// GitHub's example file, line for line (comments dropped).
const GITHUB_EXAMPLE: &str =
    include_str!("../../../tests/fixtures/codeowners/github-example.CODEOWNERS");

/// CODEOWNERS never fails as a whole (GitHub skips a bad line, and so
/// does the plugin, reporting it): each bad line is named by a line the
/// file has, and matching a path after any mutant neither panics nor hangs.
#[test]
fn codeowners_mutants() {
    let real = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/fixtures/codeowners/aiida-core.CODEOWNERS"
    ))
    .expect("fixture");
    let words = [
        "@org/team",
        "@user",
        "a@example.com",
        "**",
        "!",
        "[a-z]",
        "\\#",
        "/",
    ];
    Mutants::with_words("CODEOWNERS", &[GITHUB_EXAMPLE, &real], 2_000, &words).check(
        |text| {
            let (co, invalid) = Codeowners::parse("CODEOWNERS", text);
            for path in ["README.md", "docs/a/b.md", "apps/github/x", "setup.py", ""] {
                let _ = co.owners(path);
            }
            match invalid.first() {
                Some(bad) => Err(format!("CODEOWNERS:{}: {}", bad.line, bad.reason)),
                None => Ok(()),
            }
        },
        |text, message| {
            let line: usize = message["CODEOWNERS:".len()..]
                .split(':')
                .next()
                .and_then(|n| n.parse().ok())
                .ok_or("no line number")?;
            if line == 0 || line > text.split('\n').count() {
                return Err(format!("line {line} is not in the file"));
            }
            Ok(())
        },
    );
}

const HEAD: &str = "cccccccccccccccccccccccccccccccccccccccc";

/// Mutants of one context file read as `format`; a refusal names the report
/// and, for broken JSON, its line and column.
fn context_mutants(name: &str, format: ReportFormat, seeds: &[&str], extra: &[(&str, String)]) {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, text) in extra {
        std::fs::write(dir.path().join(path), text).expect("write");
    }
    let config = json!({"rules": [{"name": "two", "requires": {"count": 1, "users": ["bob"]}}]});
    Mutants::with_words(
        name,
        seeds,
        2_500,
        &[
            "\"login\"",
            "\"state\"",
            "\"APPROVED\"",
            "\"sha\"",
            "\"files\"",
            "\"reviews\"",
        ],
    )
    .check(
        |text| {
            std::fs::write(dir.path().join("ctx.json"), text).expect("write the mutant");
            let mut h = Harness::new(dir.path())
                .config(config.clone())
                .report("ctx", format, "ctx.json");
            for (path, _) in extra {
                h = h.report("extra", ReportFormat::GhPr, path);
            }
            h.run::<Approvals>()
        },
        |text, message| json_located("ctx.json", text, message),
    );
}

#[test]
fn pr_context_mutants() {
    let pr = json!({
        "author": "alice", "labels": ["release"], "base": "main", "head": "feature",
        "head_sha": HEAD,
        "files": [{"path": "src/a.rs", "status": "modified"}, {"path": "docs/b.md", "status": "added"}],
        "commits": [{"sha": HEAD, "author": "alice"}],
        "reviews": [{"user": "bob", "state": "APPROVED", "commit": HEAD, "submitted_at": "2026-11-01T10:00:00Z"}],
    });
    let pretty = serde_json::to_string_pretty(&pr).expect("json");
    context_mutants(
        "pr-context",
        ReportFormat::PrContext,
        &[&pr.to_string(), &pretty],
        &[],
    );
}

#[test]
fn github_event_and_gh_pr_mutants() {
    let event = json!({
        "action": "synchronize",
        "pull_request": {
            "user": {"login": "alice"},
            "labels": [{"name": "release"}],
            "base": {"ref": "main", "sha": "a".repeat(40)},
            "head": {"ref": "feature", "sha": HEAD},
        }
    });
    let gh = json!({
        "files": [{"path": "deploy/app.yaml", "additions": 1, "deletions": 0}],
        "commits": [{"oid": HEAD, "authors": [{"login": "alice"}]}],
        "reviews": [{"author": {"login": "bob"}, "state": "APPROVED", "submittedAt": "2026-11-01T10:00:00Z", "commit": {"oid": HEAD}}],
    });
    let event_text = serde_json::to_string_pretty(&event).expect("json");
    let gh_text = serde_json::to_string_pretty(&gh).expect("json");
    context_mutants(
        "github-event",
        ReportFormat::GithubEvent,
        &[&event_text],
        &[("gh.json", gh_text.clone())],
    );
    context_mutants("gh-pr", ReportFormat::GhPr, &[&gh_text], &[]);
}
