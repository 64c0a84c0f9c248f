//! Many runs' JSON reports (`check --json`, version 1) as one summary
//! across repositories (`portcullis report merge`): the verdict of each
//! repository, the rules that fire most, waivers expiring across the org,
//! and which plugins (and digests) are in use where. The CI system or the
//! cluster runs one `check` per repository; this only reads their reports.
//!
//! The reports are untrusted input (an org sweep gathers them from many
//! jobs): each is read up to a bound, must be a version 1 report whose
//! verdict agrees with its exit code, and every string from it is escaped
//! where it is shown.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::html::charts::{self, Part, Row};
use super::html::page::{self, count, esc, head_row};
use crate::outcome::Counts;
use crate::policy::date::Date;

/// One JSON report's size limit.
pub const MAX_REPORT_BYTES: u64 = 64 << 20;
/// Rules listed in the summary (by findings that count), at most.
const TOP_RULES: usize = 20;
/// Reports merged at once, at most.
const MAX_REPORTS: usize = 10_000;

/// The parts of a version 1 report the summary reads.
#[derive(Deserialize)]
struct Report {
    version: u32,
    verdict: String,
    exit_code: i32,
    counts: Counts,
    policy: String,
    #[serde(default)]
    repository: Option<String>,
    #[serde(default)]
    branch: Option<String>,
    plugins: Vec<ReportPlugin>,
    findings: Vec<ReportFinding>,
    #[serde(default)]
    errors: Vec<String>,
    #[serde(default)]
    waivers: Vec<ReportWaiver>,
}

#[derive(Deserialize)]
struct ReportPlugin {
    id: String,
    #[serde(default)]
    version: Option<String>,
    source: String,
    #[serde(default)]
    sha256: Option<String>,
    success: bool,
}

#[derive(Deserialize)]
struct ReportFinding {
    rule_id: String,
    level: String,
    /// Only whether there is one.
    #[serde(default)]
    waiver: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    baseline_state: Option<String>,
}

#[derive(Deserialize)]
struct ReportWaiver {
    rule: String,
    owner: String,
    reason: String,
    expires: String,
    #[serde(default)]
    findings: usize,
}

/// The summary, as `--json` writes it (version 1).
#[derive(Serialize)]
pub struct Summary {
    pub version: u32,
    pub verdict: &'static str,
    pub exit_code: i32,
    /// Repositories by verdict.
    pub passed: usize,
    pub failed: usize,
    pub errored: usize,
    /// Findings of every repository.
    pub counts: Counts,
    pub repositories: Vec<Repository>,
    /// Rules by findings that count, most first (at most 20).
    pub rules: Vec<RuleUse>,
    /// Every waiver of every repository, soonest expiry first.
    pub waivers: Vec<WaiverUse>,
    /// Plugins by source and digest, with the repositories using each.
    pub plugins: Vec<PluginUse>,
}

#[derive(Serialize)]
pub struct Repository {
    pub repository: String,
    pub branch: String,
    pub verdict: &'static str,
    pub exit_code: i32,
    pub counts: Counts,
    pub policy: String,
    /// Why the run could not be evaluated, if it could not.
    pub errors: Vec<String>,
    /// The report it was read from.
    pub report: String,
}

#[derive(Serialize)]
pub struct RuleUse {
    pub rule_id: String,
    pub findings: usize,
    pub error: usize,
    pub warning: usize,
    pub note: usize,
    pub repositories: usize,
}

#[derive(Serialize)]
pub struct WaiverUse {
    pub repository: String,
    pub rule: String,
    pub owner: String,
    pub reason: String,
    pub expires: String,
    /// Days from today (negative: expired).
    pub days_left: i64,
    pub findings: usize,
}

#[derive(Serialize)]
pub struct PluginUse {
    pub id: String,
    pub source: String,
    pub version: Option<String>,
    pub sha256: Option<String>,
    pub repositories: Vec<String>,
    /// Repositories where it could not be evaluated.
    pub failed_in: Vec<String>,
}

