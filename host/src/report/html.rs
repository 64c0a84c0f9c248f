//! The run as one self-contained HTML page (`--html FILE`), for people who
//! would rather look than read SARIF: the verdict and why, each plugin's
//! time and status, charts (findings per plugin and level, time per
//! plugin, benchmark changes with their intervals, coverage), findings
//! grouped by file with the flagged lines in context, the help of every
//! rule that fired, waivers (expiring ones highlighted), the baseline's
//! new and absent findings, and where approvals stand.
//!
//! Everything the checked repository or a plugin wrote is untrusted: it is
//! escaped ([`page::esc`]); flagged lines are read from the repository as
//! the plugins' grants are (no symlink, never `.git`, bounded); the page
//! has no script and loads nothing.

pub mod charts;
pub mod page;

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::Read as _;
use std::os::fd::AsFd as _;

use serde_json::Value;

use crate::diag::Exit;
use crate::finding::{BaselineState, Finding};
use crate::outcome::{Outcome, PluginRun};
use crate::policy::date::Date;
use charts::{Interval, Part, Row};
use page::{badge, count, esc, head_row};

/// Findings shown in full (with context); the rest are counted.
const MAX_SHOWN: usize = 1000;
/// Lines of context above and below a flagged region.
const CONTEXT: u32 = 2;
/// Flagged lines shown at most per finding.
const MAX_FLAGGED_LINES: u32 = 12;
/// Files read for context, and bytes per file.
const MAX_FILES: usize = 200;
const MAX_FILE_BYTES: u64 = 4 << 20;
/// Characters of one shown line.
const MAX_LINE_CHARS: usize = 400;
/// Bytes of one rule's help, of all rules' help, and rules shown.
const MAX_HELP_BYTES: usize = 64 << 10;
const MAX_ALL_HELP_BYTES: usize = 2 << 20;
const MAX_RULES_SHOWN: usize = 500;
/// Benchmark comparisons and coverage charts drawn, in all.
const MAX_COMPARISONS: usize = 500;
const MAX_CHARTS: usize = 10;

/// The page for a finished run.
/// The page for a finished run; `group` says where it belongs.
pub fn render(outcome: &Outcome, group: &super::openmetrics::Group) -> String {
    let today = Date::today().ok();
    let mut body = String::new();
    let verdict = verdict_word(outcome.verdict.exit);
    let title = format!(
        "portcullis: gate {} — {}",
        outcome.verdict.word(),
        group.repository
    );
    header(&mut body, outcome, group, verdict);
    body.push_str("<main id=\"main\">\n");
    overview(&mut body, outcome);
    plugins(&mut body, outcome);
    let anchors = anchors(outcome);
    findings(&mut body, outcome, &anchors);
    rules(&mut body, outcome, &anchors);
    waivers(&mut body, outcome, today);
    baseline(&mut body, outcome);
    approvals(&mut body, outcome);
    body.push_str("</main>\n");
    footer(&mut body, outcome);
    page::document(&title, &body)
}

/// The page for a run stopped before any plugin ran (a policy error):
/// exit 2 and why.
pub fn render_stopped(group: &super::openmetrics::Group, why: &str) -> String {
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<header><h1>portcullis: gate could not be evaluated</h1></header>\n<main id=\"main\">\
         <section class=\"verdict error\" aria-labelledby=\"verdict\"><h2 id=\"verdict\">Verdict</h2>\
         <p class=\"big\">{}</p><p>{}: the run stopped before any plugin ran (exit 2).</p><p class=\"mono\">{}</p></section></main>",
        page::verdict_badge("error", "could not be evaluated"),
        esc(&group.repository),
        esc(why)
    );
    let _ = writeln!(
        body,
        "<footer><p>portcullis {}</p></footer>",
        env!("CARGO_PKG_VERSION")
    );
    page::document("portcullis: gate could not be evaluated", &body)
}

fn verdict_word(exit: Exit) -> &'static str {
    match exit {
        Exit::Pass => "pass",
        Exit::Fail => "fail",
        Exit::Error => "error",
    }
}

