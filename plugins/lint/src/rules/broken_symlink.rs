//! The `broken-symlink` rule: declared, and documented, in [`BROKEN_SYMLINK`].

use portcullis_sdk::{Evaluation, FileEntry, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Symbolic links whose target does not exist, like pre-commit's
    /// `check-symlinks`.
    ///
    /// ## Why it matters
    /// A dangling link is a file that fails to open on every checkout: a
    /// build, a test or a deploy step that reads it breaks far from the change.
    ///
    /// ## How to fix
    /// Fix the link's target or remove the link.
    ///
    /// ## How to waive
    /// Add the link's path to `config.exclude`.
    pub BROKEN_SYMLINK = "broken-symlink" {
        name: "BrokenSymlink",
        level: Error,
        short: "A symbolic link points to nothing.",
        tags: ["hygiene"],
    }
}

pub fn check(file: &FileEntry, out: &mut Evaluation) {
    if file.link_resolves {
        return;
    }
    let target = file.link_target.as_deref().unwrap_or("?");
    out.push(
        BROKEN_SYMLINK
            .finding(format!(
                "{} points to {target}, which does not exist",
                file.path
            ))
            .in_file(&file.path),
    );
}