/// Read every report and summarise them; any unreadable or malformed
/// report stops the merge with `file[:line:col]: why`. Reports are read
/// one at a time and only their totals kept.
pub fn merge(files: &[PathBuf], today: Date, expect: Option<usize>) -> Result<Summary, String> {
    if let Some(n) = expect
        && files.len() != n
    {
        return Err(format!(
            "{} given, {n} expected: a repository's run left no report",
            crate::report::html::page::count(files.len(), "report", "reports")
        ));
    }
    if files.len() > MAX_REPORTS {
        return Err(format!(
            "{} reports: at most {MAX_REPORTS} are merged at once",
            files.len()
        ));
    }
    let mut seen: BTreeMap<(String, String), &Path> = BTreeMap::new();
    let mut summary = Summary {
        version: 1,
        verdict: "pass",
        exit_code: 0,
        passed: 0,
        failed: 0,
        errored: 0,
        counts: Counts::default(),
        repositories: Vec::new(),
        rules: Vec::new(),
        waivers: Vec::new(),
        plugins: Vec::new(),
    };
    let mut rules: BTreeMap<String, (RuleUse, std::collections::BTreeSet<String>)> =
        BTreeMap::new();
    let mut plugins: BTreeMap<(String, Option<String>), PluginUse> = BTreeMap::new();
    for path in files {
        let r = read(path)?;
        let name = r.repository.clone().unwrap_or_else(|| {
            path.file_stem()
                .map_or_else(|| "repository".into(), |s| s.to_string_lossy().into_owned())
        });
        let branch = r.branch.clone().unwrap_or_default();
        if let Some(other) = seen.insert((name.clone(), branch.clone()), path) {
            return Err(format!(
                "{} and {} both report {}{}: merge one run per repository and branch",
                other.display(),
                path.display(),
                short(&name),
                if branch.is_empty() {
                    String::new()
                } else {
                    format!(" on {}", short(&branch))
                }
            ));
        }
        let verdict = verdict(&r.verdict);
        match verdict {
            "pass" => summary.passed += 1,
            "fail" => summary.failed += 1,
            _ => summary.errored += 1,
        }
        summary.exit_code = summary.exit_code.max(r.exit_code);
        let c = &mut summary.counts;
        c.error += r.counts.error;
        c.warning += r.counts.warning;
        c.note += r.counts.note;
        c.waived += r.counts.waived;
        c.baselined += r.counts.baselined;
        for f in &r.findings {
            if f.waiver.is_some() || f.baseline_state.as_deref() == Some("unchanged") {
                continue;
            }
            let (rule, repos) = rules.entry(f.rule_id.clone()).or_insert_with(|| {
                (
                    RuleUse {
                        rule_id: f.rule_id.clone(),
                        findings: 0,
                        error: 0,
                        warning: 0,
                        note: 0,
                        repositories: 0,
                    },
                    Default::default(),
                )
            });
            rule.findings += 1;
            match f.level.as_str() {
                "error" => rule.error += 1,
                "warning" => rule.warning += 1,
                _ => rule.note += 1,
            }
            repos.insert(name.clone());
        }
        for w in &r.waivers {
            let expires = Date::parse(&w.expires).ok_or_else(|| {
                format!(
                    "{}: waiver for `{}` expires on `{}`, not a YYYY-MM-DD date",
                    path.display(),
                    short(&w.rule),
                    short(&w.expires)
                )
            })?;
            summary.waivers.push(WaiverUse {
                repository: name.clone(),
                rule: w.rule.clone(),
                owner: w.owner.clone(),
                reason: w.reason.clone(),
                expires: w.expires.clone(),
                days_left: today.days_until(expires),
                findings: w.findings,
            });
        }
        // The host's own rules (waiver diagnostics) are not a plugin.
        for p in r
            .plugins
            .iter()
            .filter(|p| p.source != crate::outcome::HOST_ORIGIN)
        {
            let entry = plugins
                .entry((p.source.clone(), p.sha256.clone()))
                .or_insert_with(|| PluginUse {
                    id: p.id.clone(),
                    source: p.source.clone(),
                    version: p.version.clone(),
                    sha256: p.sha256.clone(),
                    repositories: Vec::new(),
                    failed_in: Vec::new(),
                });
            entry.repositories.push(name.clone());
            if !p.success {
                entry.failed_in.push(name.clone());
            }
        }
        summary.repositories.push(Repository {
            repository: name,
            branch,
            verdict,
            exit_code: r.exit_code,
            counts: r.counts,
            policy: r.policy,
            errors: r.errors,
            report: path.display().to_string(),
        });
    }
    summary.verdict = match summary.exit_code {
        0 => "pass",
        1 => "fail",
        _ => "error",
    };
    summary.repositories.sort_by(|a, b| {
        b.exit_code
            .cmp(&a.exit_code)
            .then(b.counts.error.cmp(&a.counts.error))
            .then(a.repository.cmp(&b.repository))
    });
    let mut rules: Vec<RuleUse> = rules
        .into_values()
        .map(|(mut r, repos)| {
            r.repositories = repos.len();
            r
        })
        .collect();
    rules.sort_by(|a, b| {
        b.findings
            .cmp(&a.findings)
            .then(b.repositories.cmp(&a.repositories))
            .then(a.rule_id.cmp(&b.rule_id))
    });
    rules.truncate(TOP_RULES);
    summary.rules = rules;
    summary.waivers.sort_by(|a, b| {
        a.days_left
            .cmp(&b.days_left)
            .then(a.repository.cmp(&b.repository))
    });
    summary.plugins = plugins.into_values().collect();
    summary.plugins.sort_by(|a, b| {
        b.repositories
            .len()
            .cmp(&a.repositories.len())
            .then(a.id.cmp(&b.id))
    });
    Ok(summary)
}

