//! Test cases and coverage → findings, each with its numbers in SARIF
//! properties, and one summary note for people.

use portcullis_sdk::{ChangedLines, Context, Evaluation, Finding, Location, Region, RuleDecl};
use serde_json::json;

use crate::config::Config;
use crate::coverage::{Coverage, percent};
use crate::junit::{Case, Outcome, Parsed, first_line};
use crate::locate::Locator;
use crate::rules::{
    COVERAGE, COVERAGE_DROP, FAILED, FLAKY, NEW_CODE_COVERAGE, PATH_COVERAGE, SLOW, SUITE_ERROR,
    SUMMARY, TOO_FEW_TESTS, UNCOVERED_NEW_LINES, UNMEASURED_CHANGED_FILE,
};

pub fn findings(
    ctx: &Context,
    config: &Config,
    parsed: &Parsed,
    locator: &mut Locator<'_>,
    current: Option<&Coverage>,
    baseline: Option<&Coverage>,
    lines: Option<&ChangedLines>,
) -> Result<Evaluation, String> {
    let mut out = Evaluation::default();
    let counts = parsed.counts;
    for case in &parsed.cases {
        let finding = match case.outcome {
            Outcome::Failed | Outcome::Errored if collection_error(case) => {
                Some(SUITE_ERROR.finding(format!(
                    "`{}` could not be collected: {}",
                    case.name,
                    first_line(&case.message)
                )))
            }
            Outcome::Failed | Outcome::Errored => {
                let verb = if case.outcome == Outcome::Failed {
                    "failed"
                } else {
                    "errored"
                };
                let retries = match case.retries {
                    0 => String::new(),
                    n => format!(" (and on {n} retr{})", if n == 1 { "y" } else { "ies" }),
                };
                Some(FAILED.finding(format!(
                    "{} {verb}{retries}: {}",
                    display(case),
                    first_line(&case.message)
                )))
            }
            // pytest-json-report keeps neither the count nor the failure.
            Outcome::Flaky if case.retries == 0 => {
                Some(FLAKY.finding(format!("{} failed, then passed on a rerun", display(case))))
            }
            Outcome::Flaky => Some(FLAKY.finding(format!(
                "{} failed {} time{}, then passed: {}",
                display(case),
                case.retries,
                if case.retries == 1 { "" } else { "s" },
                first_line(&case.message)
            ))),
            _ => None,
        };
        if let Some(f) = finding {
            // pytest names the module it could not import as the test.
            let place = if collection_error(case) {
                &Case {
                    classname: case.name.clone(),
                    ..case.clone()
                }
            } else {
                case
            };
            out.push(placed(ctx, locator, place, f, &case.message));
        }
        if let (Some(budget), Some(time)) = (config.slow, case.time)
            && time > budget
            && case.outcome != Outcome::Skipped
        {
            let f = SLOW.finding(format!(
                "{} took {time:.2} s, over its budget of {budget} s",
                display(case)
            ));
            let f = placed(ctx, locator, case, f, "");
            out.push(f.fingerprint(format!("slow\0{}\0{}", case.classname, case.name)));
        }
    }
    for p in &parsed.problems {
        out.push(
            SUITE_ERROR
                .finding(format!("{}:{}: {}", p.report, p.line, p.message))
                .fingerprint(format!("suite-error\0{}\0{}", p.report, p.message))
                .properties(json!({ "report": p.report, "line": p.line })),
        );
    }
    if config.has_tests() {
        let ran = counts.total - counts.skipped;
        if ran < config.min_tests {
            out.push(
                TOO_FEW_TESTS
                    .finding(format!(
                        "{ran} test{} ran ({} skipped) in the test reports, fewer than min-tests ({})",
                        if ran == 1 { "" } else { "s" },
                        counts.skipped,
                        config.min_tests
                    ))
                    .fingerprint("too-few-tests")
                    .properties(json!({ "ran": ran, "skipped": counts.skipped, "min-tests": config.min_tests })),
            );
        }
    }

    let mut summary = Vec::new();
    if config.has_tests() {
        summary.push(format!(
            "{} tests: {} passed, {} failed, {} errored, {} skipped, {} flaky",
            counts.total,
            counts.passed,
            counts.failed,
            counts.errored,
            counts.skipped,
            counts.flaky
        ));
    }
    let mut props = json!({
        "tests": {
            "total": counts.total, "passed": counts.passed, "failed": counts.failed,
            "errored": counts.errored, "skipped": counts.skipped, "flaky": counts.flaky,
        }
    });
    if let Some(cov) = current {
        coverage_findings(
            config,
            cov,
            baseline,
            lines,
            &mut out,
            &mut summary,
            &mut props,
        )?;
    }
    out.push(
        SUMMARY
            .finding(summary.join("; "))
            .fingerprint("summary")
            .properties(props),
    );
    Ok(out)
}

