//! End-to-end tests: the real `portcullis` binary on repositories built in
//! temporary directories, with the real wasm plugins built from this repo.
//! Every SARIF file written here is validated against the OASIS schema and
//! GitHub's rules (Microsoft's SARIF multitool).

mod approvals;
mod canary;
mod ci_templates;
mod cli;
mod common;
mod docs;
mod evidence;
mod faults;
mod formats;
mod golden;
mod html;
mod install;
mod lint;
mod memo;
mod metrics;
mod mutants;
mod perf;
mod policy;
mod precompiled;
mod prepush;
mod registry;
mod rego;
mod sandbox;
mod scaffold;
mod security;
mod sigstore;
mod test_reports;
mod traces;
mod trust;
mod workflows;