fn header(body: &mut String, outcome: &Outcome, group: &super::openmetrics::Group, verdict: &str) {
    let v = &outcome.verdict;
    let fail_at = outcome.fail_at.as_str();
    let why = match v.exit {
        Exit::Error => format!(
            "{} could not be evaluated, so the gate cannot pass (exit 2).",
            count(v.failed_plugins, "plugin", "plugins")
        ),
        Exit::Fail => format!(
            "{} at or above <strong>{fail_at}</strong>, the policy's fail-at level (exit 1).",
            count(v.failing, "finding counts", "findings count")
        ),
        Exit::Pass if v.failing > 0 => format!(
            "{} at or above <strong>{fail_at}</strong>, within the analysis's failure limit (exit 0).",
            count(v.failing, "finding counts", "findings count")
        ),
        Exit::Pass => format!(
            "No finding counts at or above <strong>{fail_at}</strong>, the policy's fail-at level (exit 0)."
        ),
    };
    let _ = writeln!(
        body,
        "<header>\n<h1>portcullis: {}</h1>\n<p class=\"muted\">Branch <span class=\"mono\">{}</span> · policy <span class=\"mono\">{}</span> · {} plugins · {} ms</p>",
        esc(&group.repository),
        esc(&group.branch),
        esc(&outcome.shown(&outcome.policy.origin)),
        outcome.runs.iter().filter(|r| !r.is_host()).count(),
        outcome.elapsed.as_millis()
    );
    let _ = writeln!(
        body,
        "<section class=\"verdict {verdict}\" aria-labelledby=\"verdict\">\n<h2 id=\"verdict\" class=\"big\">Gate {} {}</h2>\n<p>{why}</p>",
        esc(v.word()),
        page::verdict_badge(verdict, verdict)
    );
    let failures = outcome.failures();
    if !failures.is_empty() {
        body.push_str("<ul>");
        for f in &failures {
            let _ = write!(body, "<li class=\"mono\">{}</li>", esc(f));
        }
        body.push_str("</ul>");
    }
    body.push_str("</section>\n");
    let c = v.counts;
    let _ = writeln!(
        body,
        "<ul class=\"cards\" aria-label=\"Counts\"><li><span class=\"n\">{}</span>errors</li><li><span class=\"n\">{}</span>warnings</li><li><span class=\"n\">{}</span>notes</li><li><span class=\"n\">{}</span>waived</li><li><span class=\"n\">{}</span>in the baseline</li></ul>",
        c.error, c.warning, c.note, c.waived, c.baselined
    );
    body.push_str(
        "<nav aria-label=\"Sections\"><ul><li><a href=\"#overview\">Overview</a></li><li><a href=\"#plugins\">Plugins</a></li><li><a href=\"#findings\">Findings</a></li><li><a href=\"#rules\">Rules</a></li><li><a href=\"#waivers\">Waivers</a></li><li><a href=\"#baseline\">Baseline</a></li><li><a href=\"#approvals\">Approvals</a></li></ul></nav>\n</header>\n",
    );
}

fn overview(body: &mut String, outcome: &Outcome) {
    body.push_str("<section aria-labelledby=\"overview\"><h2 id=\"overview\">Overview</h2>\n");
    // Findings that count, per plugin and level.
    let mut rows = Vec::new();
    for run in outcome.runs.iter().filter(|r| !r.findings.is_empty()) {
        let c = crate::outcome::Counts::of(run.findings.iter().filter(|f| f.counts()));
        let other = run.findings.len() - c.error - c.warning - c.note;
        let mut parts = Vec::new();
        for (n, class, word) in [
            (c.error, "error", "errors"),
            (c.warning, "warning", "warnings"),
            (c.note, "note", "notes"),
            (other, "other", "waived or in the baseline"),
        ] {
            if n > 0 {
                parts.push(Part {
                    value: n as f64,
                    class,
                    label: format!("{}: {n} {word}", run.id),
                });
            }
        }
        rows.push(Row {
            label: run.id.clone(),
            parts,
            value_text: run.findings.len().to_string(),
        });
    }
    if rows.is_empty() {
        body.push_str("<p>No plugin reported a finding.</p>\n");
    } else {
        figure(
            body,
            "Findings per plugin and level",
            &charts::bars("Findings per plugin and level", &rows, None, None),
            &charts::legend(&[
                ("error", "error"),
                ("warning", "warning"),
                ("note", "note"),
                ("other", "waived or in the baseline"),
            ]),
        );
    }
    // Time per plugin: loading (and describe) and evaluate.
    let rows: Vec<Row> = outcome
        .runs
        .iter()
        .filter(|r| !r.is_host())
        .map(|r| {
            let total = r.duration.as_secs_f64() * 1000.0;
            let eval = r.evaluate_duration.as_secs_f64() * 1000.0;
            Row {
                label: r.id.clone(),
                parts: vec![
                    Part {
                        value: (total - eval).max(0.0),
                        class: "other",
                        label: format!("{}: load and describe {:.1} ms", r.id, total - eval),
                    },
                    Part {
                        value: eval,
                        class: if r.failure.is_some() { "error" } else { "note" },
                        label: format!("{}: evaluate {eval:.1} ms", r.id),
                    },
                ],
                value_text: format!("{total:.1} ms"),
            }
        })
        .collect();
    if !rows.is_empty() {
        figure(
            body,
            "Time per plugin",
            &charts::bars("Time per plugin, in milliseconds", &rows, None, None),
            &charts::legend(&[("other", "load and describe"), ("note", "evaluate")]),
        );
    }
    benchmarks(body, outcome);
    coverage(body, outcome);
    if !outcome.notices.is_empty() {
        body.push_str("<h3>Notices</h3><ul>");
        for n in &outcome.notices {
            let _ = write!(body, "<li>{}</li>", esc(n));
        }
        body.push_str("</ul>\n");
    }
    body.push_str("</section>\n");
}

