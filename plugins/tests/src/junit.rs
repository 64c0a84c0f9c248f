//! JUnit XML as the real tools write it: pytest (`--junitxml`, xunit1 and
//! xunit2), cargo-nextest (retries as `flakyFailure` / `rerunFailure`),
//! jest-junit, gotestsum and go-junit-report, Maven Surefire and Gradle
//! (one file per class, nested suites). Read as a stream: each test case is
//! kept with its outcome and the first lines of its message, nothing else.

use std::io::BufRead;

use crate::xml::{Element, Item, Xml};

/// How one test case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    Errored,
    Skipped,
    /// Failed, then passed on a retry.
    Flaky,
}

#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    pub classname: String,
    /// `file` of the case, else of its suite, as written.
    pub file: Option<String>,
    /// `line` as written.
    pub line: Option<u32>,
    /// Seconds.
    pub time: Option<f64>,
    pub outcome: Outcome,
    /// The failure's (or skip's) `message` and the first lines of its text.
    pub message: String,
    /// Failed attempts before the outcome (retries).
    pub retries: u32,
    /// The report it came from.
    pub report: String,
    /// The report came from pytest (whose `line` is 0-based).
    pub pytest: bool,
}

/// A problem with a suite as a whole.
#[derive(Debug, Clone)]
pub struct SuiteProblem {
    pub report: String,
    pub line: u64,
    pub message: String,
}

/// What the reports hold: every test counted, the cases a finding is
/// made of kept (failed, errored, flaky, and slow ones when `slow` is set),
/// so a report of a million passing tests costs counts, not memory.
#[derive(Debug, Default)]
pub struct Parsed {
    pub counts: Counts,
    pub cases: Vec<Case>,
    pub problems: Vec<SuiteProblem>,
    /// Seconds past which a passing test is kept (the config's `slow`).
    pub slow: Option<f64>,
}

#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub total: u64,
    pub passed: u64,
    pub failed: u64,
    pub errored: u64,
    pub skipped: u64,
    pub flaky: u64,
}

impl Counts {
    pub(crate) fn add(&mut self, outcome: Outcome) {
        self.total += 1;
        *match outcome {
            Outcome::Passed => &mut self.passed,
            Outcome::Failed => &mut self.failed,
            Outcome::Errored => &mut self.errored,
            Outcome::Skipped => &mut self.skipped,
            Outcome::Flaky => &mut self.flaky,
        } += 1;
    }
}

/// How much of a failure's text is kept.
const MESSAGE_LINES: usize = 6;
const MESSAGE_BYTES: usize = 2000;

/// An open `<testsuite>`.
struct Suite {
    name: String,
    file: Option<String>,
    /// `failures + errors` as the suite declares them.
    declared: Option<u64>,
    /// `tests` as the suite declares it.
    declared_tests: Option<u64>,
    /// Failed or errored cases inside it (nested suites included).
    found: u64,
    /// Failed or errored runs of them, reruns and a flaky test's failed
    /// runs included.
    found_runs: u64,
    /// Cases inside it, and the rerun elements they hold.
    cases: u64,
    reruns: u64,
    /// Where it starts (its line is found only for a message).
    offset: u64,
}

