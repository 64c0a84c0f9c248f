//! CODEOWNERS conformance with GitHub's documented examples
//! (docs.github.com, "About code owners", example CODEOWNERS file).

use portcullis_plugin_approvals::{Codeowners, Owner};

/// GitHub's example file, line for line (comments dropped).
const GITHUB_EXAMPLE: &str =
    include_str!("../../../tests/fixtures/codeowners/github-example.CODEOWNERS");

fn owners(co: &Codeowners, path: &str) -> Vec<String> {
    co.owners(path).iter().map(Owner::to_string).collect()
}

#[test]
fn githubs_documented_examples() {
    let (co, invalid) = Codeowners::parse("CODEOWNERS", GITHUB_EXAMPLE);
    assert_eq!(invalid, vec![]);
    let table: &[(&str, &[&str], &str)] = &[
        // Default owners for everything not matched later.
        (
            "README.md",
            &["@global-owner1", "@global-owner2"],
            "`*` matches everything",
        ),
        (
            "src/lib.rs",
            &["@global-owner1", "@global-owner2"],
            "at any depth",
        ),
        // `*.js` anywhere; the inline comment is not an owner.
        (
            "src/app.js",
            &["@js-owner"],
            "`*.js` at any depth, inline comment dropped",
        ),
        ("main.go", &["docs@example.com"], "email owner"),
        ("notes.txt", &["@octo-org/octocats"], "team owner"),
        // `/build/logs/`: that directory at the root and everything in it.
        (
            "build/logs/a.log",
            &["@octocat"],
            "`**/logs` (later) wins over `/build/logs/`",
        ),
        ("build/logs/deep/b.txt", &["@octocat"], "last match wins"),
        // `docs/*` only direct children (unlike gitignore) — but later
        // `/docs/` owns the whole tree.
        (
            "docs/a/b.md",
            &["@doctocat"],
            "`/docs/` owns what `docs/*` does not",
        ),
        // `apps/` any `apps` directory, at any depth.
        ("web/apps/x.rs", &["@octocat"], "`apps/` at any depth"),
        // `/apps/github` has no owners: unowned.
        (
            "apps/github/main.rs",
            &[],
            "a line without owners un-owns the path",
        ),
        (
            "apps/other.rs",
            &["@octocat"],
            "`/apps/` still owns the rest",
        ),
        (
            "docs/getting-started.md",
            &["@octo-org/docs-team"],
            "a file named exactly",
        ),
        (
            "scripts/deploy.sh",
            &["@doctocat", "@octocat"],
            "several owners",
        ),
        ("a/b/logs/c.txt", &["@octocat"], "`**/logs` at any depth"),
    ];
    for (path, want, why) in table {
        assert_eq!(owners(&co, path), *want, "{path}: {why}");
    }
}

#[test]
fn gitignore_semantics_and_githubs_differences() {
    let text = "\
docs/* @direct
/anchored.txt @root-only
nested/dir/ @dir
*.MD @upper
src/**/test @deep
";
    let (co, invalid) = Codeowners::parse("CODEOWNERS", text);
    assert_eq!(invalid, vec![]);
    let table: &[(&str, &[&str])] = &[
        ("docs/a.md", &["@direct"]),
        ("docs/a/b.md", &[]), // `docs/*` does not reach subdirectories on GitHub
        ("anchored.txt", &["@root-only"]),
        ("sub/anchored.txt", &[]), // a leading `/` anchors
        ("nested/dir/x", &["@dir"]),
        ("nested/dir", &[]),         // a trailing `/` matches only a directory
        ("other/nested/dir/x", &[]), // an inner `/` anchors too
        ("README.MD", &["@upper"]),
        ("README.md", &[]), // case-sensitive
        ("src/test/x.rs", &["@deep"]),
        ("src/a/b/test/x.rs", &["@deep"]),
        ("src/a/b/testing/x.rs", &[]),
    ];
    for (path, want) in table {
        assert_eq!(owners(&co, path), *want, "{path}");
    }
}

#[test]
fn invalid_lines_are_reported_with_their_line_and_skipped() {
    let text = "\
# comment
* @everyone
!secret.txt @nobody
[ab].txt @range
\\#hash @escaped
valid.txt @ok not-an-owner
*.rs @rust
";
    let (co, invalid) = Codeowners::parse(".github/CODEOWNERS", text);
    let lines: Vec<u32> = invalid.iter().map(|i| i.line).collect();
    assert_eq!(lines, [3, 4, 5, 6]);
    assert!(invalid[0].reason.contains("`!` negation is not supported"));
    assert!(invalid[1].reason.contains("`[ ]` character ranges"));
    assert!(invalid[2].reason.contains("`\\#` escapes"));
    assert!(invalid[3].reason.contains("`not-an-owner` is not an owner"));
    assert_eq!(
        owners(&co, "valid.txt"),
        ["@everyone"],
        "the invalid line is skipped"
    );
    assert_eq!(owners(&co, "main.rs"), ["@rust"]);
}
