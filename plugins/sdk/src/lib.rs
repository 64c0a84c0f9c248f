//! Write portcullis plugins in Rust.
//!
//! A plugin is a unit struct implementing [`Plugin`], exported with
//! [`export_plugin!`] and built for `wasm32-wasip2`. Each rule it reports is
//! declared once with [`declare_rule!`], whose doc comment is the rule's help;
//! the plugin lists its rules once, in order, and makes findings only through
//! them:
//!
//! ```
//! use portcullis_sdk::{
//!     Context, Evaluation, Plugin, PluginInfo, RuleDecl, declare_rule, export_plugin,
//! };
//!
//! declare_rule! {
//!     /// ## What it checks
//!     /// Lines that contain `TODO`.
//!     ///
//!     /// ## How to waive
//!     /// Finish the work, or track it in an issue and remove the comment.
//!     pub TODO_COMMENT = "todo-comment" {
//!         name: "TodoComment",
//!         level: Warning,
//!         short: "A TODO comment was left in the code.",
//!         tags: ["hygiene"],
//!     }
//! }
//!
//! /// Every rule, in the order `portcullis rules` lists them.
//! pub const RULES: &[&RuleDecl] = &[&TODO_COMMENT];
//!
//! struct Todo;
//!
//! impl Plugin for Todo {
//!     fn describe() -> PluginInfo {
//!         PluginInfo::new("todo", "0.1.0").rules(RULES).reads_files()
//!     }
//!     fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
//!         let mut out = Evaluation::default();
//!         for file in ctx.files() {
//!             let Ok(text) = ctx.read_to_string(&file.path) else { continue };
//!             for (n, line) in text.lines().enumerate() {
//!                 if line.contains("TODO") {
//!                     out.push(TODO_COMMENT.finding("TODO left in code").at_line(&file.path, n as u32 + 1));
//!                 }
//!             }
//!         }
//!         Ok(out)
//!     }
//! }
//!
//! export_plugin!(Todo);
//! ```
//!
//! Rules a plugin only learns while evaluating (those of an imported SARIF
//! log, say) are registered with [`Evaluation::discover`], which returns the
//! [`Discovered`] handle that makes their findings.
//!
//! The same plugin runs natively under [`testing::Harness`], so its rules are
//! unit-tested with plain `cargo test` on fixture directories, and
//! [`testing::assert_rules_well_formed`] checks its rule list.

pub mod cache;
mod context;
pub mod memo;
mod rule;
pub mod stats;
pub mod testing;
pub mod text;
mod types;

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "portcullis-plugin",
        pub_export_macro: true,
        export_macro_name: "__export_guest",
        default_bindings_module: "portcullis_sdk::bindings",
    });
}

pub use bindings::portcullis::plugin::host::{
    LogLevel, MetricSeries, MetricsAnswer, MetricsQuery, MetricsWindow,
};
pub use bindings::portcullis::plugin::types::{
    Evaluation, Evidence, EvidenceKind, FileCoverage, FileEntry, FileKind, Finding, Level,
    Location, Mount, PluginInfo, Region, Report, ReportFormat, Rule, TestResult, TestRun,
    TestStatus,
};
pub use context::{ChangedLines, Context, NativeMetrics, Paths, globset};
#[doc(hidden)]
pub use rule::__is_kebab_case;
pub use rule::{Discovered, RuleDecl};

/// The mount point of the repository inside the sandbox.
pub const SANDBOX_ROOT: &str = "/repo";

/// Where a policy mount `<name>` is readable inside the sandbox: `/mnt/<name>`.
pub const MOUNT_ROOT: &str = "/mnt";

/// What a plugin implements. See the crate docs for an example.
pub trait Plugin {
    /// The plugin's name, version, rules and the evidence it reads.
    fn describe() -> PluginInfo;

    /// Evaluate the evidence in `ctx`. An `Err` fails the gate closed: the
    /// message must say what is wrong and where (`file:line` when there is one).
    fn evaluate(ctx: &Context) -> Result<Evaluation, String>;