/// Read one JUnit report into `out`.
pub fn read<R: BufRead>(xml: &mut Xml<R>, out: &mut Parsed) -> Result<(), String> {
    let mut suites: Vec<Suite> = Vec::new();
    let mut pytest = false;
    let mut seen_root = false;
    loop {
        match xml.next()? {
            Item::Eof => break,
            Item::Start(e) if e.is("testsuites") => {
                seen_root = true;
                pytest |= e.get("name") == Some("pytest tests");
            }
            Item::Start(e) if e.is("testsuite") => {
                seen_root = true;
                pytest |= e.get("name") == Some("pytest");
                let count = |k: &str| e.get(k).and_then(|v| v.trim().parse::<u64>().ok());
                let declared = match (count("failures"), count("errors")) {
                    (None, None) => None,
                    (f, e) => Some(f.unwrap_or(0) + e.unwrap_or(0)),
                };
                suites.push(Suite {
                    name: e.get("name").unwrap_or_default().to_string(),
                    file: e.get("file").or(e.get("filepath")).map(str::to_string),
                    declared,
                    declared_tests: count("tests"),
                    found: 0,
                    found_runs: 0,
                    cases: 0,
                    reruns: 0,
                    offset: e.offset,
                });
            }
            Item::End(name) if name == b"testsuite" => {
                let Some(suite) = suites.pop() else {
                    continue;
                };
                // Surefire 2 counts every run in its totals (`tests="10"`
                // for 5 cases, 5 of them reruns): then its failures are
                // runs too. Otherwise each failed test counts once.
                let found = if suite.reruns > 0
                    && suite.declared_tests == Some(suite.cases + suite.reruns)
                {
                    suite.found_runs
                } else {
                    suite.found
                };
                if let Some(declared) = suite.declared
                    && declared > found
                {
                    out.problems.push(SuiteProblem {
                        report: xml.path.clone(),
                        line: crate::xml::line_of(&xml.file, suite.offset),
                        message: format!(
                            "test suite `{}` reports {declared} failures and errors but lists {} failed tests",
                            suite.name, found
                        ),
                    });
                }
                if let Some(parent) = suites.last_mut() {
                    parent.found += suite.found;
                    parent.found_runs += suite.found_runs;
                    parent.cases += suite.cases;
                    parent.reruns += suite.reruns;
                }
            }
            Item::Start(e) if e.is("testcase") => {
                if suites.is_empty() && !seen_root {
                    seen_root = true;
                }
                let mut case = case(xml, e, pytest)?;
                if let Some(s) = suites.last_mut() {
                    let failed = matches!(case.outcome, Outcome::Failed | Outcome::Errored);
                    let reruns = match case.outcome {
                        Outcome::Failed | Outcome::Errored | Outcome::Flaky => {
                            u64::from(case.retries)
                        }
                        _ => 0,
                    };
                    s.found += u64::from(failed);
                    s.found_runs += u64::from(failed) + reruns;
                    s.cases += 1;
                    s.reruns += reruns;
                }
                out.counts.add(case.outcome);
                let slow = out
                    .slow
                    .is_some_and(|limit| case.time.is_some_and(|t| t > limit));
                if !matches!(case.outcome, Outcome::Passed | Outcome::Skipped) || slow {
                    if case.file.is_none() {
                        case.file = suites.iter().rev().find_map(|s| s.file.clone());
                    }
                    case.report = xml.path.clone();
                    out.cases.push(case);
                }
            }
            // An error or failure reported for a suite (or the whole run),
            // not a case.
            Item::Start(e) if (e.is("error") || e.is("failure")) && seen_root => {
                let line = crate::xml::line_of(&xml.file, e.offset);
                let text = failure_text(xml, &e)?;
                let suite = suites.last_mut().map(|s| {
                    s.found += 1;
                    s.found_runs += 1;
                    s.name.clone()
                });
                out.problems.push(SuiteProblem {
                    report: xml.path.clone(),
                    line,
                    message: match suite {
                        Some(name) => format!("test suite `{name}` errored: {}", first_line(&text)),
                        None => format!("the test run errored: {}", first_line(&text)),
                    },
                });
            }
            Item::Start(e) => {
                if !seen_root {
                    return Err(xml.error_at(
                        e.offset,
                        &format!(
                            "not a JUnit report: the root element is <{}>, not <testsuites> or <testsuite>",
                            String::from_utf8_lossy(&e.name)
                        ),
                    ));
                }
                // Output and properties are skipped; any other element a
                // tool adds is looked into (test cases may be inside).
                if e.is("system-out") || e.is("system-err") || e.is("properties") {
                    xml.skip(&e.name.clone())?;
                }
            }
            Item::End(_) | Item::Text(_) => {}
        }
    }
    if !seen_root {
        return Err(format!("{}: not a JUnit report: no <testsuite>", xml.path));
    }
    Ok(())
}

/// A case's time in seconds (Surefire may write `1,234.5`).
fn seconds(t: &str) -> Option<f64> {
    let t = t.trim();
    t.parse()
        .ok()
        .or_else(|| t.replace(',', "").parse().ok())
        .filter(|t: &f64| t.is_finite())
}