/// A string from a report, as an error message may quote it.
fn short(s: &str) -> String {
    super::text::visible(&crate::diag::one_line(s, 120)).into_owned()
}

fn read(path: &Path) -> Result<Report, String> {
    let text = crate::files::read_to_string(path, MAX_REPORT_BYTES)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let report: Report = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a portcullis JSON report: {}",
            path.display(),
            e.line(),
            e.column(),
            short(&e.to_string())
        )
    })?;
    let bad = |why: String| Err(format!("{}: {why}", path.display()));
    if report.version != 1 {
        return bad(format!(
            "report version {} is not supported (expected 1)",
            report.version
        ));
    }
    let expected = match report.verdict.as_str() {
        "pass" => 0,
        "fail" => 1,
        "error" => 2,
        other => {
            return bad(format!(
                "verdict `{}` is not pass, fail or error",
                short(other)
            ));
        }
    };
    if report.exit_code != expected {
        return bad(format!(
            "verdict `{}` with exit code {}: the report contradicts itself",
            report.verdict, report.exit_code
        ));
    }
    // Any plugin that could not be evaluated makes the run an error.
    if expected != 2 && (report.plugins.iter().any(|p| !p.success) || !report.errors.is_empty()) {
        return bad(format!(
            "verdict `{}` while a plugin could not be evaluated: the report contradicts itself",
            report.verdict
        ));
    }
    // The counts are what the findings say: a report cannot claim fewer
    // (or absurdly many) findings than it lists.
    let mut counted = Counts::default();
    for f in &report.findings {
        if f.waiver.is_some() {
            counted.waived += 1;
        } else if f.baseline_state.as_deref() == Some("unchanged") {
            counted.baselined += 1;
        } else {
            match f.level.as_str() {
                "error" => counted.error += 1,
                "warning" => counted.warning += 1,
                "note" => counted.note += 1,
                other => {
                    return bad(format!(
                        "a finding's level `{}` is not error, warning or note",
                        short(other)
                    ));
                }
            }
        }
    }
    if counted != report.counts {
        return bad(format!(
            "its counts ({} errors, {} warnings, {} notes, {} waived, {} baselined) are not those of its findings ({}, {}, {}, {}, {}): the report contradicts itself",
            report.counts.error,
            report.counts.warning,
            report.counts.note,
            report.counts.waived,
            report.counts.baselined,
            counted.error,
            counted.warning,
            counted.note,
            counted.waived,
            counted.baselined
        ));
    }
    Ok(report)
}

fn verdict(v: &str) -> &'static str {
    match v {
        "pass" => "pass",
        "fail" => "fail",
        _ => "error",
    }
}

/// The summary as JSON.
pub fn json(summary: &Summary) -> String {
    let mut s =
        serde_json::to_string_pretty(summary).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"));
    s.push('\n');
    s
}