    /// Run the tests of the policies the plugin evaluates (`portcullis
    /// test`), recording which policy lines ran when `coverage` is set. Only
    /// called when [`describe`](Plugin::describe) says
    /// [`PluginInfo::with_tests`]; plugins without tests keep this default.
    fn run_tests(ctx: &Context, coverage: bool) -> Result<TestRun, String> {
        let _ = (ctx, coverage);
        Ok(TestRun::default())
    }
}

/// Write to the host's log (inside the sandbox) or to stderr (natively).
pub fn log(level: LogLevel, message: &str) {
    #[cfg(target_arch = "wasm32")]
    bindings::portcullis::plugin::host::log(level, message);
    #[cfg(not(target_arch = "wasm32"))]
    testing::record_log(level, message);
}

/// The host's `cargo metadata` (the contract's `cargo-metadata`), asked
/// anew: with `dependencies` every package the lockfile names, else the
/// workspace's own (`--no-deps`). Plugins use
/// [`Context::cargo_metadata_on_demand`], which asks once and lets the
/// evidence answer first; natively there is no host, and no metadata.
pub fn cargo_metadata(dependencies: bool) -> Result<Option<String>, String> {
    #[cfg(target_arch = "wasm32")]
    {
        bindings::portcullis::plugin::host::cargo_metadata(dependencies)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = dependencies;
        Ok(None)
    }
}

/// The host's key for its cached `cargo metadata` with dependencies (the
/// contract's `cargo-metadata-key`): what a plugin keeps derived from the
/// metadata is valid for this key only; `None`: keep nothing. Natively,
/// a digest of the fixture's Cargo manifests and lockfile (see
/// [`Context::cargo_metadata_key`]).
#[cfg(target_arch = "wasm32")]
pub fn cargo_metadata_key() -> Option<String> {
    bindings::portcullis::plugin::host::cargo_metadata_key()
}

#[doc(hidden)]
pub fn __describe<P: Plugin>() -> PluginInfo {
    // Calling the contract's `file-list` during `describe` tells the host
    // that this plugin asks for the file list when it needs it
    // ([`Context::files`]), so `evidence.files` comes empty and a plugin
    // that never looks at the list does not pay for it.
    #[cfg(target_arch = "wasm32")]
    let _ = bindings::portcullis::plugin::host::file_list(false);
    P::describe()
}

#[doc(hidden)]
pub fn __evaluate<P: Plugin>(config: String, evidence: Evidence) -> Result<Evaluation, String> {
    let ctx = Context::from_host(&config, evidence, std::path::PathBuf::from(SANDBOX_ROOT))?;
    P::evaluate(&ctx)
}

#[doc(hidden)]
pub fn __run_tests<P: Plugin>(
    config: String,
    evidence: Evidence,
    coverage: bool,
) -> Result<TestRun, String> {
    let ctx = Context::from_host(&config, evidence, std::path::PathBuf::from(SANDBOX_ROOT))?;
    P::run_tests(&ctx, coverage)
}

/// Export a type implementing [`Plugin`] as the component's `plugin` interface.
///
/// The export exists only in wasm builds; natively (tests, the harness) the
/// plugin is an ordinary library.
#[macro_export]
macro_rules! export_plugin {
    ($ty:ty) => {
        #[cfg(target_arch = "wasm32")]
        #[doc(hidden)]
        mod __portcullis_export {
            #[allow(unused_imports)]
            use super::*;

            pub struct Guest;

            impl $crate::bindings::exports::portcullis::plugin::plugin::Guest for Guest {
                fn describe() -> $crate::PluginInfo {
                    $crate::__describe::<$ty>()
                }
                fn evaluate(
                    config: ::std::string::String,
                    evidence: $crate::Evidence,
                ) -> ::std::result::Result<$crate::Evaluation, ::std::string::String> {
                    $crate::__evaluate::<$ty>(config, evidence)
                }
                fn run_tests(
                    config: ::std::string::String,
                    evidence: $crate::Evidence,
                    coverage: bool,
                ) -> ::std::result::Result<$crate::TestRun, ::std::string::String> {
                    $crate::__run_tests::<$ty>(config, evidence, coverage)
                }
            }

            $crate::bindings::__export_guest!(Guest with_types_in $crate::bindings);
        }
    };
}
