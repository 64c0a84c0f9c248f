//! pytest's own JSON report (the pytest-json-report plugin:
//! `--json-report --json-report-file=PATH`) → the same test cases as
//! pytest's JUnit XML gives (`junit`), so every rule reads both alike: the
//! same names (`tests.test_calc` and `test_add` from the node id
//! `tests/test_calc.py::test_add`), the test's file and its `def` line,
//! the failure's message. Modules pytest could not import (the report's
//! failed collectors) are collection errors, as pytest's JUnit writes them;
//! a run pytest itself ended early (an internal or usage error) is a
//! suite error, and so is a run pytest says failed whose report lists no
//! failure. Read as a stream: one test (or collector) at a time is held,
//! never the whole array; a single string of it is held whole.

use std::fmt;
use std::io::BufRead;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer as _};

use crate::junit::{Case, Outcome, Parsed, SuiteProblem, clip};

/// Read one report into `out`. `path` names it in messages.
pub fn read<R: BufRead>(input: R, path: &str, out: &mut Parsed) -> Result<(), String> {
    let failing_before = out.counts.failed + out.counts.errored;
    let mut de = serde_json::Deserializer::from_reader(input);
    let mut seen = Seen::default();
    (&mut de)
        .deserialize_map(ReportVisitor {
            out: &mut *out,
            path,
            seen: &mut seen,
        })
        .and_then(|()| de.end())
        .map_err(|e| {
            format!(
                "{path}:{}:{}: not a pytest JSON report: {e}",
                e.line(),
                e.column()
            )
        })?;
    if !seen.tests {
        return Err(format!(
            "{path}: not a pytest JSON report: no `tests` (pytest-json-report writes them)"
        ));
    }
    // 2: interrupted (collection errors, explained above, or Ctrl-C);
    // 3: internal error; 4: usage error. 0, 1 and 5 (no tests) are runs
    // whose tests say the rest.
    let failing = out.counts.failed + out.counts.errored - failing_before;
    match seen.exitcode {
        // pytest says tests failed, and the report lists none: collectors
        // left out (`--json-report-omit collectors`) while a module failed
        // to import, or a plugin failed the run (`--cov-fail-under`).
        Some(1) if failing == 0 => out.problems.push(SuiteProblem {
            report: path.to_string(),
            line: 1,
            message: "pytest exited with code 1 (failed), but the report lists no failed test or module: the report is incomplete, or something else failed the run".into(),
        }),
        Some(2) if seen.collection_errors > 0 => {}
        Some(code @ (2..=4)) => out.problems.push(SuiteProblem {
            report: path.to_string(),
            line: 1,
            message: format!(
                "pytest exited with code {code} ({}): the run did not finish",
                match code {
                    2 => "interrupted",
                    3 => "internal error",
                    _ => "usage error",
                }
            ),
        }),
        _ => {}
    }
    Ok(())
}

#[derive(Default)]
struct Seen {
    tests: bool,
    exitcode: Option<i64>,
    collection_errors: u64,
}

struct ReportVisitor<'a> {
    out: &'a mut Parsed,
    path: &'a str,
    seen: &'a mut Seen,
}

impl<'de> Visitor<'de> for ReportVisitor<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a pytest-json-report object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "tests" => {
                    self.seen.tests = true;
                    let (out, path) = (&mut *self.out, self.path);
                    map.next_value_seed(Each::new(|test: Test| {
                        let mut case = case(test);
                        out.counts.add(case.outcome);
                        let slow = out
                            .slow
                            .is_some_and(|limit| case.time.is_some_and(|t| t > limit));
                        if !matches!(case.outcome, Outcome::Passed | Outcome::Skipped) || slow {
                            case.report = path.to_string();
                            out.cases.push(case);
                        }
                    }))?;
                }
                "collectors" => {
                    let (out, path, seen) = (&mut *self.out, self.path, &mut *self.seen);
                    map.next_value_seed(Each::new(|c: Collector| {
                        if c.outcome == "failed" {
                            seen.collection_errors += 1;
                            let case = collection_error(c, path);
                            out.counts.add(case.outcome);
                            out.cases.push(case);
                        }
                    }))?;
                }
                "exitcode" => self.seen.exitcode = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// An array read one element at a time, each handed to a function: the
