//! The approvals plugin: CODEOWNERS with GitHub's semantics and
//! policy-bot-style approval rules, over pull-request context.
//!
//! Data path: the pull-request reports (`context`) and the repository's
//! CODEOWNERS (`codeowners`) → each changed file's owners and each rule's
//! state (`rules`) → a finding per pending rule, per unapproved CODEOWNERS
//! line and per invalid CODEOWNERS line.

mod codeowners;
mod context;
mod declared;
mod rules;

use std::collections::{BTreeMap, BTreeSet};

use portcullis_sdk::{
    Context, Evaluation, EvidenceKind, FileKind, Location, Plugin, PluginInfo, Region,
    ReportFormat, export_plugin,
};

pub use codeowners::{Codeowners, Owner};
pub use context::{PullRequest, ReviewState};
pub use declared::RULES;
use declared::{
    CHANGES_REQUESTED, CODEOWNERS_INVALID, CODEOWNERS_PENDING, NO_CONTEXT, RULE_PENDING,
    UNKNOWN_TEAM,
};
pub use rules::Config;
use rules::World;

pub struct Approvals;

impl Plugin for Approvals {
    fn describe() -> PluginInfo {
        PluginInfo::new("approvals", env!("CARGO_PKG_VERSION"))
            .rules(RULES)
            .reads(EvidenceKind::Reports)
            .reads(EvidenceKind::Files)
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        let config: Config = ctx.config()?;
        let mut out = Evaluation::default();
        let Some(pr) = context::from_reports(ctx.reports())? else {
            if config.optional {
                out.push(NO_CONTEXT.finding(
                    "no pull-request context (a pr-context, github-event or gh-pr report): approvals were not checked",
                ));
                return Ok(out);
            }
            return Err(
                "the approvals plugin needs pull-request context: name a report with format \"pr-context\", \"github-event\" or \"gh-pr\" in the policy (or set `optional = true` in the plugin's config)"
                    .into(),
            );
        };
        // The context's files, named in what it lacks.
        let read_from: Vec<&str> = ctx
            .reports()
            .iter()
            .filter(|r| {
                matches!(
                    r.format,
                    ReportFormat::PrContext | ReportFormat::GithubEvent | ReportFormat::GhPr
                )
            })
            .map(|r| r.path.as_str())
            .collect();
        let read_from = read_from.join(", ");
        // A deployment changes no files: only its rules apply.
        let files: Vec<String> = match (&pr.files, &pr.environment) {
            (Some(files), _) => files.iter().map(|f| f.path.clone()).collect(),
            (None, Some(_)) => Vec::new(),
            (None, None) => {
                return Err(format!(
                    "the pull-request context ({read_from}) lists no changed files (`files` in pr-context, or `gh pr view --json files`)"
                ));
            }
        };
        if pr.reviews.is_none() && pr.environment.is_some() {
            return Err(format!(
                "the deployment context ({read_from}) has no approvals (`approvals` in pr-context: `[]` when nobody approved)"
            ));
        }
        if pr.reviews.is_none() {
            return Err(format!(
                "the pull-request context ({read_from}) has no reviews (`reviews` in pr-context, or `gh pr view --json reviews`)"
            ));
        }
        let mut teams = config.teams.clone();
        if let Some(file) = &config.teams_file {
            let text = ctx
                .read_to_string(file)
                .map_err(|e| format!("config.teams-file: cannot read {file}: {e}"))?;
            let more: BTreeMap<String, Vec<String>> = serde_json::from_str(&text).map_err(|e| {
                format!(
                    "{file}:{}:{}: not a teams file ({{\"org/team\": [\"login\", …]}}): {e}",
                    e.line(),
                    e.column()
                )
            })?;
            for (team, members) in more {
                teams.entry(team).or_default().extend(members);
            }
        }
        let codeowners = read_codeowners(ctx, &mut out)?;
        let world = World {
            pr: &pr,
            files: &files,
            teams: &teams,
            emails: &config.emails,
            codeowners: codeowners.as_ref(),
        };
        if let Some(co) = &codeowners {
            unknown_teams(co, &teams, &mut out);
            if config.codeowners.required {
                check_codeowners(co, &world, config.codeowners.invalidate_on_push, &mut out)?;
            }
        }
        let (_, pending) = rules::decide(&config.rules, config.approval.as_deref(), &world)?;
        for p in pending {
            report_pending(&p, pr.environment.as_deref(), &mut out);
        }
        Ok(out)
    }
}

fn read_codeowners(ctx: &Context, out: &mut Evaluation) -> Result<Option<Codeowners>, String> {
    for path in codeowners::LOCATIONS {
        // A symlink (dangling or not) is never followed: its owners would
        // otherwise silently stop applying, or come from elsewhere.
        let listed = ctx.files().iter().find(|f| f.path == *path);
        if listed.is_some_and(|f| f.kind == FileKind::Symlink) {
            return Err(format!(
                "{path} is a symlink, and only the file itself is read: commit the file itself so its owners apply"
            ));
        }
        match ctx.read_to_string(path) {
            Ok(text) => {
                let (co, invalid) = Codeowners::parse(path, &text);
                for i in invalid {
                    out.push(
                        CODEOWNERS_INVALID
                            .finding(format!("{path}:{}: {}", i.line, i.reason))
                            .location(Location::at(path, Region::line(i.line))),
                    );
                }
                return Ok(Some(co));
            }
            // Absent is fine; listed but unreadable is not.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && listed.is_none() => continue,
            Err(e) => return Err(format!("cannot read {path}: {e}")),
        }
    }
    Ok(None)
}