/// pytest's report of a test module it could not import.
fn collection_error(case: &Case) -> bool {
    case.outcome == Outcome::Errored
        && case.classname.is_empty()
        && case.message.starts_with("collection failure")
}

/// A test's name as people read it: `classname.name`, or the name alone
/// when it already says the class (or there is none).
fn display(case: &Case) -> String {
    let name = if case.classname.is_empty() || case.name.starts_with(&case.classname) {
        case.name.clone()
    } else {
        format!("{}::{}", case.classname, case.name)
    };
    format!("`{}`", portcullis_sdk::text::escape_controls(&name))
}

/// The finding at the test's definition. When the gate counts only changed
/// files and the test's file did not change, the finding keeps no location
/// (a failing test always counts) and its message says where the test is.
fn placed(
    ctx: &Context,
    locator: &mut Locator<'_>,
    case: &Case,
    f: Finding,
    message: &str,
) -> Finding {
    let f = f
        .fingerprint(format!("{}\0{}", case.classname, case.name))
        .properties(json!({
            "name": case.name,
            "classname": case.classname,
            "report": case.report,
            "time": case.time,
            "retries": case.retries,
            "details": message,
        }));
    let Some((file, line)) = locator.locate(case) else {
        return f;
    };
    if !ctx.is_changed(&file) {
        let at = match line {
            Some(l) => format!("{file}:{l}"),
            None => file,
        };
        let text = format!("{} (at {at})", f.message);
        return Finding { message: text, ..f };
    }
    match line {
        Some(l) => f.at_line(&file, l),
        None => f.in_file(&file),
    }
}

