//! The plugin from the README's "Write a plugin" section, compiled by
//! `cargo test` and run on a fixture by `tests/readme_example.rs`.

use portcullis_sdk::{
    Context, Evaluation, Plugin, PluginInfo, RuleDecl, declare_rule, export_plugin,
};

declare_rule! {
    /// ## What it checks
    /// Lines that contain `TODO`.
    ///
    /// ## How to waive
    /// Finish the work, or track it in an issue and remove the comment.
    pub TODO_COMMENT = "todo-comment" {
        name: "TodoComment",
        level: Warning,
        short: "A TODO was left in the code.",
        tags: [],
    }
}

/// Every rule, in the order `portcullis rules` lists them.
pub const RULES: &[&RuleDecl] = &[&TODO_COMMENT];

pub struct Todo;

impl Plugin for Todo {
    fn describe() -> PluginInfo {
        PluginInfo::new("todo", env!("CARGO_PKG_VERSION"))
            .rules(RULES)
            .reads_files()
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        let mut out = Evaluation::default();
        let paths: Vec<String> = ctx.files().iter().map(|f| f.path.clone()).collect();
        for (path, bytes) in paths.iter().zip(ctx.read_many(&paths)) {
            let text = String::from_utf8_lossy(&bytes?).into_owned();
            for (n, line) in text.lines().enumerate() {
                if line.contains("TODO") {
                    out.push(
                        TODO_COMMENT
                            .finding("TODO left in code")
                            .at_line(path, n as u32 + 1),
                    );
                }
            }
        }
        Ok(out)
    }
}

export_plugin!(Todo);