/// The summary for a terminal: one line per repository, then the top
/// rules and the waivers expiring within `soon` days.
pub fn text(summary: &Summary, soon: i64) -> String {
    // Every string came from a report: one line each, bounded, visible.
    let v = short;
    let mut out = String::new();
    let names: Vec<String> = summary
        .repositories
        .iter()
        .map(|r| {
            if r.branch.is_empty() {
                v(&r.repository)
            } else {
                v(&format!("{}@{}", r.repository, r.branch))
            }
        })
        .collect();
    let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(10);
    for (r, name) in summary.repositories.iter().zip(&names) {
        let _ = writeln!(
            out,
            "{name:<width$}  {:<5}  {} errors, {} warnings, {} notes{}",
            r.verdict,
            r.counts.error,
            r.counts.warning,
            r.counts.note,
            r.errors
                .first()
                .map_or(String::new(), |e| format!("; {}", v(e)))
        );
    }
    if !summary.rules.is_empty() {
        let _ = writeln!(out, "\ntop rules:");
        for r in summary.rules.iter().take(10) {
            let _ = writeln!(
                out,
                "  {:>5}  {} ({})",
                r.findings,
                v(&r.rule_id),
                count(r.repositories, "repository", "repositories")
            );
        }
    }
    let expiring: Vec<&WaiverUse> = summary
        .waivers
        .iter()
        .filter(|w| w.days_left <= soon)
        .collect();
    if !expiring.is_empty() {
        let _ = writeln!(out, "\nwaivers expired or expiring within {soon} days:");
        for w in expiring {
            let _ = writeln!(
                out,
                "  {}  {}  {}  owner {}",
                v(&w.expires),
                v(&w.repository),
                v(&w.rule),
                v(&w.owner)
            );
        }
    }
    let _ = writeln!(
        out,
        "\n{}: {} passed, {} failed, {} could not be evaluated",
        count(summary.repositories.len(), "repository", "repositories"),
        summary.passed,
        summary.failed,
        summary.errored
    );
    out
}

