//! `portcullis test`'s Rego side: every `test_*` rule of the `*_test.rego`
//! modules, with OPA's semantics (a test passes when it is defined and not
//! false; `with input as …` / `with data.x as …` override per test;
//! `todo_test_*` are skipped), and which policy lines were evaluated.

use std::collections::BTreeSet;

use portcullis_sdk::{FileCoverage, TestResult, TestRun, TestStatus};

use crate::policies::{Policies, rego_error};

pub fn run(engine: &mut regorus::Engine, p: &Policies, coverage: bool) -> TestRun {
    let mut run = TestRun::default();
    if coverage {
        engine.set_enable_coverage(true);
    }
    for m in p.modules.iter().filter(|m| m.is_test) {
        for (name, line) in &m.rules {
            let skipped = name.starts_with("todo_test_");
            if !name.starts_with("test_") && !skipped {
                continue;
            }
            let query = format!("data.{}.{name}", m.package);
            let (status, message) = if skipped {
                (TestStatus::Skip, String::new())
            } else {
                match engine.eval_rule(query.clone()) {
                    Ok(regorus::Value::Undefined) => (TestStatus::Fail, "undefined".to_string()),
                    Ok(regorus::Value::Bool(false)) => (TestStatus::Fail, "false".to_string()),
                    Ok(_) => (TestStatus::Pass, String::new()),
                    Err(e) => (TestStatus::Error, rego_error(&e.to_string())),
                }
            };
            run.tests.push(TestResult {
                name: query,
                file: m.path.clone(),
                line: *line,
                status,
                message,
            });
        }
    }
    if coverage {
        run.coverage = lines_covered(engine, p);
    }
    run
}

/// Per policy file (tests excluded), the lines the tests evaluated and
/// those they did not. The engine lists lines of the rules it entered; a
/// rule no test reached at all counts with its head line, and a policy file
/// no test reached is wholly uncovered.
fn lines_covered(engine: &regorus::Engine, p: &Policies) -> Vec<FileCoverage> {
    let report = engine.get_coverage_report().ok();
    let mut files = Vec::new();
    for f in report.iter().flat_map(|r| r.files.iter()) {
        if f.path.ends_with("_test.rego") {
            continue;
        }
        let covered: BTreeSet<u32> = f.covered.iter().copied().collect();
        let mut not_covered: BTreeSet<u32> = f.not_covered.iter().copied().collect();
        if let Some(m) = p.modules.iter().find(|m| m.path == f.path) {
            for (_, line) in &m.rules {
                if !covered.contains(line) {
                    not_covered.insert(*line);
                }
            }
        }
        files.push(FileCoverage {
            file: f.path.clone(),
            covered: covered.into_iter().collect(),
            not_covered: not_covered.into_iter().collect(),
        });
    }
    for m in p.modules.iter().filter(|m| !m.is_test) {
        if !files.iter().any(|f| f.file == m.path) {
            files.push(FileCoverage {
                file: m.path.clone(),
                covered: Vec::new(),
                not_covered: m.rules.iter().map(|(_, l)| *l).collect(),
            });
        }
    }
    files
}
