//! The rules the tests plugin reports, each declared once; the doc comment
//! of a declaration is the rule's help.

use portcullis_sdk::{RuleDecl, declare_rule};

/// Every rule, in the order `portcullis rules` lists them.
pub const RULES: &[&RuleDecl] = &[
    &FAILED,
    &SUITE_ERROR,
    &TOO_FEW_TESTS,
    &FLAKY,
    &SLOW,
    &NEW_CODE_COVERAGE,
    &UNCOVERED_NEW_LINES,
    &UNMEASURED_CHANGED_FILE,
    &COVERAGE,
    &PATH_COVERAGE,
    &COVERAGE_DROP,
    &SUMMARY,
];

declare_rule! {
    /// Fix the test or the code it tests. The finding is at the test's definition when the report or the source says where it is, with the first lines of the failure message.
    pub FAILED = "failed" {
        name: "TestFailed",
        level: Error,
        short: "A test failed or errored.",
        tags: ["tests"],
    }

    /// The run did not finish cleanly: a test file that could not be collected or compiled, an error reported for a whole suite, or a suite whose failure counts are higher than the failed tests it lists. A run that crashed is never a pass.
    pub SUITE_ERROR = "suite-error" {
        name: "TestSuiteError",
        level: Error,
        short: "A test suite errored as a whole or reports more failures than it lists.",
        tags: ["tests"],
    }

    /// A suite that silently ran nothing (a filter that matched no test, a runner that exited early) must not pass. Lower `min-tests` only if the suite really is that small.
    pub TOO_FEW_TESTS = "too-few-tests" {
        name: "TooFewTests",
        level: Error,
        short: "The test reports hold fewer tests than `min-tests` (default 1).",
        tags: ["tests"],
    }

    /// A test that fails and then passes on a retry (cargo-nextest's retries, Maven Surefire's `rerunFailingTestsCount`, pytest-rerunfailures) hides a race or an order dependence. Fix it or waive it with an owner and an expiry.
    pub FLAKY = "flaky" {
        name: "FlakyTest",
        level: Warning,
        short: "A test failed, then passed when it was run again.",
        tags: ["tests"],
    }

    /// Only with `slow` set in the config: the test took longer than that many seconds.
    pub SLOW = "slow" {
        name: "SlowTest",
        level: Warning,
        short: "A test took longer than its time budget (`slow`).",
        tags: ["tests", "performance"],
    }

    /// Add tests for the new lines (each uncovered range is its own `uncovered-new-lines` finding, shown in the diff). New code is what the change adds or modifies: with `--changed-since REV`, `git diff REV` over the work tree plus untracked files; in a pull request's run, HEAD against the base commit its context report names (through their merge-base, or the base as merged in GitHub's merge checkout); for a push or `--staged`, what is pushed or staged. Lines a report does not measure (comments, blank lines, declarations) do not count.
    pub NEW_CODE_COVERAGE = "new-code-coverage" {
        name: "NewCodeCoverage",
        level: Error,
        short: "Coverage on the lines the change adds or modifies is below `new-code-min`.",
        tags: ["tests", "coverage"],
    }

    /// Cover the lines with a test, or accept the gap: these are warnings, the gate is `new-code-coverage`.
    pub UNCOVERED_NEW_LINES = "uncovered-new-lines" {
        name: "UncoveredNewLines",
        level: Warning,
        short: "Lines the change adds or modifies that no test ran.",
        tags: ["tests", "coverage"],
    }

    /// A changed file of a kind the coverage reports measure (its extension is among theirs), which no report measures: a module no test imports, a package without tests, or a path the reports leave out. Its lines are not in coverage on new code, as diff-cover leaves them out too; this warning says they were not measured at all.
    pub UNMEASURED_CHANGED_FILE = "unmeasured-changed-file" {
        name: "UnmeasuredChangedFile",
        level: Warning,
        short: "A file the change adds or modifies is in no coverage report.",
        tags: ["tests", "coverage"],
    }

    /// Overall line coverage (covered lines ÷ measured lines over every file of the coverage reports) is below `min`.
    pub COVERAGE = "coverage" {
        name: "CoverageBelowMinimum",
        level: Error,
        short: "Overall line coverage is below `min`.",
        tags: ["tests", "coverage"],
    }

    /// The files matching a glob of `paths` together have less line coverage than its minimum.
    pub PATH_COVERAGE = "path-coverage" {
        name: "PathCoverageBelowMinimum",
        level: Error,
        short: "Line coverage of the files matching a `paths` glob is below its minimum.",
        tags: ["tests", "coverage"],
    }

    /// Overall coverage fell by more than `max-drop` percentage points against the `baseline` reports (e.g. the main branch's coverage artifact).
    pub COVERAGE_DROP = "coverage-drop" {
        name: "CoverageDrop",
        level: Error,
        short: "Overall line coverage dropped more than `max-drop` points below the baseline.",
        tags: ["tests", "coverage"],
    }

    /// Nothing to do: the run's counts (passed, failed, skipped, flaky) and coverage, for the summary people read.
    pub SUMMARY = "summary" {
        name: "TestSummary",
        level: Note,
        short: "Test and coverage totals of the run.",
        tags: ["tests"],
    }
}