/// The summary as one self-contained page.
pub fn html(summary: &Summary, soon: i64) -> String {
    let mut body = String::new();
    let word = match summary.verdict {
        "pass" => "Every repository passed",
        "fail" => "Some repositories failed",
        _ => "Some repositories could not be evaluated",
    };
    let _ = writeln!(
        body,
        "<header><h1>portcullis: {}</h1>\n<section class=\"verdict {}\" aria-labelledby=\"verdict\"><h2 id=\"verdict\" class=\"big\">{} {}</h2><p>{} passed, {} failed, {} could not be evaluated.</p></section>",
        esc(&count(
            summary.repositories.len(),
            "repository",
            "repositories"
        )),
        summary.verdict,
        esc(word),
        page::verdict_badge(summary.verdict, summary.verdict),
        summary.passed,
        summary.failed,
        summary.errored
    );
    let c = summary.counts;
    let _ = writeln!(
        body,
        "<ul class=\"cards\" aria-label=\"Counts\"><li><span class=\"n\">{}</span>errors</li><li><span class=\"n\">{}</span>warnings</li><li><span class=\"n\">{}</span>notes</li><li><span class=\"n\">{}</span>waived</li><li><span class=\"n\">{}</span>in baselines</li></ul>",
        c.error, c.warning, c.note, c.waived, c.baselined
    );
    body.push_str("<nav aria-label=\"Sections\"><ul><li><a href=\"#repositories\">Repositories</a></li><li><a href=\"#rules\">Top rules</a></li><li><a href=\"#waivers\">Waivers</a></li><li><a href=\"#plugins\">Plugins</a></li></ul></nav></header>\n<main id=\"main\">\n");

    body.push_str(
        "<section aria-labelledby=\"repositories\"><h2 id=\"repositories\">Repositories</h2>\n",
    );
    let verdicts = [Row {
        label: "repositories".into(),
        parts: vec![
            Part {
                value: summary.passed as f64,
                class: "pass",
                label: format!("{} passed", summary.passed),
            },
            Part {
                value: summary.failed as f64,
                class: "error",
                label: format!("{} failed", summary.failed),
            },
            Part {
                value: summary.errored as f64,
                class: "other",
                label: format!("{} could not be evaluated", summary.errored),
            },
        ],
        value_text: summary.repositories.len().to_string(),
    }];
    let _ = writeln!(
        body,
        "<figure><figcaption>Verdicts</figcaption>{}{}</figure>",
        charts::legend(&[
            ("pass", "passed"),
            ("error", "failed"),
            ("other", "could not be evaluated")
        ]),
        charts::bars("Repositories by verdict", &verdicts, None, None)
    );
    body.push_str("<table>");
    body.push_str(&head_row(&[
        "repository",
        "branch",
        "verdict",
        "errors",
        "warnings",
        "notes",
        "waived",
        "policy",
        "why not evaluated",
    ]));
    body.push_str("<tbody>");
    for r in &summary.repositories {
        let _ = write!(
            body,
            "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"mono\">{}</td><td>{}</td></tr>",
            esc(&r.repository),
            esc(&r.branch),
            page::verdict_badge(r.verdict, r.verdict),
            r.counts.error,
            r.counts.warning,
            r.counts.note,
            r.counts.waived,
            esc(&r.policy),
            esc(&r.errors.join("; "))
        );
    }
    body.push_str("</tbody></table></section>\n");

    body.push_str("<section aria-labelledby=\"rules\"><h2 id=\"rules\">Top rules</h2>\n");
    if summary.rules.is_empty() {
        body.push_str("<p>No finding counts in any repository.</p>");
    } else {
        let rows: Vec<Row> = summary
            .rules
            .iter()
            .map(|r| Row {
                label: r.rule_id.clone(),
                parts: [(r.error, "error"), (r.warning, "warning"), (r.note, "note")]
                    .into_iter()
                    .filter(|(n, _)| *n > 0)
                    .map(|(n, class)| Part {
                        value: n as f64,
                        class,
                        label: format!("{}: {n} {class}", r.rule_id),
                    })
                    .collect(),
                value_text: format!(
                    "{} in {}",
                    r.findings,
                    count(r.repositories, "repo", "repos")
                ),
            })
            .collect();
        let _ = writeln!(
            body,
            "<figure><figcaption>Findings that count, by rule</figcaption>{}{}</figure>",
            charts::legend(&[("error", "error"), ("warning", "warning"), ("note", "note")]),
            charts::bars("Findings that count, by rule and level", &rows, None, None)
        );
        body.push_str("<table>");
        body.push_str(&head_row(&[
            "rule",
            "findings",
            "errors",
            "warnings",
            "notes",
            "repositories",
        ]));
        body.push_str("<tbody>");
        for r in &summary.rules {
            let _ = write!(
                body,
                "<tr><td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                esc(&r.rule_id),
                r.findings,
                r.error,
                r.warning,
                r.note,
                r.repositories
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</section>\n");

    body.push_str("<section aria-labelledby=\"waivers\"><h2 id=\"waivers\">Waivers</h2>\n");
    if summary.waivers.is_empty() {
        body.push_str("<p>No repository waives anything.</p>");
    } else {
        let _ = write!(
            body,
            "<p>{}; expired ones and those expiring within {soon} days are highlighted.</p><table>",
            count(summary.waivers.len(), "waiver", "waivers")
        );
        body.push_str(&head_row(&[
            "expires",
            "status",
            "repository",
            "rule",
            "owner",
            "reason",
            "findings",
        ]));
        body.push_str("<tbody>");
        for w in &summary.waivers {
            let (class, status) = page::expiry(w.days_left, soon);
            let _ = write!(
                body,
                "<tr{class}><td class=\"num\">{}</td><td>{}</td><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td></tr>",
                esc(&w.expires),
                esc(&status),
                esc(&w.repository),
                esc(&w.rule),
                esc(&w.owner),
                esc(&w.reason),
                w.findings
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</section>\n");

    body.push_str("<section aria-labelledby=\"plugins\"><h2 id=\"plugins\">Plugins in use</h2>\n<p>One row per source and digest: a plugin with several rows runs in different builds across the org.</p><table>");
    body.push_str(&head_row(&[
        "plugin",
        "source",
        "version",
        "sha256",
        "repositories",
        "could not be evaluated in",
    ]));
    body.push_str("<tbody>");
    for p in &summary.plugins {
        let _ = write!(
            body,
            "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td class=\"mono\">{}</td><td>{} <span class=\"muted\">({})</span></td><td>{}</td></tr>",
            esc(&p.id),
            esc(&p.source),
            esc(p.version.as_deref().unwrap_or("")),
            esc(p.sha256.as_deref().unwrap_or("—")),
            p.repositories.len(),
            esc(&p.repositories.join(", ")),
            esc(&p.failed_in.join(", "))
        );
    }
    body.push_str("</tbody></table></section>\n</main>\n");
    let _ = writeln!(
        body,
        "<footer><p>portcullis {} · merged from {}.</p></footer>",
        env!("CARGO_PKG_VERSION"),
        count(summary.repositories.len(), "report", "reports")
    );
    page::document(
        &format!(
            "portcullis: {} across {}",
            summary.verdict,
            count(summary.repositories.len(), "repository", "repositories")
        ),
        &body,
    )
}
