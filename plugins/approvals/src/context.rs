//! The change to approve — a pull request, or a deployment — from the
//! reports the policy names: portcullis's own `pr-context` JSON, a GitHub
//! `pull_request`, `deployment` or `deployment_status` event payload, and
//! `gh pr view --json …` output. Later reports fill what earlier ones left
//! out, so the event payload and `gh pr view` (or a deployment's approvals)
//! can be combined.

use portcullis_sdk::{Report, ReportFormat};
use serde::Deserialize;

#[derive(Debug, Default, Clone, PartialEq)]
pub struct PullRequest {
    pub author: Option<String>,
    pub labels: Vec<String>,
    pub base: Option<String>,
    pub head: Option<String>,
    pub head_sha: Option<String>,
    pub files: Option<Vec<ChangedFile>>,
    pub commits: Vec<Commit>,
    pub reviews: Option<Vec<Review>>,
    /// For a deployment: the environment it deploys to (`production`).
    /// `author` is then who started it, `head` and `head_sha` what it
    /// deploys, `reviews` its approvals.
    pub environment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ChangedFile {
    pub path: String,
    #[serde(default = "modified")]
    pub status: String,
}

fn modified() -> String {
    "modified".into()
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Commit {
    pub sha: String,
    #[serde(default)]
    pub author: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReviewState {
    Approved,
    ChangesRequested,
    Commented,
    Dismissed,
    Pending,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Review {
    pub user: String,
    pub state: ReviewState,
    /// The head commit the review was given on.
    #[serde(default)]
    pub commit: Option<String>,
    /// RFC 3339; reviews are ordered by it (then by position).
    #[serde(default)]
    pub submitted_at: Option<String>,
}

/// portcullis's own format (all fields optional).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Own {
    author: Option<String>,
    #[serde(default)]
    labels: Option<Vec<String>>,
    base: Option<String>,
    /// The base branch's commit the pull request is compared with: read by
    /// the host (for the lines the change adds), not by this plugin.
    #[serde(rename = "base_sha")]
    _base_sha: Option<String>,
    head: Option<String>,
    head_sha: Option<String>,
    files: Option<Vec<ChangedFile>>,
    #[serde(default)]
    commits: Option<Vec<Commit>>,
    reviews: Option<Vec<Review>>,
    /// A deployment's environment.
    environment: Option<String>,
    /// A deployment's ref and commit (`head` and `head_sha` by other names).
    #[serde(rename = "ref")]
    git_ref: Option<String>,
    sha: Option<String>,
    /// A deployment's approvals: GitHub's own (`gh api
    /// repos/O/R/actions/runs/ID/approvals`) or `{ user, state }`.
    approvals: Option<Vec<Approval>>,
}

/// One approval (or rejection) of a deployment.
#[derive(Deserialize)]
struct Approval {
    user: User,
    /// `approved` or `rejected`.
    state: String,
    /// The environments it approves (GitHub's shape): when given, it
    /// counts only for these.
    #[serde(default)]
    environments: Option<Vec<Named>>,
    #[serde(default)]
    submitted_at: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum User {
    Login(String),
    Object(Login),
}

#[derive(Deserialize)]
struct Login {
    login: String,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
struct Event {
    pull_request: Option<EventPr>,
    deployment: Option<EventDeployment>,
}

#[derive(Deserialize)]
struct EventDeployment {
    environment: String,
    #[serde(rename = "ref")]
    name: String,
    sha: String,
    creator: Option<Login>,
}

#[derive(Deserialize)]
struct EventPr {
    user: Login,
    #[serde(default)]
    labels: Vec<Named>,
    base: EventRef,
    head: EventRef,
}

#[derive(Deserialize)]
struct EventRef {
    #[serde(rename = "ref")]
    name: String,
    sha: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Gh {
    author: Option<Login>,
    labels: Option<Vec<Named>>,
    base_ref_name: Option<String>,
    head_ref_name: Option<String>,
    head_ref_oid: Option<String>,
    files: Option<Vec<GhFile>>,
    commits: Option<Vec<GhCommit>>,
    reviews: Option<Vec<GhReview>>,
}

#[derive(Deserialize)]
struct GhFile {
    path: String,
    #[serde(default, rename = "changeType")]
    change_type: Option<String>,
}

#[derive(Deserialize)]
struct GhCommit {
    oid: String,
    #[serde(default)]
    authors: Vec<Login>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GhReview {
    author: Option<Login>,
    state: ReviewState,
    submitted_at: Option<String>,
    commit: Option<GhOid>,
}

#[derive(Deserialize)]
struct GhOid {
    oid: String,
}

/// A deployment's approvals as reviews: approved → approved, rejected →
/// changes requested (a veto); one listing environments counts only for
/// the deployment's.
fn approvals_as_reviews(
    approvals: Vec<Approval>,
    environment: Option<&str>,
) -> Result<Vec<Review>, String> {
    let mut reviews = Vec::new();
    for a in approvals {
        let user = match a.user {
            User::Login(l) | User::Object(Login { login: l }) => l,
        };
        let state = match a.state.to_ascii_lowercase().as_str() {
            "approved" => ReviewState::Approved,
            "rejected" => ReviewState::ChangesRequested,
            other => {
                return Err(format!(
                    "approval by {user}: state `{other}` is neither `approved` nor `rejected`"
                ));
            }
        };
        if let (Some(envs), Some(env)) = (&a.environments, environment)
            && !envs.iter().any(|e| e.name == env)
        {
            continue;
        }
        reviews.push(Review {
            user,
            state,
            commit: None,
            submitted_at: a.submitted_at,
        });
    }
    Ok(reviews)
}

fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// Build the pull request from the reports; `None` when there is none.
pub fn from_reports(reports: &[Report]) -> Result<Option<PullRequest>, String> {
    let mut pr = PullRequest::default();
    let mut any = false;
    // A deployment's approvals, turned into reviews once its environment
    // is known (another report may name it).
    let mut approvals: Option<(Vec<Approval>, String)> = None;
    for r in reports {
        let bad = |e: serde_json::Error| {
            format!(
                "report {} ({}:{}:{}): not a {} document: {e}",
                r.name,
                r.path,
                e.line(),
                e.column(),
                match r.format {
                    ReportFormat::GithubEvent => "GitHub pull_request event",
                    ReportFormat::GhPr => "`gh pr view --json` output",
                    _ => "pr-context",
                }
            )
        };
        match r.format {
            ReportFormat::PrContext => {
                let o: Own = serde_json::from_str(&r.content).map_err(bad)?;
                fill(&mut pr.author, o.author);
                if pr.labels.is_empty() {
                    pr.labels = o.labels.unwrap_or_default();
                }
                fill(&mut pr.base, o.base);
                fill(&mut pr.head, o.head);
                fill(&mut pr.head_sha, o.head_sha);
                fill(&mut pr.files, o.files);
                if pr.commits.is_empty() {
                    pr.commits = o.commits.unwrap_or_default();
                }
                fill(&mut pr.reviews, o.reviews);
                fill(&mut pr.environment, o.environment);
                fill(&mut pr.head, o.git_ref);
                fill(&mut pr.head_sha, o.sha);
                if approvals.is_none()
                    && let Some(a) = o.approvals
                {
                    approvals = Some((a, format!("report {} ({})", r.name, r.path)));
                }
            }
            ReportFormat::GithubEvent => {
                let e: Event = serde_json::from_str(&r.content).map_err(bad)?;
                match (e.pull_request, e.deployment) {
                    (Some(p), _) => {
                        fill(&mut pr.author, Some(p.user.login));
                        if pr.labels.is_empty() {
                            pr.labels = p.labels.into_iter().map(|l| l.name).collect();
                        }
                        fill(&mut pr.base, Some(p.base.name));
                        fill(&mut pr.head, Some(p.head.name));
                        fill(&mut pr.head_sha, Some(p.head.sha));
                    }
                    (None, Some(d)) => {
                        fill(&mut pr.environment, Some(d.environment));
                        fill(&mut pr.author, d.creator.map(|c| c.login));
                        fill(&mut pr.head, Some(d.name));
                        fill(&mut pr.head_sha, Some(d.sha));
                    }
                    (None, None) => {
                        return Err(format!(
                            "report {} ({}): neither a pull_request nor a deployment event (no `pull_request` or `deployment` key)",
                            r.name, r.path
                        ));
                    }
                }
            }
            ReportFormat::GhPr => {
                let g: Gh = serde_json::from_str(&r.content).map_err(bad)?;
                fill(&mut pr.author, g.author.map(|a| a.login));
                if pr.labels.is_empty() {
                    pr.labels = g
                        .labels
                        .unwrap_or_default()
                        .into_iter()
                        .map(|l| l.name)
                        .collect();
                }
                fill(&mut pr.base, g.base_ref_name);
                fill(&mut pr.head, g.head_ref_name);
                fill(&mut pr.head_sha, g.head_ref_oid);
                fill(
                    &mut pr.files,
                    g.files.map(|fs| {
                        fs.into_iter()
                            .map(|f| ChangedFile {
                                path: f.path,
                                status: f
                                    .change_type
                                    .map_or_else(modified, |c| c.to_ascii_lowercase()),
                            })
                            .collect()
                    }),
                );
                if pr.commits.is_empty() {
                    pr.commits = g
                        .commits
                        .unwrap_or_default()
                        .into_iter()
                        .map(|c| Commit {
                            sha: c.oid,
                            author: c.authors.into_iter().next().map(|a| a.login),
                        })
                        .collect();
                }
                fill(
                    &mut pr.reviews,
                    g.reviews.map(|rs| {
                        rs.into_iter()
                            .filter_map(|r| {
                                Some(Review {
                                    user: r.author?.login,
                                    state: r.state,
                                    commit: r.commit.map(|c| c.oid),
                                    submitted_at: r.submitted_at,
                                })
                            })
                            .collect()
                    }),
                );
            }
            ReportFormat::ClippyJson | ReportFormat::Sarif => continue,
        }
        any = true;
    }
    if let Some((list, from)) = approvals {
        let reviews = approvals_as_reviews(list, pr.environment.as_deref())
            .map_err(|e| format!("{from}: {e}"))?;
        fill(&mut pr.reviews, Some(reviews));
    }
    Ok(any.then_some(pr))
}
