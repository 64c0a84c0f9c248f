//! portcullis: decide whether a change may merge.
//!
//! One finding's path through the crate, in order:
//!
//! 1. [`policy`] reads `portcullis.toml` (or the built-in default) into a
//!    validated [`policy::Policy`].
//! 2. [`plugins`] resolves each plugin's source (built in, or a `.wasm` file
//!    pinned by sha256).
//! 3. [`evidence`] collects what the plugins read: the file tree, `cargo
//!    metadata`, report files.
//! 4. [`sandbox`] compiles (with an on-disk cache) and runs each plugin in its
//!    own wasmtime store with a deadline, a memory cap and output caps.
//! 5. [`finding`] validates what a plugin returned and fingerprints it.
//! 6. [`gate`] applies levels and `fail-at` and decides the verdict.
//! 7. [`report`] renders the outcome: human, JSON, SARIF.
//!
//! [`cache`] is the on-disk cache steps 3 and 4 use. [`check`] runs the
//! whole path; the binary only parses arguments.
#![deny(unsafe_code)]

pub mod cache;
pub mod check;
pub mod diag;
pub mod evidence;
pub mod finding;
pub mod gate;
pub mod hook;
pub mod plugins;
pub mod policy;
pub mod policy_tests;
pub mod report;
pub mod sandbox;

pub use check::{CheckOptions, Outcome, run_check};
pub use diag::Level;