fn figure(body: &mut String, caption: &str, svg: &str, legend: &str) {
    let _ = writeln!(
        body,
        "<figure><figcaption>{}</figcaption>{legend}{svg}</figure>",
        esc(caption)
    );
}

fn num(v: &Value, key: &str) -> Option<f64> {
    v.get(key).and_then(Value::as_f64).filter(|x| x.is_finite())
}

fn string<'v>(v: &'v Value, key: &str) -> &'v str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Benchmark comparisons a plugin summarised (`comparisons` in a finding's
/// properties, as the perf plugin writes them): each change with its
/// interval, against the threshold.
fn benchmarks(body: &mut String, outcome: &Outcome) {
    let mut budget = MAX_COMPARISONS;
    let mut charts = 0;
    for f in outcome.findings() {
        let Some(list) = property(f, "comparisons").and_then(Value::as_array) else {
            continue;
        };
        if budget == 0 || charts == MAX_CHARTS {
            break;
        }
        charts += 1;
        let mut rows = Vec::new();
        let mut table = String::new();
        let mut threshold = None;
        let take = budget.min(list.len());
        budget -= take;
        for c in list.iter().take(take) {
            let Some(change) = num(c, "change_percent") else {
                continue;
            };
            threshold = threshold.or(num(c, "threshold_percent"));
            let verdict = string(c, "verdict");
            let unit = string(c, "unit");
            let (low, high) = (
                num(c, "interval_low_percent"),
                num(c, "interval_high_percent"),
            );
            rows.push(Interval {
                label: string(c, "benchmark").to_string(),
                value: change,
                low,
                high,
                class: match verdict {
                    "regressed" => "error",
                    "improved" => "pass",
                    _ => "other",
                },
                text: charts::signed(change),
            });
            let interval = match (low, high) {
                (Some(l), Some(h)) => format!("{} to {}", charts::signed(l), charts::signed(h)),
                _ => "—".into(),
            };
            let _ = write!(
                table,
                "<tr><td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
                esc(string(c, "benchmark")),
                esc(&amount(num(c, "baseline_median"), unit)),
                esc(&amount(num(c, "new_median"), unit)),
                esc(&charts::signed(change)),
                esc(&interval),
                esc(verdict)
            );
        }
        if rows.is_empty() {
            continue;
        }
        let caption = format!(
            "Benchmarks ({}): change of the median, with its interval",
            f.plugin
        );
        figure(
            body,
            &caption,
            &charts::intervals(&caption, &rows, threshold),
            &charts::legend(&[
                ("error", "regressed"),
                ("pass", "improved"),
                ("other", "within the threshold"),
            ]),
        );
        let _ = writeln!(
            body,
            "<table>{}<tbody>{table}</tbody></table>",
            head_row(&[
                "benchmark",
                "baseline",
                "new",
                "change",
                "interval",
                "verdict"
            ])
        );
    }
}

fn amount(v: Option<f64>, unit: &str) -> String {
    match v {
        None => "—".into(),
        Some(v) if unit == "ns" => {
            if v >= 1e9 {
                format!("{:.3} s", v / 1e9)
            } else if v >= 1e6 {
                format!("{:.3} ms", v / 1e6)
            } else if v >= 1e3 {
                format!("{:.3} µs", v / 1e3)
            } else {
                format!("{v:.1} ns")
            }
        }
        Some(v) => format!("{v} {unit}"),
    }
}

