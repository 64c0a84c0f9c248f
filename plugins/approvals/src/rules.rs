//! policy-bot-style approval rules and the code-owner requirement, decided
//! from the pull request's reviews.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Deserialize;

use crate::codeowners::{Codeowners, Owner};
use crate::context::{PullRequest, Review, ReviewState};

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default)]
    pub codeowners: CodeownersConfig,
    /// Team members: `{ "org/team" = ["alice", …] }`.
    #[serde(default)]
    pub teams: BTreeMap<String, Vec<String>>,
    /// A repository JSON file of the same shape, merged with `teams`.
    #[serde(default)]
    pub teams_file: Option<String>,
    /// Email owners in CODEOWNERS, mapped to logins.
    #[serde(default)]
    pub emails: BTreeMap<String, String>,
    #[serde(default)]
    pub rules: Vec<RuleConfig>,
    /// How the rules combine; all of them (`and`) when absent.
    #[serde(default)]
    pub approval: Option<Vec<Expr>>,
    /// Without pull-request context, report a note instead of failing.
    #[serde(default)]
    pub optional: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CodeownersConfig {
    /// Every changed file with owners needs an approval from one of them.
    #[serde(default = "yes")]
    pub required: bool,
    /// Only approvals of the head commit count.
    #[serde(default)]
    pub invalidate_on_push: bool,
}

impl Default for CodeownersConfig {
    fn default() -> Self {
        CodeownersConfig {
            required: true,
            invalidate_on_push: false,
        }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RuleConfig {
    pub name: String,
    #[serde(default, rename = "if")]
    pub predicate: Predicate,
    #[serde(default)]
    pub requires: Requires,
    #[serde(default)]
    pub options: Options,
}

/// When a rule applies; every given condition must hold.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Predicate {
    /// Some changed file matches one of these globs.
    #[serde(default)]
    pub changed_files: Vec<String>,
    #[serde(default)]
    pub author_in: Option<Who>,
    /// The pull request has one of these labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// The base branch matches one of these globs.
    #[serde(default)]
    pub target_branch: Vec<String>,
    /// The context is a deployment to an environment matching one of
    /// these globs (`production`, `prod-*`).
    #[serde(default)]
    pub environment: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Who {
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub teams: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Requires {
    #[serde(default = "one")]
    pub count: usize,
    #[serde(default)]
    pub users: Vec<String>,
    #[serde(default)]
    pub teams: Vec<String>,
    /// The code owners of the changed files may approve.
    #[serde(default)]
    pub code_owners: bool,
}

impl Default for Requires {
    fn default() -> Self {
        Requires {
            count: 1,
            users: Vec::new(),
            teams: Vec::new(),
            code_owners: false,
        }
    }
}

fn one() -> usize {
    1
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Options {
    /// The author's own approval counts.
    #[serde(default)]
    pub allow_author: bool,
    /// Only approvals of the head commit count.
    #[serde(default)]
    pub invalidate_on_push: bool,
    /// Commits by these users (bots that push fixes) do not invalidate
    /// approvals.
    #[serde(default)]
    pub ignore_edited_by: Who,
}

/// A rule name, or `{ and = [...] }` / `{ or = [...] }`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Expr {
    Rule(String),
    And { and: Vec<Expr> },
    Or { or: Vec<Expr> },
}

/// What a rule or a composition came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Its `if` did not match: it drops out.
    Skipped,
    Pass,
    Fail,
}

/// A rule that is not satisfied, for a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub rule: String,
    /// Reviewers whose requested changes block it.
    pub vetoed_by: Vec<String>,
    pub have: Vec<String>,
    pub need: usize,
    /// Who could approve.
    pub candidates: Vec<String>,
    /// Anyone but the author may approve (no users, teams or code owners
    /// were required).
    pub anyone: bool,
}

pub struct World<'a> {
    pub pr: &'a PullRequest,
    pub files: &'a [String],
    pub teams: &'a BTreeMap<String, Vec<String>>,
    pub emails: &'a BTreeMap<String, String>,
    pub codeowners: Option<&'a Codeowners>,
}