/// One `<testcase>`, read to its end; `report` and a `file` from its
/// suite are filled in by the caller for the cases it keeps.
fn case<R: BufRead>(xml: &mut Xml<R>, mut e: Element, pytest: bool) -> Result<Case, String> {
    let mut case = Case {
        line: e.get("line").and_then(|l| l.trim().parse().ok()),
        time: e.get("time").and_then(seconds),
        name: e.take("name").unwrap_or_default(),
        classname: e.take("classname").unwrap_or_default(),
        file: e.take("file"),
        outcome: Outcome::Passed,
        message: String::new(),
        retries: 0,
        report: String::new(),
        pytest,
    };
    let mut flaky = 0u32;
    let mut reruns = 0u32;
    loop {
        match xml.next()? {
            Item::End(n) if n == b"testcase" => break,
            Item::Start(c) => {
                let kind = c.name.clone();
                match &kind[..] {
                    b"failure" | b"error" => {
                        let text = failure_text(xml, &c)?;
                        let errored = kind == b"error";
                        // A failure and an error both recorded: failed.
                        // A skip's message does not explain a failure.
                        if case.message.is_empty() || case.outcome == Outcome::Skipped {
                            case.message = text;
                        }
                        case.outcome = match (case.outcome, errored) {
                            (Outcome::Failed, _) | (_, false) => Outcome::Failed,
                            _ => Outcome::Errored,
                        };
                    }
                    b"skipped" => {
                        let text = failure_text(xml, &c)?;
                        if case.outcome == Outcome::Passed {
                            case.outcome = Outcome::Skipped;
                            case.message = text;
                        }
                    }
                    b"flakyFailure" | b"flakyError" => {
                        flaky += 1;
                        let text = failure_text(xml, &c)?;
                        if case.message.is_empty() {
                            case.message = text;
                        }
                    }
                    b"rerunFailure" | b"rerunError" => {
                        reruns += 1;
                        xml.skip(&kind)?;
                    }
                    _ => xml.skip(&kind)?,
                }
            }
            Item::Eof => {
                return Err(xml.error_at(xml.position(), "the file ends inside a <testcase>"));
            }
            Item::End(_) | Item::Text(_) => {}
        }
    }
    match case.outcome {
        Outcome::Failed | Outcome::Errored => case.retries = reruns,
        Outcome::Passed if flaky > 0 => {
            case.outcome = Outcome::Flaky;
            case.retries = flaky;
        }
        _ => {}
    }
    Ok(case)
}

/// A failure element's `message` (and `type`) and the first lines of its
/// text, up to its end tag.
fn failure_text<R: BufRead>(xml: &mut Xml<R>, e: &Element) -> Result<String, String> {
    let mut text = String::new();
    // go-junit-report and gotestsum say only "Failed"; the text says why.
    if let Some(m) = e.get("message")
        && !matches!(m.trim(), "Failed" | "failed" | "failure")
    {
        text.push_str(m.trim());
    }
    xml.want_text(true);
    let body = body_of(xml, &e.name);
    xml.want_text(false);
    let body = body?;
    let body = body.trim();
    // nextest's text starts with its message; pytest's with the test's
    // source, its message being the assertion.
    let text = if body.is_empty() {
        text
    } else if text.is_empty() || body.starts_with(text.lines().next().unwrap_or_default()) {
        body.to_string()
    } else {
        format!("{text}\n{body}")
    };
    Ok(clip(&text))
}

/// The text of the element `name` just started, up to its end tag (the
/// first [`MESSAGE_BYTES`] of it).
fn body_of<R: BufRead>(xml: &mut Xml<R>, name: &crate::xml::Name) -> Result<String, String> {
    let mut body = String::new();
    let mut depth = 1usize;
    loop {
        match xml.next()? {
            Item::Text(t) if body.len() < MESSAGE_BYTES => {
                let room = MESSAGE_BYTES - body.len();
                let cut = (0..=room.min(t.len()))
                    .rev()
                    .find(|i| t.is_char_boundary(*i))
                    .unwrap_or(0);
                body.push_str(&t[..cut]);
            }
            Item::Start(c) if c.name == *name => depth += 1,
            Item::End(n) if n == *name => {
                depth -= 1;
                if depth == 0 {
                    return Ok(body);
                }
            }
            Item::Eof => return Err(xml.error_at(xml.position(), "the file ends early")),
            _ => {}
        }
    }
}

/// The first lines of a message, clipped; a Go runner's progress lines
/// (`=== RUN`, `--- FAIL: …`) left out.
pub(crate) fn clip(text: &str) -> String {
    let noise = [
        "=== RUN",
        "=== PAUSE",
        "=== CONT",
        "=== NAME",
        "--- FAIL",
        "--- PASS",
    ];
    let mut out = String::new();
    for line in text
        .lines()
        .filter(|l| !l.trim().is_empty() && !noise.iter().any(|n| l.trim_start().starts_with(n)))
        .take(MESSAGE_LINES)
    {
        if out.len() + line.len() > MESSAGE_BYTES {
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line.trim_end());
    }
    out
}

/// What a finding's message says of a failure: its first line, and the
/// next one when the first only introduces it (Rust's `panicked at
/// src/lib.rs:27:13:`).
pub fn first_line(text: &str) -> String {
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    match lines.next() {
        None => "(no message)".to_string(),
        Some(first) if first.ends_with(':') => match lines.next() {
            Some(next) => format!("{first} {next}"),
            None => first.to_string(),
        },
        Some(first) => first.to_string(),
    }
}