/// Coverage a plugin summarised (`coverage` in a finding's properties, as
/// the tests plugin writes it): overall, on new code, the baseline.
fn coverage(body: &mut String, outcome: &Outcome) {
    let mut charts = 0;
    for f in outcome.findings() {
        let Some(cov) = property(f, "coverage") else {
            continue;
        };
        if charts == MAX_CHARTS {
            break;
        }
        charts += 1;
        let mut rows = Vec::new();
        let mut text = Vec::new();
        let mut bar = |label: &str, percent: Option<f64>, detail: String| {
            if let Some(p) = percent {
                rows.push(Row {
                    label: label.to_string(),
                    parts: vec![Part {
                        value: p,
                        class: "note",
                        label: format!("{label}: {p:.1} %"),
                    }],
                    value_text: format!("{p:.1} %"),
                });
                text.push(format!("{label} {p:.1} %{detail}"));
            }
        };
        let lines = |v: &Value| match (num(v, "covered"), num(v, "measured")) {
            (Some(c), Some(m)) => format!(" ({c} of {m} lines)"),
            _ => String::new(),
        };
        bar("overall", num(cov, "percent"), lines(cov));
        if let Some(new) = cov.get("new-code") {
            bar("new code", num(new, "percent"), lines(new));
        }
        bar("baseline", num(cov, "baseline-percent"), String::new());
        if rows.is_empty() {
            continue;
        }
        let caption = format!("Line coverage ({})", f.plugin);
        figure(
            body,
            &caption,
            &charts::bars(&caption, &rows, Some(100.0), None),
            "",
        );
        let _ = writeln!(body, "<p>{}.</p>", esc(&text.join("; ")));
        if let Some(t) = property(f, "tests") {
            let n = |k: &str| num(t, k).unwrap_or(0.0);
            let _ = writeln!(
                body,
                "<p>Tests: {} passed, {} failed, {} errored, {} flaky, {} skipped of {}.</p>",
                n("passed"),
                n("failed"),
                n("errored"),
                n("flaky"),
                n("skipped"),
                n("total")
            );
        }
    }
}

fn property<'f>(f: &'f Finding, key: &str) -> Option<&'f Value> {
    f.properties.as_ref().and_then(|p| p.get(key))
}

fn plugins(body: &mut String, outcome: &Outcome) {
    body.push_str("<section aria-labelledby=\"plugins\"><h2 id=\"plugins\">Plugins</h2>\n<table>");
    body.push_str(&head_row(&[
        "plugin", "source", "sha256", "status", "time", "evaluate", "compiled", "findings",
    ]));
    body.push_str("<tbody>");
    for r in outcome.runs.iter().filter(|r| !r.is_host()) {
        let status = match &r.failure {
            None => "<span class=\"badge pass\">ok</span>".to_string(),
            Some(f) => format!(
                "<span class=\"badge stopped\">{}</span> {}",
                esc(f.kind()),
                esc(&f.to_string())
            ),
        };
        let compiled = if r.precompiled {
            "precompiled"
        } else if r.compiled_from_cache {
            "cached"
        } else {
            "this run"
        };
        let version = r
            .info
            .as_ref()
            .map_or(String::new(), |i| format!(" {}", i.version));
        let _ = write!(
            body,
            "<tr><td><strong>{}</strong><br><span class=\"muted\">{}{}</span></td><td class=\"mono\">{}</td><td class=\"mono\" title=\"{}\">{}</td><td>{status}</td><td class=\"num\">{:.1} ms</td><td class=\"num\">{:.1} ms</td><td>{compiled}</td><td class=\"num\">{}</td></tr>",
            esc(&r.id),
            esc(r.name()),
            esc(&version),
            esc(&outcome.shown(&r.origin)),
            esc(r.sha256.as_deref().unwrap_or("")),
            esc(&r
                .sha256
                .as_deref()
                .map_or("—".into(), |s| format!("{}…", &s[..s.len().min(12)]))),
            r.duration.as_secs_f64() * 1000.0,
            r.evaluate_duration.as_secs_f64() * 1000.0,
            r.findings.len()
        );
    }
    body.push_str("</tbody></table></section>\n");
}

/// Each rule's anchor (`rule-N`, in the order the rules section lists
/// them): ids of their own, whatever characters a rule id holds.
fn anchors(outcome: &Outcome) -> HashMap<&str, String> {
    let mut out = HashMap::new();
    for f in outcome.findings() {
        let n = out.len();
        out.entry(f.rule_id.as_str())
            .or_insert_with(|| format!("rule-{n}"));
    }
    out
}