fn coverage_findings(
    config: &Config,
    cov: &Coverage,
    baseline: Option<&Coverage>,
    lines: Option<&ChangedLines>,
    out: &mut Evaluation,
    summary: &mut Vec<String>,
    props: &mut serde_json::Value,
) -> Result<(), String> {
    let (c, m) = cov.totals();
    let overall = percent(c, m);
    summary.push(format!("line coverage {overall:.1} % ({c} of {m} lines)"));
    props["coverage"] = json!({ "covered": c, "measured": m, "percent": round(overall) });
    if let Some((sc, st)) = cov.statements {
        summary.push(format!(
            "Go statements {:.1} % ({sc} of {st})",
            percent(sc, st)
        ));
        props["coverage"]["go-statements"] = json!({ "covered": sc, "total": st });
    }
    if let Some(min) = config.min
        && overall < min
    {
        out.push(simple(
            &COVERAGE,
            format!("line coverage {overall:.1} % ({c} of {m} lines), below the minimum {min} %"),
            json!({ "covered": c, "measured": m, "percent": round(overall), "min": min }),
        ));
    }
    for (glob, min) in &config.paths {
        let matcher = globset::GlobBuilder::new(glob)
            .literal_separator(true)
            .build()
            .map_err(|e| format!("config.paths: bad glob `{glob}`: {e}"))?
            .compile_matcher();
        let (mut pc, mut pm, mut n) = (0, 0, 0);
        for (path, f) in &cov.files {
            if matcher.is_match(path) {
                let (fc, fm) = f.counts();
                pc += fc;
                pm += fm;
                n += 1;
            }
        }
        if n == 0 {
            return Err(format!(
                "config.paths.\"{glob}\": matches no file of the coverage reports"
            ));
        }
        let p = percent(pc, pm);
        if p < *min {
            out.push(
                PATH_COVERAGE
                    .finding(format!(
                        "line coverage of `{glob}` ({n} file{}) {p:.1} % ({pc} of {pm} lines), below its minimum {min} %",
                        if n == 1 { "" } else { "s" }
                    ))
                    .fingerprint(format!("path-coverage\0{glob}"))
                    .properties(json!({ "glob": glob, "covered": pc, "measured": pm, "percent": round(p), "min": min })),
            );
        }
    }
    if let (Some(base), Some(max_drop)) = (baseline, config.max_drop) {
        let (bc, bm) = base.totals();
        let before = percent(bc, bm);
        let drop = before - overall;
        summary.push(format!("baseline {before:.1} %"));
        props["coverage"]["baseline-percent"] = json!(round(before));
        if drop > max_drop + 1e-9 {
            out.push(simple(
                &COVERAGE_DROP,
                format!(
                    "line coverage fell {drop:.1} points, from {before:.1} % to {overall:.1} % (at most {max_drop} allowed)"
                ),
                json!({ "before": round(before), "after": round(overall), "drop": round(drop), "max-drop": max_drop }),
            ));
        }
    }
    let Some(lines) = lines else {
        if config.new_code_min.is_some() {
            summary.push(
                "coverage on new code not measured (no change base: run with --changed-since, or name the pull request's context as a report)"
                    .into(),
            );
        }
        return Ok(());
    };
    let (mut nc, mut nm) = (0u64, 0u64);
    // Extensions of the files the reports measure: a changed file of such a
    // kind that no report has was not measured at all.
    let kinds: std::collections::BTreeSet<&str> = cov
        .files
        .keys()
        .filter(|p| !cov.unmapped.contains(*p))
        .filter_map(|p| extension(p))
        .collect();
    // Each file's new lines as the reports count them, for people and
    // tools (up to a bound).
    let mut detail = serde_json::Map::new();
    let mut listed = 0usize;
    for (path, ranges) in lines {
        let Some(f) = cov.files.get(path) else {
            if extension(path).is_some_and(|e| kinds.contains(e)) && !ranges.is_empty() {
                out.push(
                    UNMEASURED_CHANGED_FILE
                        .finding(format!(
                            "{path} changed, but no coverage report measures it"
                        ))
                        .in_file(path),
                );
            }
            continue;
        };
        let last = f.last_line();
        let (mut ran_lines, mut missed_lines) = (Vec::new(), Vec::new());
        for &(start, end) in ranges {
            let mut gap: Option<(u32, u32, u32)> = None; // first, last uncovered, count
            for line in start..=end.min(last) {
                let Some(ran) = f.new_code(line) else {
                    continue;
                };
                nm += 1;
                if listed < MAX_LISTED {
                    listed += 1;
                    (if ran {
                        &mut ran_lines
                    } else {
                        &mut missed_lines
                    })
                    .push(line);
                }
                if ran {
                    nc += 1;
                    if let Some(g) = gap.take() {
                        out.push(uncovered(path, g));
                    }
                } else {
                    gap = Some(match gap {
                        Some((a, _, n)) => (a, line, n + 1),
                        None => (line, line, 1),
                    });
                }
            }
            if let Some(g) = gap {
                out.push(uncovered(path, g));
            }
        }
        if !ran_lines.is_empty() || !missed_lines.is_empty() {
            detail.insert(
                path.clone(),
                json!({ "covered-lines": ran_lines, "uncovered-lines": missed_lines }),
            );
        }
    }
    let p = percent(nc, nm);
    summary.push(format!("on new code {p:.1} % ({nc} of {nm} lines)"));
    props["coverage"]["new-code"] = json!({ "covered": nc, "measured": nm, "percent": round(p) });
    if listed < MAX_LISTED {
        props["coverage"]["new-code"]["files"] = serde_json::Value::Object(detail);
    }
    if let Some(min) = config.new_code_min
        && nm > 0
        && p < min
    {
        out.push(simple(
            &NEW_CODE_COVERAGE,
            format!(
                "coverage on new code {p:.1} % ({nc} of {nm} new lines), below the minimum {min} %"
            ),
            json!({ "covered": nc, "measured": nm, "percent": round(p), "min": min }),
        ));
    }
    Ok(())
}

fn uncovered(path: &str, (first, last, n): (u32, u32, u32)) -> Finding {
    let what = if first == last {
        format!("new line {first} is not covered by any test")
    } else {
        format!("{n} new lines ({first}–{last}) are not covered by any test")
    };
    UNCOVERED_NEW_LINES
        .finding(what)
        .location(Location::at(
            path,
            Region {
                start_line: first,
                start_column: None,
                end_line: Some(last),
                end_column: None,
            },
        ))
        .properties(json!({ "lines": n }))
}

fn simple(rule: &RuleDecl, message: String, props: serde_json::Value) -> Finding {
    rule.finding(message)
        .fingerprint(rule.id())
        .properties(props)
}

/// New lines listed file by file in the summary's properties, at most.
const MAX_LISTED: usize = 5000;

/// A path's extension (`py`, `java`), if it has one.
fn extension(path: &str) -> Option<&str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.rsplit_once('.')
        .map(|(_, e)| e)
        .filter(|e| !e.is_empty())
}

fn round(p: f64) -> f64 {
    (p * 100.0).round() / 100.0
}
