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

#[derive(Debug, Default)]
pub struct Parsed {
    pub cases: Vec<Case>,
    pub problems: Vec<SuiteProblem>,
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
    /// Failed or errored cases found inside it (nested suites included).
    found: u64,
    line: u64,
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
                    found: 0,
                    line: crate::xml::line_of(&xml.file, e.offset),
                });
            }
            Item::End(name) if name == b"testsuite" => {
                let Some(suite) = suites.pop() else {
                    continue;
                };
                if let Some(declared) = suite.declared
                    && declared > suite.found
                {
                    out.problems.push(SuiteProblem {
                        report: xml.path.clone(),
                        line: suite.line,
                        message: format!(
                            "test suite `{}` reports {declared} failures and errors but lists {} failed tests",
                            suite.name, suite.found
                        ),
                    });
                }
                if let Some(parent) = suites.last_mut() {
                    parent.found += suite.found;
                }
            }
            Item::Start(e) if e.is("testcase") => {
                if suites.is_empty() && !seen_root {
                    seen_root = true;
                }
                let suite_file = suites.iter().rev().find_map(|s| s.file.clone());
                let case = case(xml, &e, suite_file, pytest)?;
                if matches!(case.outcome, Outcome::Failed | Outcome::Errored)
                    && let Some(s) = suites.last_mut()
                {
                    s.found += 1;
                }
                out.cases.push(case);
            }
            // An error or failure reported for a suite (or the whole run),
            // not a case.
            Item::Start(e) if (e.is("error") || e.is("failure")) && seen_root => {
                let line = crate::xml::line_of(&xml.file, e.offset);
                let text = failure_text(xml, &e)?;
                let suite = suites.last_mut().map(|s| {
                    s.found += 1;
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

fn case<R: BufRead>(
    xml: &mut Xml<R>,
    e: &Element,
    suite_file: Option<String>,
    pytest: bool,
) -> Result<Case, String> {
    let mut case = Case {
        name: e.get("name").unwrap_or_default().to_string(),
        classname: e.get("classname").unwrap_or_default().to_string(),
        file: e.get("file").map(str::to_string).or(suite_file),
        line: e.get("line").and_then(|l| l.trim().parse().ok()),
        time: e
            .get("time")
            .and_then(|t| t.trim().replace(',', "").parse().ok())
            .filter(|t: &f64| t.is_finite()),
        outcome: Outcome::Passed,
        message: String::new(),
        retries: 0,
        report: xml.path.clone(),
        pytest,
    };
    let mut flaky = 0u32;
    let mut reruns = 0u32;
    loop {
        match xml.next()? {
            Item::End(n) if n == b"testcase" => break,
            Item::Start(c) => {
                let kind = c.name.clone();
                match kind.as_slice() {
                    b"failure" | b"error" => {
                        let text = failure_text(xml, &c)?;
                        let errored = kind == b"error";
                        // A failure and an error both recorded: failed.
                        case.outcome = match (case.outcome, errored) {
                            (Outcome::Failed, _) | (_, false) => Outcome::Failed,
                            _ => Outcome::Errored,
                        };
                        if case.message.is_empty() {
                            case.message = text;
                        }
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
    let mut body = String::new();
    let name = e.name.clone();
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
            Item::Start(c) if c.name == name => depth += 1,
            Item::End(n) if n == name => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Item::Eof => return Err(xml.error_at(xml.position(), "the file ends early")),
            _ => {}
        }
    }
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

/// The first lines of a message, clipped; a Go runner's progress lines
/// (`=== RUN`, `--- FAIL: …`) left out.
fn clip(text: &str) -> String {
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