/// Findings grouped by file, each with its flagged lines in context. When
/// there are more than can be shown, those that count come first, the most
/// severe first.
fn findings(body: &mut String, outcome: &Outcome, anchors: &HashMap<&str, String>) {
    body.push_str("<section aria-labelledby=\"findings\"><h2 id=\"findings\">Findings</h2>\n");
    let mut all: Vec<&Finding> = outcome.findings().collect();
    let total = all.len();
    if total == 0 {
        body.push_str("<p>None.</p></section>\n");
        return;
    }
    let files = outcome
        .findings()
        .filter_map(|f| f.locations.first().map(|l| l.path.as_str()))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let _ = writeln!(
        body,
        "<p>{} in {}; waived findings and those already in the baseline are shown but do not count.</p>",
        count(total, "finding", "findings"),
        count(files, "file", "files"),
    );
    all.sort_by_key(|f| (!f.counts(), std::cmp::Reverse(f.level)));
    all.truncate(MAX_SHOWN);
    let mut by_file: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for f in all {
        by_file
            .entry(f.locations.first().map_or("", |l| l.path.as_str()))
            .or_default()
            .push(f);
    }
    let root = std::fs::File::open(&outcome.root).ok();
    let secret_files = secret_files(outcome);
    let mut files_read = 0usize;
    for (path, mut list) in by_file {
        list.sort_by_key(|f| (start_line(f), std::cmp::Reverse(f.level), f.rule_id.clone()));
        let heading = if path.is_empty() {
            "Without a file"
        } else {
            path
        };
        let _ = writeln!(
            body,
            "<h3 class=\"mono\">{} <span class=\"muted\">({})</span></h3>",
            esc(heading),
            list.len()
        );
        // The file is read once for its findings, and only when a plugin
        // that reported in it may read it; dropped before the next. No line
        // of a file holding a secret is shown, whatever the finding.
        let granted = |f: &Finding| may_read(outcome, &f.plugin, path);
        let secret = secret_files.contains(path);
        if secret {
            body.push_str(
                "<p class=\"muted\">Lines not shown: a secret was found in this file.</p>\n",
            );
        }
        let lines = match &root {
            Some(root)
                if !path.is_empty()
                    && !secret
                    && files_read < MAX_FILES
                    && list.iter().any(|f| granted(f)) =>
            {
                files_read += 1;
                read_lines(root, path)
            }
            _ => None,
        };
        for f in list {
            let context = lines.as_deref().filter(|_| granted(f));
            finding(body, outcome, f, anchors, context);
        }
    }
    if total > MAX_SHOWN {
        let _ = writeln!(
            body,
            "<p>{} more are not shown here; the SARIF and JSON reports have every one.</p>",
            total - MAX_SHOWN
        );
    }
    body.push_str("</section>\n");
}

/// Files where a rule tagged `secrets` (the secrets plugin's, or any
/// plugin's that says so) found something: the page never shows their
/// lines, so it never prints a secret.
fn secret_files(outcome: &Outcome) -> std::collections::BTreeSet<&str> {
    outcome
        .runs
        .iter()
        .flat_map(|run| {
            run.findings.iter().filter(|f| {
                run.rules
                    .get(f.rule_index)
                    .is_some_and(|r| r.tags.iter().any(|t| t == "secrets" || t == "secret"))
            })
        })
        .filter_map(|f| f.locations.first().map(|l| l.path.as_str()))
        .collect()
}

/// Whether the plugin `id` may read `path` under the policy's grants (the
/// host's own findings point at the policy file): the page shows no line
/// that the plugin that flagged it could not read itself.
fn may_read(outcome: &Outcome, id: &str, path: &str) -> bool {
    if id == crate::outcome::HOST_ID {
        return outcome.policy_location().as_deref() == Some(path);
    }
    outcome
        .policy
        .plugins
        .iter()
        .find(|p| p.id == id)
        .is_some_and(|p| {
            p.read.iter().any(|g| {
                let g = g.trim_start_matches("./").trim_end_matches('/');
                g.is_empty()
                    || g == "."
                    || path == g
                    || path
                        .strip_prefix(g)
                        .is_some_and(|rest| rest.starts_with('/'))
            })
        })
}

fn start_line(f: &Finding) -> u32 {
    f.locations
        .first()
        .and_then(|l| l.region.as_ref())
        .map_or(0, |r| r.start_line)
}

/// The lines to show for a region of a file of `len` lines, 1-based and
/// inclusive: `(from, to)` with context, `(first, last)` flagged (at most
/// [`MAX_FLAGGED_LINES`]); `None` when the region starts past the end (a
/// region just past the last line, where parsers place "unexpected end of
/// file", shows the last lines). Line numbers come from plugins: any `u32`
/// is safe here.
fn context(start: u32, end: Option<u32>, len: usize) -> Option<(u32, u32, u32, u32)> {
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    let first = start.max(1);
    if len == 0 || first > len.saturating_add(1) {
        return None;
    }
    let last = end
        .unwrap_or(first)
        .clamp(first, first.saturating_add(MAX_FLAGGED_LINES - 1));
    let from = first.saturating_sub(CONTEXT).max(1);
    let to = last.saturating_add(CONTEXT).min(len);
    Some((from, to, first, last))
}