impl World<'_> {
    fn author(&self) -> &str {
        self.pr.author.as_deref().unwrap_or_default()
    }

    fn members(&self, team: &str) -> Result<&[String], String> {
        self.teams
            .get(team)
            .map(Vec::as_slice)
            .ok_or_else(|| format!("team `{team}` has no members in `teams` or `teams-file`"))
    }

    fn in_who(&self, user: &str, who: &Who) -> Result<bool, String> {
        if who.users.iter().any(|u| u == user) {
            return Ok(true);
        }
        for t in &who.teams {
            if self.members(t)?.iter().any(|m| m == user) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The logins an owner stands for (unknown teams and emails: none).
    pub fn owner_logins(&self, owner: &Owner) -> Vec<String> {
        match owner {
            Owner::User(u) => vec![u.clone()],
            Owner::Team(t) => self.teams.get(t).cloned().unwrap_or_default(),
            Owner::Email(e) => self.emails.get(e).cloned().into_iter().collect(),
        }
    }

    /// Each reviewer's deciding review: the latest approval, request for
    /// changes or dismissal (comments do not change a decision).
    pub fn decisions(&self) -> BTreeMap<&str, &Review> {
        let mut reviews: Vec<(usize, &Review)> = self
            .pr
            .reviews
            .as_deref()
            .unwrap_or_default()
            .iter()
            .enumerate()
            .collect();
        reviews.sort_by(|(ia, a), (ib, b)| {
            a.submitted_at.cmp(&b.submitted_at).then_with(|| ia.cmp(ib))
        });
        let mut out = BTreeMap::new();
        for (_, r) in reviews {
            if matches!(
                r.state,
                ReviewState::Approved | ReviewState::ChangesRequested | ReviewState::Dismissed
            ) {
                out.insert(r.user.as_str(), r);
            }
        }
        out
    }

    /// Whether an approval still counts after the commits pushed since.
    pub fn fresh(
        &self,
        review: &Review,
        invalidate_on_push: bool,
        ignore: &Who,
    ) -> Result<bool, String> {
        if !invalidate_on_push {
            return Ok(true);
        }
        let head = self.pr.head_sha.as_deref().ok_or(
            "invalidate-on-push needs the head commit: give `head_sha` (pr-context), the event payload or `gh pr view --json headRefOid`",
        )?;
        let Some(at) = review.commit.as_deref() else {
            return Ok(false);
        };
        if at == head {
            return Ok(true);
        }
        // Commits after the approved one: only ignored authors may have pushed.
        let Some(pos) = self.pr.commits.iter().position(|c| c.sha == at) else {
            return Ok(false);
        };
        for c in &self.pr.commits[pos + 1..] {
            let by = c.author.as_deref().unwrap_or_default();
            if !self.in_who(by, ignore)? {
                return Ok(false);
            }
        }
        Ok(self.pr.commits.last().is_some_and(|c| c.sha == head))
    }
}

/// Whether a rule applies.
fn applies(rule: &RuleConfig, w: &World) -> Result<bool, String> {
    let p = &rule.predicate;
    if !p.changed_files.is_empty() {
        let set = portcullis_sdk::globset("rules.if.changed-files", &p.changed_files)?;
        if !w.files.iter().any(|f| set.is_match(f)) {
            return Ok(false);
        }
    }
    if let Some(who) = &p.author_in
        && !w.in_who(w.author(), who)?
    {
        return Ok(false);
    }
    if !p.labels.is_empty() && !p.labels.iter().any(|l| w.pr.labels.contains(l)) {
        return Ok(false);
    }
    if !p.environment.is_empty() {
        let set = portcullis_sdk::globset("rules.if.environment", &p.environment)?;
        if !w.pr.environment.as_deref().is_some_and(|e| set.is_match(e)) {
            return Ok(false);
        }
    }
    if !p.target_branch.is_empty() {
        let set = portcullis_sdk::globset("rules.if.target-branch", &p.target_branch)?;
        let base =
            w.pr.base.as_deref().ok_or(
                "a rule tests target-branch but the pull-request context has no base branch",
            )?;
        if !set.is_match(base) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Evaluate one rule: skipped, passing, or pending with the details.
pub fn evaluate(rule: &RuleConfig, w: &World) -> Result<Result<State, Pending>, String> {
    if !applies(rule, w)? {
        return Ok(Ok(State::Skipped));
    }
    let req = &rule.requires;
    let mut eligible: BTreeSet<String> = req.users.iter().cloned().collect();
    for t in &req.teams {
        eligible.extend(w.members(t)?.iter().cloned());
    }
    if req.code_owners
        && let Some(co) = w.codeowners
    {
        for f in w.files {
            for o in co.owners(f) {
                eligible.extend(w.owner_logins(o));
            }
        }
    }
    let anyone = req.users.is_empty() && req.teams.is_empty() && !req.code_owners;
    let author = w.author();
    let may = |user: &str| {
        (rule.options.allow_author || user != author) && (anyone || eligible.contains(user))
    };
    let mut have = Vec::new();
    let mut vetoed_by = Vec::new();
    for (user, review) in w.decisions() {
        if !may(user) {
            continue;
        }
        match review.state {
            ReviewState::Approved
                if w.fresh(
                    review,
                    rule.options.invalidate_on_push,
                    &rule.options.ignore_edited_by,
                )? =>
            {
                have.push(user.to_string());
            }
            ReviewState::ChangesRequested => vetoed_by.push(user.to_string()),
            _ => {}
        }
    }
    if vetoed_by.is_empty() && have.len() >= req.count {
        return Ok(Ok(State::Pass));
    }
    let candidates = eligible
        .iter()
        .filter(|u| may(u) && !have.contains(u))
        .cloned()
        .collect();
    Ok(Err(Pending {
        rule: rule.name.clone(),
        vetoed_by,
        have,
        need: req.count,
        candidates,
        anyone,
    }))
}

/// Combine the rules as `approval` says; returns the overall state and the
/// pending rules that make it fail.
pub fn decide(
    rules: &[RuleConfig],
    approval: Option<&[Expr]>,
    w: &World,
) -> Result<(State, Vec<Pending>), String> {
    let mut results: HashMap<&str, Result<State, Pending>> = HashMap::new();
    for r in rules {
        if results.insert(r.name.as_str(), evaluate(r, w)?).is_some() {
            return Err(format!("config.rules: two rules are named `{}`", r.name));
        }
    }
    let all: Vec<Expr> = rules.iter().map(|r| Expr::Rule(r.name.clone())).collect();
    let top = approval.unwrap_or(&all);
    let mut pending = Vec::new();
    let state = combine(top, true, &results, &mut pending)?;
    if state != State::Fail {
        pending.clear();
    }
    Ok((state, pending))
}

fn combine(
    members: &[Expr],
    and: bool,
    results: &HashMap<&str, Result<State, Pending>>,
    pending: &mut Vec<Pending>,
) -> Result<State, String> {
    let mut states = Vec::new();
    let mut local = Vec::new();
    for m in members {
        let s = match m {
            Expr::Rule(name) => match results.get(name.as_str()) {
                None => {
                    return Err(format!(
                        "config.approval names `{name}`, which is not a rule"
                    ));
                }
                Some(Ok(s)) => s.clone(),
                Some(Err(p)) => {
                    local.push(p.clone());
                    State::Fail
                }
            },
            Expr::And { and: inner } => combine(inner, true, results, &mut local)?,
            Expr::Or { or: inner } => combine(inner, false, results, &mut local)?,
        };
        states.push(s);
    }
    let counted: Vec<&State> = states.iter().filter(|s| **s != State::Skipped).collect();
    let state = if counted.is_empty() {
        State::Skipped
    } else if (and && counted.iter().all(|s| **s == State::Pass))
        || (!and && counted.iter().any(|s| **s == State::Pass))
    {
        State::Pass
    } else {
        State::Fail
    };
    if state == State::Fail {
        pending.extend(local);
    }
    Ok(state)
}