/// array is never held.
struct Each<T, F>(F, std::marker::PhantomData<T>);

impl<T, F> Each<T, F> {
    fn new(f: F) -> Self {
        Each(f, std::marker::PhantomData)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> DeserializeSeed<'de> for Each<T, F> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: Deserialize<'de>, F: FnMut(T)> Visitor<'de> for Each<T, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<T>()? {
            (self.0)(item);
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct Test {
    nodeid: String,
    /// 0-based, as pytest's own locations.
    lineno: Option<u32>,
    outcome: String,
    setup: Option<Stage>,
    call: Option<Stage>,
    teardown: Option<Stage>,
}

#[derive(Deserialize)]
struct Stage {
    duration: Option<f64>,
    outcome: Option<String>,
    crash: Option<Crash>,
    longrepr: Option<String>,
}

#[derive(Deserialize)]
struct Crash {
    message: Option<String>,
}

#[derive(Deserialize)]
struct Collector {
    nodeid: String,
    outcome: String,
    longrepr: Option<String>,
}

/// pytest's JUnit names for a node id (its `mangle_test_address`): the
/// path made dotted without `.py`, then the classes, as `classname`; the
/// last part as `name`.
fn names(nodeid: &str) -> (String, String) {
    // Parameters (`[::1]`, `[a/b.py::c]`) are the last part's, whatever
    // they hold.
    let (address, params) = nodeid.split_at(nodeid.find('[').unwrap_or(nodeid.len()));
    let mut parts: Vec<String> = address.split("::").map(str::to_string).collect();
    if let Some(first) = parts.first_mut() {
        *first = first.strip_suffix(".py").unwrap_or(first).replace('/', ".");
    }
    let name = parts.pop().unwrap_or_default() + params;
    (parts.join("."), name)
}

/// The file part of a node id (before any `::` outside its parameters).
fn file_of(nodeid: &str) -> Option<String> {
    let address = &nodeid[..nodeid.find('[').unwrap_or(nodeid.len())];
    address
        .split("::")
        .next()
        .filter(|f| f.ends_with(".py"))
        .map(str::to_string)
}

fn case(t: Test) -> Case {
    let (classname, name) = names(&t.nodeid);
    let file = file_of(&t.nodeid);
    let stages = [&t.setup, &t.call, &t.teardown];
    let time = stages
        .iter()
        .filter_map(|s| s.as_ref()?.duration)
        .filter(|d| d.is_finite())
        .reduce(|a, b| a + b);
    // The stage that did not pass says why.
    let failed = stages.iter().filter_map(|s| s.as_ref()).find(|s| {
        s.outcome
            .as_deref()
            .is_some_and(|o| o != "passed" && o != "skipped")
    });
    let call_passed = t
        .call
        .as_ref()
        .and_then(|c| c.outcome.as_deref())
        .is_some_and(|o| o == "passed");
    let (outcome, message) = match t.outcome.as_str() {
        "passed" | "xpassed" => (Outcome::Passed, String::new()),
        // pytest's JUnit writes an expected failure as a skip.
        "skipped" | "xfailed" => (Outcome::Skipped, String::new()),
        "failed" => (
            Outcome::Failed,
            failed.map(stage_message).unwrap_or_default(),
        ),
        "error" => (
            Outcome::Errored,
            failed.map(stage_message).unwrap_or_default(),
        ),
        // pytest-rerunfailures: the report keeps the last run, and neither
        // how many runs failed before nor why.
        "rerun" if call_passed => (Outcome::Flaky, String::new()),
        // Any other outcome is not a pass.
        other => (
            Outcome::Failed,
            failed
                .map(stage_message)
                .unwrap_or_else(|| format!("outcome `{other}`")),
        ),
    };
    Case {
        name,
        classname,
        file,
        line: t.lineno,
        time,
        outcome,
        message,
        retries: 0,
        report: String::new(),
        pytest: true,
    }
}

/// A stage's failure: its crash message, then its long report.
fn stage_message(s: &Stage) -> String {
    let crash = s.crash.as_ref().and_then(|c| c.message.as_deref());
    let long = s.longrepr.as_deref();
    match (crash, long) {
        (Some(c), _) => clip(c),
        (None, Some(l)) => clip(l),
        (None, None) => String::new(),
    }
}

/// A module pytest could not import, as its JUnit reports it: an errored
/// case with no class, named after the module, saying "collection failure".
fn collection_error(c: Collector, path: &str) -> Case {
    let (classname, name) = names(&c.nodeid);
    let module = if classname.is_empty() {
        name
    } else {
        format!("{classname}.{name}")
    };
    Case {
        name: module,
        classname: String::new(),
        file: None,
        line: None,
        time: None,
        outcome: Outcome::Errored,
        message: clip(&format!(
            "collection failure\n{}",
            c.longrepr.as_deref().unwrap_or_default()
        )),
        retries: 0,
        report: path.to_string(),
        pytest: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_ids_get_pytests_junit_names() {
        assert_eq!(
            names("tests/test_calc.py::test_add"),
            ("tests.test_calc".into(), "test_add".into())
        );
        assert_eq!(
            names("tests/test_calc.py::TestX::test_y[1-2]"),
            ("tests.test_calc.TestX".into(), "test_y[1-2]".into())
        );
        assert_eq!(names("test_top.py"), (String::new(), "test_top".into()));
        assert_eq!(
            names("t/test_net.py::test_bind[::1]"),
            ("t.test_net".into(), "test_bind[::1]".into())
        );
        assert_eq!(
            names("t.py::TestX::test[a/b.py::c]"),
            ("t.TestX".into(), "test[a/b.py::c]".into())
        );
        assert_eq!(
            file_of("t/test_net.py::test_bind[::1]").as_deref(),
            Some("t/test_net.py")
        );
        assert_eq!(file_of("README.md::README.md"), None);
    }

    #[test]
    fn other_outcomes_and_broken_reports() {
        let mut out = Parsed::default();
        let text = r#"{"exitcode": 3, "tests": [
            {"nodeid": "t.py::a", "lineno": 0, "outcome": "weird"},
            {"nodeid": "t.py::b", "lineno": 4, "outcome": "error",
             "setup": {"outcome": "failed", "longrepr": "fixture 'db' not found"}},
            {"nodeid": "t.py::c", "outcome": "xfailed"}]}"#;
        read(text.as_bytes(), "r.json", &mut out).expect("read");
        assert_eq!(
            (out.counts.failed, out.counts.errored, out.counts.skipped),
            (1, 1, 1)
        );
        assert_eq!(out.cases[0].message, "outcome `weird`");
        assert_eq!(out.cases[1].message, "fixture 'db' not found");
        assert!(out.problems[0].message.contains("code 3 (internal error)"));

        let mut out = Parsed::default();
        let e = read(&b"{\"tests\": [1]}"[..], "r.json", &mut out).expect_err("not a test");
        assert!(e.starts_with("r.json:1:"), "{e}");
        let e = read(&b"{\"exitcode\": 0}"[..], "r.json", &mut out).expect_err("no tests");
        assert!(e.contains("no `tests`"), "{e}");
        let e = read(&b"{\"tests\": []} x"[..], "r.json", &mut out).expect_err("trailing");
        assert!(e.starts_with("r.json:1:"), "{e}");
    }
}