fn finding(
    body: &mut String,
    outcome: &Outcome,
    f: &Finding,
    anchors: &HashMap<&str, String>,
    lines: Option<&[String]>,
) {
    let place = f.locations.first().map(|l| match &l.region {
        Some(r) => format!(
            "{}:{}:{}",
            l.path,
            r.start_line,
            r.start_column.unwrap_or(1)
        ),
        None => l.path.clone(),
    });
    let mut tags = String::new();
    if let Some(w) = f.waived_by.and_then(|i| outcome.policy.waivers.get(i)) {
        let _ = write!(
            tags,
            " <span class=\"badge other\">waived</span> <span class=\"muted\">by {} until {}: {}</span>",
            esc(&w.owner),
            w.expires,
            esc(&w.reason)
        );
    }
    match f.baseline {
        Some(BaselineState::New) => tags.push_str(" <span class=\"badge warning\">new</span>"),
        Some(BaselineState::Unchanged) => {
            tags.push_str(" <span class=\"badge other\">in the baseline</span>")
        }
        None => {}
    }
    let _ = write!(
        body,
        "<div class=\"finding\"><div class=\"head\">{} <a class=\"mono\" href=\"#{}\">{}</a> <span class=\"mono muted\">{}</span>{tags}</div>\n<p class=\"msg\">{}</p>",
        badge(f.level),
        anchors
            .get(f.rule_id.as_str())
            .map_or("rules", String::as_str),
        esc(&f.rule_id),
        esc(place.as_deref().unwrap_or("")),
        esc(&f.message)
    );
    if let Some(region) = f.locations.first().and_then(|l| l.region.as_ref())
        && let Some(lines) = lines
        && let Some((from, to, first, last)) =
            context(region.start_line, region.end_line, lines.len())
    {
        body.push_str("<pre class=\"code\"><code>");
        for n in from..=to {
            let text = &lines[(n - 1) as usize];
            let class = if (first..=last).contains(&n) {
                " class=\"hit\""
            } else {
                ""
            };
            let _ = write!(
                body,
                "<span{class}><span class=\"ln\">{n:>5}</span>{}</span>",
                esc(text)
            );
        }
        body.push_str("</code></pre>");
    }
    body.push_str("</div>\n");
}

/// A repository file's lines (each cut to a bound), or `None` when it
/// cannot be read as the plugins' grants are: a symlink anywhere, `..`,
/// `.git`, not a regular file, binary, or over the size bound.
fn read_lines(root: &std::fs::File, path: &str) -> Option<Vec<String>> {
    let parts = crate::beneath::components(path, true).ok()?;
    let file = crate::beneath::open(root.as_fd(), &parts).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).ok()?;
    if bytes.len() as u64 > MAX_FILE_BYTES || bytes.contains(&0) {
        return None;
    }
    let text = String::from_utf8_lossy(&bytes);
    Some(
        text.lines()
            .map(|l| {
                let l = l.trim_end_matches('\r');
                if l.chars().count() > MAX_LINE_CHARS {
                    let mut cut: String = l.chars().take(MAX_LINE_CHARS).collect();
                    cut.push('…');
                    cut
                } else {
                    l.to_string()
                }
            })
            .collect(),
    )
}

/// The help of every rule that has a finding.
fn rules(body: &mut String, outcome: &Outcome, anchors: &HashMap<&str, String>) {
    body.push_str("<section aria-labelledby=\"rules\"><h2 id=\"rules\">Rules</h2>\n");
    let mut seen = std::collections::BTreeSet::new();
    let mut help_bytes = 0usize;
    for run in &outcome.runs {
        for f in &run.findings {
            if seen.len() == MAX_RULES_SHOWN {
                break;
            }
            if !seen.insert(f.rule_id.as_str()) {
                continue;
            }
            let n = run
                .findings
                .iter()
                .filter(|g| g.rule_id == f.rule_id)
                .count();
            let rule = run.rules.get(f.rule_index);
            let _ = writeln!(
                body,
                "<h3 id=\"{}\" class=\"mono\">{}</h3>\n<p>{} {}{}</p>",
                anchors.get(f.rule_id.as_str()).map_or("", String::as_str),
                esc(&f.rule_id),
                badge(f.level),
                esc(rule.map_or("", |r| r.short_description.as_str())),
                esc(&format!(" ({})", count(n, "finding", "findings")))
            );
            if let Some(r) = rule {
                let help = if r.help_markdown.is_empty() {
                    &r.full_description
                } else {
                    &r.help_markdown
                };
                if !help.is_empty()
                    && help != &r.short_description
                    && help_bytes < MAX_ALL_HELP_BYTES
                {
                    help_bytes += help.len().min(MAX_HELP_BYTES);
                    let _ = writeln!(body, "<div class=\"help\">{}</div>", markdown(help));
                }
            }
        }
    }
    if seen.is_empty() {
        body.push_str("<p>No rule fired.</p>\n");
    }
    body.push_str("</section>\n");
}

