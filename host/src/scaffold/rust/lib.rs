//! @@NAME@@: a portcullis plugin in Rust, with the SDK in `sdk/`.
//!
//! The host calls `describe` once, then `evaluate` with the policy's config
//! and the evidence. `tests/rules.rs` runs it natively on a fixture with the
//! SDK's harness (`cargo test`); `./build.sh` builds the component.

use portcullis_sdk::{
    Context, Evaluation, FileKind, Plugin, PluginInfo, RuleDecl, declare_rule, export_plugin,
};
use serde::Deserialize;

declare_rule! {
    /// ## What it checks
    /// TODO comments that name no issue: `TODO(#123)` is tracked, a bare
    /// `TODO` is work nobody tracks.
    ///
    /// ## How to fix
    /// Write the issue it waits on, `TODO(#123): …`, or do the work now.
    pub TODO_WITHOUT_ISSUE = "todo-without-issue" {
        name: "TodoWithoutIssue",
        level: Warning,
        short: "A TODO comment that names no issue.",
        tags: ["maintainability"],
    }
}

/// Every rule, in the order `portcullis rules` lists them.
pub const RULES: &[&RuleDecl] = &[&TODO_WITHOUT_ISSUE];

/// The plugin's `config` table from the policy.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// The file endings checked.
    #[serde(default = "default_extensions")]
    extensions: Vec<String>,
}

fn default_extensions() -> Vec<String> {
    [".py", ".rs", ".js", ".ts", ".go"].map(String::from).to_vec()
}

pub struct Todo;

impl Plugin for Todo {
    fn describe() -> PluginInfo {
        PluginInfo::new("@@NAME@@", env!("CARGO_PKG_VERSION"))
            .rules(RULES)
            .reads_files()
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        // A bad config is an error: the gate fails closed with the message.
        let config: Config = ctx.config()?;
        let mut out = Evaluation::default();
        // Files (not symlinks) with a wanted ending, where findings count:
        // every file, or only the changed ones on a push.
        let files: Vec<_> = ctx
            .files_to_read()
            .into_iter()
            .filter(|f| f.kind == FileKind::File)
            .filter(|f| config.extensions.iter().any(|e| f.path.ends_with(e.as_str())))
            .collect();
        // The host reads up to 64 MiB per call.
        for batch in ctx.batches(&files, 32 << 20) {
            let paths: Vec<String> = batch.iter().map(|f| f.path.clone()).collect();
            for (path, read) in paths.iter().zip(ctx.read_many(&paths)) {
                let bytes = read.map_err(|e| Context::cannot_read("@@NAME@@", path, &e))?;
                for line in todos(&String::from_utf8_lossy(&bytes)) {
                    out.push(
                        TODO_WITHOUT_ISSUE
                            .finding("TODO without an issue: write `TODO(#<issue>)` or do it now")
                            .at_line(path, line),
                    );
                }
            }
        }
        Ok(out)
    }
}

/// The lines (from 1) with a `TODO` not followed by `(#<digits>)`.
pub fn todos(text: &str) -> Vec<u32> {
    let mut lines = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let untracked = line.match_indices("TODO").any(|(at, _)| {
            let word_start = !line[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            let after = &line[at + 4..];
            let word_end = !after
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            let issue = after.trim_start().strip_prefix("(#").is_some_and(|rest| {
                let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
                digits > 0 && rest[digits..].starts_with(')')
            });
            word_start && word_end && !issue
        });
        if untracked {
            lines.push(n as u32 + 1);
        }
    }
    lines
}

export_plugin!(Todo);
