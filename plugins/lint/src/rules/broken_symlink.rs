//! `broken-symlink`
//!
//! ## What it checks
//! Symbolic links whose target does not exist, like pre-commit's
//! `check-symlinks`.

use portcullis_sdk::{Evaluation, FileEntry, Finding, Level, Rule};

pub const ID: &str = "broken-symlink";

pub fn rule() -> Rule {
    Rule::new(
        ID,
        "BrokenSymlink",
        Level::Error,
        "A symbolic link points to nothing.",
    )
    .help("Fix the link's target or remove the link.")
    .tags(&["hygiene"])
}

pub fn check(file: &FileEntry, out: &mut Evaluation) {
    if file.link_resolves {
        return;
    }
    let target = file.link_target.as_deref().unwrap_or("?");
    out.push(
        Finding::new(
            ID,
            format!("{} points to {target}, which does not exist", file.path),
        )
        .in_file(&file.path),
    );
}
