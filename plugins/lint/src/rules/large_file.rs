//! The `large-file` rule: declared, and documented, in [`LARGE_FILE`].

use portcullis_sdk::{Evaluation, FileEntry, declare_rule};

declare_rule! {
    /// ## What it checks
    /// Files larger than `max-file-kb` (default 500 KiB), like pre-commit's
    /// `check-added-large-files`.
    ///
    /// ## Why it matters
    /// Large blobs bloat every clone forever; they belong in releases or LFS.
    ///
    /// ## How to fix
    /// Move the file to a release asset or Git LFS, or raise `max-file-kb` in
    /// the lint plugin's config.
    ///
    /// ## How to waive
    /// Add the path to `config.exclude`, or raise `max-file-kb`.
    pub LARGE_FILE = "large-file" {
        name: "LargeFile",
        level: Warning,
        short: "A file is larger than the configured limit.",
        full: "Files larger than `max-file-kb` (default 500 KiB) bloat every clone of the repository.",
        tags: ["hygiene"],
    }
}

pub fn report(file: &FileEntry, max_bytes: u64, out: &mut Evaluation) {
    out.push(
        LARGE_FILE
            .finding(format!(
                "{} is {} KiB, over the limit of {} KiB",
                file.path,
                file.size / 1024,
                max_bytes / 1024
            ))
            .in_file(&file.path)
            .properties(serde_json::json!({ "size": file.size, "limit": max_bytes })),
    );
}
