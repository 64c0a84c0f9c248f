//! portcullis: decide whether a change may merge.
//!
//! One finding's path through the crate, in order:
//!
//! 1. [`policy`] reads `portcullis.toml` (or the built-in default) into a
//!    validated [`policy::Policy`].
//! 2. [`plugins`] resolves each plugin's component ([`builtins`] embedded in
//!    the binary, or a `.wasm` file pinned by its sha256).
//! 3. [`evidence`] collects what the plugins read: the file tree, `cargo
//!    metadata`, report files.
//! 4. [`sandbox`] compiles (with an on-disk cache) and runs each plugin in its
//!    own wasmtime store with a deadline, a memory cap and output caps.
//! 5. [`finding`] validates what a plugin returned and fingerprints it; a
//!    plugin that could not be evaluated has a [`failure::PluginFailure`].
//! 6. [`gate::judge`] applies levels, the [`baseline`], waivers, changed
//!    files and `fail-at`, and decides the verdict.
//! 7. [`report`] renders the [`outcome::Outcome`]: human, JSON, SARIF, the
//!    HTML page, metrics, a trace, …; [`report::merge`] sums many runs'
//!    JSON reports up.
//!
//! [`check`] runs the whole path; [`test_cmd`] runs policy tests on it;
//! [`hook`] runs it on what a push sends; [`init`] writes a starter policy. The
//! binary only parses arguments, shows progress and prints. [`cache`],
//! [`digest`], [`diag`] and `beneath` (opening a path under a directory
//! without following symlinks) are leaves every stage may use.
#![deny(unsafe_code)]

pub mod baseline;
mod beneath;
pub mod builtins;
pub mod cache;
pub mod check;
pub mod diag;
pub mod digest;
pub mod evidence;
pub mod failure;
pub mod files;
pub mod finding;
pub mod gate;
pub mod hook;
pub mod http;
pub mod init;
pub mod oci;
pub mod outcome;
pub mod plugin_tests;
pub mod plugins;
pub mod policy;
pub mod process;
pub mod report;
pub mod sandbox;
pub mod scaffold;
pub mod test_cmd;

pub use check::{CheckOptions, run_check};
pub use diag::Level;
pub use outcome::Outcome;