fn unknown_teams(co: &Codeowners, teams: &BTreeMap<String, Vec<String>>, out: &mut Evaluation) {
    let mut seen = BTreeSet::new();
    for e in &co.entries {
        for o in &e.owners {
            if let Owner::Team(t) = o
                && !teams.contains_key(t)
                && seen.insert(t.clone())
            {
                out.push(
                    UNKNOWN_TEAM
                        .finding(format!("@{t} owns paths but its members are not listed in `teams` or `teams-file`: its approvals cannot be recognised"))
                        .location(Location::at(&co.path, Region::line(e.line))),
                );
            }
        }
    }
}

/// A CODEOWNERS line with owners, its changed files, whether an owner
/// approved, and the owners who requested changes (decided once per line).
struct LineState<'a> {
    entry: &'a codeowners::Entry,
    files: Vec<&'a str>,
    approved: bool,
    vetoed: Vec<String>,
}

/// GitHub's "require review from code owners": every changed file with
/// owners needs a (fresh) approval from one of them, not by the author.
fn check_codeowners(
    co: &Codeowners,
    w: &World,
    invalidate_on_push: bool,
    out: &mut Evaluation,
) -> Result<(), String> {
    let decisions = w.decisions();
    let author = w.pr.author.as_deref().unwrap_or_default();
    let no_ignore = rules::Who::default();
    let mut lines: BTreeMap<u32, LineState> = BTreeMap::new();
    for f in w.files {
        let Some(entry) = co.entry_for(f) else {
            continue;
        };
        if entry.owners.is_empty() {
            continue;
        }
        if let Some(state) = lines.get_mut(&entry.line) {
            state.files.push(f);
            continue;
        }
        let logins: BTreeSet<String> = entry
            .owners
            .iter()
            .flat_map(|o| w.owner_logins(o))
            .collect();
        let mut state = LineState {
            entry,
            files: vec![f],
            approved: false,
            vetoed: Vec::new(),
        };
        for (user, review) in &decisions {
            if *user == author || !logins.contains(*user) {
                continue;
            }
            match review.state {
                ReviewState::Approved if w.fresh(review, invalidate_on_push, &no_ignore)? => {
                    state.approved = true
                }
                ReviewState::ChangesRequested => state.vetoed.push(user.to_string()),
                _ => {}
            }
        }
        lines.insert(entry.line, state);
    }
    for LineState {
        entry,
        files,
        approved,
        vetoed,
    } in lines.into_values()
    {
        let line = entry.line;
        let owners: Vec<String> = entry.owners.iter().map(|o| o.to_string()).collect();
        let sample: Vec<&str> = files.iter().take(3).copied().collect();
        let more = if files.len() > 3 {
            format!(", and {} more", files.len() - 3)
        } else {
            String::new()
        };
        let at = Location::at(&co.path, Region::line(line));
        if !vetoed.is_empty() {
            out.push(
                CHANGES_REQUESTED
                    .finding(format!(
                        "code owner(s) {} requested changes to {}{more}",
                        vetoed.join(", "),
                        sample.join(", ")
                    ))
                    .location(at.clone()),
            );
        }
        if !approved {
            out.push(
                CODEOWNERS_PENDING
                    .finding(format!(
                        "{} changed file(s) need an approval from {} ({}{more})",
                        files.len(),
                        owners.join(" or "),
                        sample.join(", ")
                    ))
                    .location(at)
                    .properties(serde_json::json!({"owners": owners, "files": files.len()})),
            );
        }
    }
    Ok(())
}

fn report_pending(p: &rules::Pending, environment: Option<&str>, out: &mut Evaluation) {
    let who = if p.anyone {
        "anyone but the author".to_string()
    } else if p.candidates.is_empty() {
        "nobody known: no listed user, team member or code owner can approve (check `teams` and CODEOWNERS)".to_string()
    } else {
        p.candidates.join(", ")
    };
    if !p.vetoed_by.is_empty() {
        let what = match environment {
            Some(env) => format!("rejected the deployment to {env}"),
            None => "requested changes".into(),
        };
        out.push(CHANGES_REQUESTED.finding(format!(
            "rule `{}`: {} {what}",
            p.rule,
            p.vetoed_by.join(", ")
        )));
    }
    if p.have.len() < p.need {
        let have = if p.have.is_empty() {
            String::new()
        } else {
            format!(" ({})", p.have.join(", "))
        };
        out.push(
            RULE_PENDING
                .finding(format!(
                    "rule `{}` needs {} approval(s), has {}{have}; {} missing, from: {who}",
                    p.rule,
                    p.need,
                    p.have.len(),
                    p.need - p.have.len()
                ))
                .properties(serde_json::json!({
                    "rule": p.rule,
                    "need": p.need,
                    "have": p.have,
                    "candidates": p.candidates,
                })),
        );
    }
}

export_plugin!(Approvals);