/// A rule's help (Markdown, from the plugin: untrusted) as HTML: raw HTML
/// is dropped and dangerous link schemes neutralised (comrak's safe
/// rendering), images become links (the page loads nothing), headings
/// sit below the rule's own (the help's top level becomes `<h4>`), invisible characters are
/// shown as escapes, and the text is cut at 64 KiB.
fn markdown(text: &str) -> String {
    use comrak::nodes::NodeValue;
    // Invisible and control characters shown as escapes, as everywhere.
    let mut text: String = text
        .chars()
        .map(|c| {
            if crate::report::text::needs_escape(c) {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect();
    if text.len() > MAX_HELP_BYTES {
        let mut cut = MAX_HELP_BYTES;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("\n\n(cut: the rule's help is longer than the page shows)");
    }
    let text = text.as_str();
    let mut options = comrak::Options::default();
    options.extension.table = true;
    options.extension.strikethrough = true;
    options.extension.autolink = true;
    let arena = comrak::Arena::new();
    let root = comrak::parse_document(&arena, text, &options);
    // The help's top heading level becomes <h4>, under the rule's <h3>.
    let top = root
        .descendants()
        .filter_map(|n| match &n.data.borrow().value {
            NodeValue::Heading(h) => Some(h.level),
            _ => None,
        })
        .min()
        .unwrap_or(1);
    for node in root.descendants() {
        let mut data = node.data.borrow_mut();
        match &mut data.value {
            NodeValue::Heading(h) => h.level = (h.level - top + 4).min(6),
            NodeValue::Image(link) => {
                let link = std::mem::replace(
                    link,
                    Box::new(comrak::nodes::NodeLink {
                        url: String::new(),
                        title: String::new(),
                    }),
                );
                data.value = NodeValue::Link(link);
            }
            _ => {}
        }
    }
    let mut html = String::new();
    if comrak::format_html(root, &options, &mut html).is_err() {
        return format!("<p>{}</p>", esc(text));
    }
    html
}

/// The policy's waivers: who, why, until when, how many findings each
/// covers; expired and soon-expiring ones highlighted.
fn waivers(body: &mut String, outcome: &Outcome, today: Option<Date>) {
    body.push_str("<section aria-labelledby=\"waivers\"><h2 id=\"waivers\">Waivers</h2>\n");
    let waivers = &outcome.policy.waivers;
    if waivers.is_empty() {
        body.push_str("<p>The policy waives nothing.</p></section>\n");
        return;
    }
    let mut used = vec![0usize; waivers.len()];
    for f in outcome.findings() {
        if let Some(i) = f.waived_by
            && let Some(n) = used.get_mut(i)
        {
            *n += 1;
        }
    }
    let mut order: Vec<usize> = (0..waivers.len()).collect();
    order.sort_by_key(|&i| waivers[i].expires);
    body.push_str("<table>");
    body.push_str(&head_row(&[
        "rule",
        "paths",
        "owner",
        "reason",
        "expires",
        "status",
        "findings",
        "written at",
    ]));
    body.push_str("<tbody>");
    for i in order {
        let w = &waivers[i];
        let left = today.map(|t| t.days_until(w.expires));
        let (class, status) = match left {
            Some(d) => page::expiry(d, outcome.policy.waiver_expiring_days),
            None => ("", String::new()),
        };
        let paths = if w.paths.is_empty() {
            "any".to_string()
        } else {
            w.paths.join(", ")
        };
        let _ = write!(
            body,
            "<tr{class}><td class=\"mono\">{}</td><td class=\"mono\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"mono\">{}</td></tr>",
            esc(&w.rule),
            esc(&paths),
            esc(&w.owner),
            esc(&w.reason),
            w.expires,
            esc(&status),
            used[i],
            esc(&outcome.shown(&w.place()))
        );
    }
    body.push_str("</tbody></table></section>\n");
}

fn baseline(body: &mut String, outcome: &Outcome) {
    body.push_str("<section aria-labelledby=\"baseline\"><h2 id=\"baseline\">Baseline</h2>\n");
    let new = outcome
        .findings()
        .filter(|f| f.baseline == Some(BaselineState::New))
        .count();
    let unchanged = outcome
        .findings()
        .filter(|f| f.baseline == Some(BaselineState::Unchanged))
        .count();
    if new + unchanged == 0 && outcome.absent.is_empty() {
        body.push_str("<p>The run was not compared with a baseline.</p></section>\n");
        return;
    }
    let _ = writeln!(
        body,
        "<p>{} new, {} already in the baseline (not counted), {} absent (fixed since the baseline was recorded).</p>",
        new,
        unchanged,
        outcome.absent.len()
    );
    if !outcome.absent.is_empty() {
        body.push_str("<table>");
        body.push_str(&head_row(&["absent rule", "where"]));
        body.push_str("<tbody>");
        for a in outcome.absent.iter().take(MAX_SHOWN) {
            let _ = write!(
                body,
                "<tr><td class=\"mono\">{}</td><td class=\"mono\">{}</td></tr>",
                esc(&a.rule_id),
                esc(a.path.as_deref().unwrap_or(""))
            );
        }
        body.push_str("</tbody></table>");
    }
    body.push_str("</section>\n");
}

/// Where approvals stand: each approvals plugin's verdict and what it
/// still waits for.
fn approvals(body: &mut String, outcome: &Outcome) {
    body.push_str("<section aria-labelledby=\"approvals\"><h2 id=\"approvals\">Approvals</h2>\n");
    let runs: Vec<&PluginRun> = outcome
        .runs
        .iter()
        .filter(|r| r.origin == "builtin:approvals")
        .collect();
    if runs.is_empty() {
        body.push_str("<p>The policy has no approval rules.</p></section>\n");
        return;
    }
    for run in runs {
        let pending: Vec<&Finding> = run.findings.iter().filter(|f| f.counts()).collect();
        let state = match (&run.failure, pending.is_empty()) {
            (Some(f), _) => format!(
                "<span class=\"badge stopped\">not evaluated</span> {}",
                esc(&f.to_string())
            ),
            (None, true) => "<span class=\"badge pass\">satisfied</span> every approval rule that applies is met.".into(),
            (None, false) => format!(
                "<span class=\"badge error\">pending</span> {} waiting.",
                count(pending.len(), "requirement is", "requirements are")
            ),
        };
        let _ = write!(body, "<h3>{}</h3><p>{state}</p>", esc(&run.id));
        if !pending.is_empty() {
            body.push_str("<ul>");
            for f in pending {
                let _ = write!(
                    body,
                    "<li>{} <span class=\"mono\">{}</span>: {}</li>",
                    badge(f.level),
                    esc(&f.rule_id),
                    esc(&f.message)
                );
            }
            body.push_str("</ul>");
        }
    }
    body.push_str("</section>\n");
}

fn footer(body: &mut String, outcome: &Outcome) {
    let _ = writeln!(
        body,
        "<footer><p>portcullis {} · fail-at {} · the SARIF and JSON reports of this run carry every finding with its fingerprint.</p></footer>",
        env!("CARGO_PKG_VERSION"),
        esc(outcome.fail_at.as_str())
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_lines_stay_in_the_file_whatever_the_plugin_says() {
        // Two lines of context around the flagged lines, within the file.
        assert_eq!(context(5, None, 100), Some((3, 7, 5, 5)));
        assert_eq!(context(1, Some(2), 100), Some((1, 4, 1, 2)));
        assert_eq!(context(99, Some(120), 100), Some((97, 100, 99, 110)));
        // At most 12 flagged lines.
        assert_eq!(context(10, Some(1000), 100), Some((8, 23, 10, 21)));
        // An end before the start, lines past the end, the largest numbers.
        assert_eq!(context(5, Some(2), 100), Some((3, 7, 5, 5)));
        assert_eq!(
            context(101, None, 100),
            Some((99, 100, 101, 101)),
            "the end of the file"
        );
        assert_eq!(context(102, None, 100), None);
        assert_eq!(context(1, None, 0), None);
        assert_eq!(context(u32::MAX, Some(u32::MAX), 100), None);
        assert_eq!(
            context(u32::MAX - 1, Some(u32::MAX), usize::MAX),
            Some((u32::MAX - 3, u32::MAX, u32::MAX - 1, u32::MAX))
        );
        assert_eq!(context(0, None, 3), Some((1, 3, 1, 1)));
    }

    #[test]
    fn rule_help_is_rendered_without_markup_scripts_or_images() {
        let html = markdown(
            "# What it checks\n\n## Why\n\nText with `code` and <script>alert(1)</script>.\n\n\
             <img src=x onerror=alert(1)>\n\n![tracker](https://example.com/t.png) \
             [click](javascript:alert(1)) txt\u{202e}exe\n",
        );
        assert!(html.contains("<h4>What it checks</h4>"), "{html}");
        assert!(html.contains("<h5>Why</h5>"), "{html}");
        assert!(html.contains("txt\\u{202e}exe"), "{html}");
        assert!(html.contains("<code>code</code>"), "{html}");
        assert!(
            !html.contains("<script") && !html.contains("<img"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"https://example.com/t.png\">tracker</a>"),
            "{html}"
        );
        assert!(!html.contains("javascript:"), "{html}");
    }

    #[test]
    fn amounts_read_like_the_perf_summary() {
        assert_eq!(amount(Some(1_500_000.0), "ns"), "1.500 ms");
        assert_eq!(amount(Some(12.0), "bytes"), "12 bytes");
        assert_eq!(amount(None, "ns"), "—");
    }
}
