//! The lines a change adds or modifies, for plugins that ask while they
//! run (the contract's `changed-lines`): coverage on new code, annotations
//! on the diff. Asked only by the plugins that need it, and at most once
//! per run: `git diff -U0` read as it streams (only the file headers and
//! hunk headers are kept, never the changed text). Against a revision the
//! work tree counts, with the files git does not track yet, which are new
//! from their first line; a push compares two commits; `--staged`, the
//! index with HEAD; a pull request, HEAD with the pull request's base
//! (named by its context report) through their merge-base.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::git;
use crate::policy::ReportSpec;

/// Repository-relative path and its new lines: 1-based inclusive ranges
/// of the file as it is now, in order.
pub type FileLines = (String, Vec<(u32, u32)>);

/// The answer to `changed-lines`.
pub type Answer = Result<Option<Vec<FileLines>>, String>;

/// A line range that runs to the end of the file (a new, untracked file).
pub const TO_THE_END: u32 = u32::MAX;

/// Longest line kept whole (a header with a path is far shorter; longer
/// lines are changed text, cut and skipped).
const MAX_HEADER: usize = 64 << 10;

/// What the change is compared with.
#[derive(Debug, Clone)]
pub enum Base {
    /// The work tree, untracked files included, against a revision
    /// (`--changed-since REV`).
    WorkTree(String),
    /// One commit against another (a push: the pushed commit against the
    /// remote's, or against its merge-base with the default branch).
    Commits { base: String, head: String },
    /// The index against HEAD, or against nothing before the first commit
    /// (`--staged`).
    Index,
    /// HEAD against the base commit its pull request's context names
    /// (`pr-context`'s `base_sha`, a `github-event`'s
    /// `pull_request.base.sha`, `gh pr view`'s `baseRefOid`), through
    /// their merge-base: the pull request's own changes. The reports are
    /// read only when a plugin asks; none of them naming a base means the
    /// base is unknown.
    PullRequest(Vec<ReportSpec>),
}

/// Computed on first ask, for the run's change base (none: every file
/// counts, and the answer is `Ok(None)`).
#[derive(Debug, Default)]
pub struct OnDemand {
    /// The directory git runs in (a repository or a directory in one) and
    /// the base.
    base: Option<(PathBuf, Base)>,
    answer: OnceLock<Answer>,
    /// Which pull request base was used, once resolved.
    resolved: OnceLock<String>,
}

impl OnDemand {
    /// Lines changed in `dir` (a repository, or a directory in one: paths
    /// are relative to it) since `base`.
    pub fn new(dir: &Path, base: Base) -> OnDemand {
        OnDemand {
            base: Some((dir.to_path_buf(), base)),
            answer: OnceLock::new(),
            resolved: OnceLock::new(),
        }
    }

    /// Lines changed in the work tree at `root` since `rev`
    /// (`--changed-since`).
    pub fn since(root: &Path, rev: &str) -> OnDemand {
        OnDemand::new(root, Base::WorkTree(rev.to_string()))
    }

    /// The answer when it needs no git (no base, or asked before).
    pub fn ready(&self) -> Option<Answer> {
        match &self.base {
            None => Some(Ok(None)),
            Some(_) => self.answer.get().cloned(),
        }
    }

    /// The answer, computing it on the first call (later callers wait).
    pub fn get(&self) -> Answer {
        match &self.base {
            None => Ok(None),
            Some((dir, base)) => self.answer.get_or_init(|| self.compute(dir, base)).clone(),
        }
    }

    /// For the run's notices: the pull request base the lines were
    /// compared with, when a plugin asked and one was found.
    pub fn pull_request_base(&self) -> Option<&str> {
        self.resolved.get().map(String::as_str)
    }

    fn compute(&self, dir: &Path, base: &Base) -> Answer {
        match base {
            Base::WorkTree(rev) => diff(dir, &[], &[rev.as_str()], rev, true).map(Some),
            Base::Commits { base, head } => {
                let label = format!("{base}..{head}");
                diff(dir, &[], &[base.as_str(), head.as_str()], &label, false).map(Some)
            }
            Base::Index => diff(dir, &["--cached"], &[], "--staged", false).map(Some),
            Base::PullRequest(specs) => {
                let Some(pr) = super::reports::pull_request_base(dir, specs)? else {
                    return Ok(None);
                };
                let (from, about) = pull_request_from(dir, &pr)?;
                let label = format!("{}..HEAD", &from[..from.len().min(12)]);
                let lines = diff(dir, &[], &[from.as_str(), "HEAD"], &label, false)?;
                let _ = self.resolved.set(about);
                Ok(Some(lines))
            }
        }
    }
}

/// The commit a pull request's HEAD is compared with, and how it was
/// found (for the run's notes). GitHub checks out a merge commit of the
/// pull request's head into the base branch: when HEAD's second parent is
/// the head the context names, the first parent is the base as merged
/// (it may be newer than the context's base). Otherwise the merge-base of
/// the context's base and HEAD: the pull request's own changes, whether
/// HEAD is its head or a merge.
fn pull_request_from(
    dir: &Path,
    pr: &super::reports::PullRequest,
) -> Result<(String, String), String> {
    let short = |id: &str| id[..id.len().min(12)].to_string();
    if let Some(head) = &pr.head
        && git::commit_id(dir, "HEAD^2").as_deref() == Some(head.as_str())
        && let Some(merged) = git::commit_id(dir, "HEAD^1")
    {
        return Ok((
            merged.clone(),
            format!(
                "{} (report {}): HEAD merges the pull request's head {} into {}",
                short(&pr.base),
                pr.report,
                short(head),
                short(&merged)
            ),
        ));
    }
    let base = short(&pr.base);
    if git::commit_id(dir, &pr.base).is_none() {
        return Err(format!(
            "the pull request's base commit {base} (report {}) is not in this clone: fetch the history (actions/checkout with `fetch-depth: 0`)",
            pr.report
        ));
    }
    let from = git::merge_base(dir, &pr.base, "HEAD").ok_or_else(|| {
        format!(
            "the pull request's base commit {base} (report {}) and HEAD have no common ancestor in this clone (a shallow clone? fetch with `fetch-depth: 0`)",
            pr.report
        )
    })?;
    let about = if from == pr.base {
        format!("{base} (report {})", pr.report)
    } else {
        format!(
            "{base} (report {}), through merge-base {}",
            pr.report,
            short(&from)
        )
    };
    Ok((from, about))
}

/// `git diff -U0 <options> <revs> --` in `dir`, read as it streams; `untracked`:
/// the files git does not track count as new from their first line.
fn diff(
    dir: &Path,
    options: &[&str],
    revs: &[&str],
    label: &str,
    untracked: bool,
) -> Result<Vec<FileLines>, String> {
    let attrs = format!(
        "--attr-source={}",
        git::empty_tree(dir, label).map_err(|e| e.to_string())?
    );
    let mut parser = Parser::default();
    let ran = crate::process::for_each_line(
        git::command(dir)
            .args([
                "-c",
                "core.hooksPath=/dev/null",
                "-c",
                "core.quotePath=false",
                "-c",
                "diff.noprefix=false",
                "-c",
                "diff.mnemonicPrefix=false",
                &attrs,
                "diff",
                "-U0",
                // A user's `diff.interHunkContext` would put context lines
                // between hunks.
                "--inter-hunk-context=0",
                // A file git would call binary (a NUL in its first bytes)
                // still has lines: never left out of the new code.
                "--text",
                "--no-color",
                "--no-ext-diff",
                "--no-textconv",
                "--relative",
                "--find-renames",
                "--diff-filter=d",
                "--src-prefix=a/",
                "--dst-prefix=b/",
            ])
            .args(options)
            .arg("--end-of-options")
            .args(revs)
            .arg("--"),
        "git diff",
        git::TIMEOUT,
        MAX_HEADER,
        |line| parser.line(line),
    )
    .map_err(|e| format!("git diff -U0 {label}: {e}"))?;
    let (status, stderr) = ran.map_err(|e| format!("git diff -U0 {label}: {e}"))?;
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        return Err(format!(
            "git diff -U0 {label}: {}",
            stderr.lines().next().unwrap_or("git failed")
        ));
    }
    let mut files = parser.finish()?;
    if untracked {
        for path in git::untracked(dir, &attrs, label).map_err(|e| e.to_string())? {
            files.push((path, vec![(1, TO_THE_END)]));
        }
    }
    files.sort();
    files.dedup_by(|a, b| a.0 == b.0);
    Ok(files)
}

/// Reads `git diff -U0` output line by line.
#[derive(Default)]
struct Parser {
    files: Vec<FileLines>,
    /// The file whose hunks follow (`None`: a deletion or a binary file).
    current: Option<FileLines>,
    /// Lines of changed text still to skip in the current hunk.
    old_left: u64,
    new_left: u64,
}

impl Parser {
    fn line(&mut self, line: &[u8]) -> Result<(), String> {
        if self.old_left > 0 || self.new_left > 0 {
            match line.first() {
                Some(b'-') => self.old_left = self.old_left.saturating_sub(1),
                Some(b'+') => self.new_left = self.new_left.saturating_sub(1),
                // "\ No newline at end of file"
                Some(b'\\') => {}
                _ => return Err("git diff: a hunk ended early".into()),
            }
            return Ok(());
        }
        if line.starts_with(b"diff --git ") {
            self.flush();
        } else if let Some(path) = line.strip_prefix(b"+++ ") {
            self.flush();
            // git ends the name with a tab when it holds a space.
            let path = path.strip_suffix(b"\t").unwrap_or(path);
            if path != b"/dev/null" {
                let path = unquote(path)?;
                let path = path
                    .strip_prefix("b/")
                    .ok_or_else(|| format!("git diff: unexpected file header `+++ {path}`"))?;
                self.current = Some((path.to_string(), Vec::new()));
            }
        } else if line.starts_with(b"@@ ") {
            let text = String::from_utf8_lossy(line);
            let (old, new) = hunk_header(&text)
                .ok_or_else(|| format!("git diff: unexpected hunk header `{text}`"))?;
            self.old_left = old.1;
            self.new_left = new.1;
            if new.1 > 0 {
                let file = self
                    .current
                    .as_mut()
                    .ok_or_else(|| format!("git diff: a hunk with no file: `{text}`"))?;
                let end = new.0.checked_add(new.1 - 1);
                let (Ok(start), Some(Ok(end))) = (u32::try_from(new.0), end.map(u32::try_from))
                else {
                    return Err(format!("git diff: line numbers out of range: `{text}`"));
                };
                if start == 0 {
                    return Err(format!("git diff: new lines from line 0: `{text}`"));
                }
                file.1.push((start, end));
            }
        }
        // Other header lines (index, mode, rename, Binary files …) say
        // nothing about new lines.
        Ok(())
    }

    fn flush(&mut self) {
        if let Some(file) = self.current.take()
            && !file.1.is_empty()
        {
            self.files.push(file);
        }
    }

    fn finish(mut self) -> Result<Vec<FileLines>, String> {
        if self.old_left > 0 || self.new_left > 0 {
            return Err("git diff: the output ended inside a hunk".into());
        }
        self.flush();
        Ok(self.files)
    }
}

/// `@@ -a[,b] +c[,d] @@…` → ((a, b), (c, d)), counts defaulting to 1.
fn hunk_header(line: &str) -> Option<((u64, u64), (u64, u64))> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, _) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |r: &str| -> Option<(u64, u64)> {
        match r.split_once(',') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => Some((r.parse().ok()?, 1)),
        }
    };
    Some((range(old)?, range(new)?))
}

/// A path as git writes it in a header: as is, or C-quoted in double
/// quotes when it holds a quote, a backslash or a control character.
fn unquote(raw: &[u8]) -> Result<String, String> {
    let bad = || {
        format!(
            "git diff: unreadable path `{}`",
            String::from_utf8_lossy(raw)
        )
    };
    let Some(inner) = raw.strip_prefix(b"\"").and_then(|r| r.strip_suffix(b"\"")) else {
        return String::from_utf8(raw.to_vec()).map_err(|_| bad());
    };
    let mut out = Vec::with_capacity(inner.len());
    let mut bytes = inner.iter().copied();
    while let Some(b) = bytes.next() {
        if b != b'\\' {
            out.push(b);
            continue;
        }
        let c = bytes.next().ok_or_else(bad)?;
        out.push(match c {
            b'a' => 7,
            b'b' => 8,
            b't' => b'\t',
            b'n' => b'\n',
            b'v' => 11,
            b'f' => 12,
            b'r' => b'\r',
            b'"' | b'\\' => c,
            b'0'..=b'3' => {
                let (d2, d3) = (bytes.next().ok_or_else(bad)?, bytes.next().ok_or_else(bad)?);
                if !(b'0'..=b'7').contains(&d2) || !(b'0'..=b'7').contains(&d3) {
                    return Err(bad());
                }
                (c - b'0') * 64 + (d2 - b'0') * 8 + (d3 - b'0')
            }
            _ => return Err(bad()),
        });
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::super::index::test_repo::{git, write};
    use super::*;

    fn head(dir: &Path) -> String {
        let out = std::process::Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(dir)
            .output()
            .expect("git");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn lines(files: &[(&str, &[(u32, u32)])]) -> Option<Vec<FileLines>> {
        Some(
            files
                .iter()
                .map(|(p, r)| (p.to_string(), r.to_vec()))
                .collect(),
        )
    }

    #[test]
    fn each_base_compares_what_its_scope_judges() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q"]);
        write(d, "a.txt", "1\n2\n3\n");
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "base"]);
        let base = head(d);
        write(d, "a.txt", "1\nTWO\n3\n4\n");
        // A NUL makes git call a file binary: its lines still count.
        write(d, "nul.js", "x\0y\nz\n");
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "head"]);
        let pushed = head(d);
        // Staged: a new file; unstaged: one more line of a.txt; untracked.
        write(d, "b.txt", "x\ny\n");
        git(d, &["add", "b.txt"]);
        write(d, "a.txt", "1\nTWO\n3\n4\n5\n");
        write(d, "c.txt", "new\n");

        let push = OnDemand::new(
            d,
            Base::Commits {
                base: base.clone(),
                head: pushed,
            },
        );
        assert_eq!(
            push.get(),
            Ok(lines(&[
                ("a.txt", &[(2, 2), (4, 4)]),
                ("nul.js", &[(1, 2)])
            ]))
        );
        let staged = OnDemand::new(d, Base::Index);
        assert_eq!(staged.get(), Ok(lines(&[("b.txt", &[(1, 2)])])));
        let since = OnDemand::since(d, &base);
        assert_eq!(
            since.get(),
            Ok(lines(&[
                ("a.txt", &[(2, 2), (4, 5)]),
                ("b.txt", &[(1, 2)]),
                ("c.txt", &[(1, TO_THE_END)]),
                ("nul.js", &[(1, 2)]),
            ]))
        );
        assert_eq!(since.pull_request_base(), None);
        assert_eq!(OnDemand::default().get(), Ok(None));
    }

    /// A pull request checked out as GitHub does (a merge commit onto the
    /// base branch's tip), with its context in each format.
    #[test]
    fn a_pull_requests_lines_come_from_the_base_its_context_names() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        git(d, &["init", "-q", "-b", "main"]);
        write(d, "a.txt", "1\n2\n3\n");
        write(d, "o.txt", "o\n");
        write(d, ".gitignore", "ctx/\n");
        git(d, &["add", "-A"]);
        git(d, &["commit", "-qm", "base"]);
        let fork = head(d);
        git(d, &["checkout", "-qb", "feature"]);
        write(d, "a.txt", "1\n2\n3\nfour\n");
        git(d, &["commit", "-qam", "feature"]);
        git(d, &["checkout", "-q", "main"]);
        write(d, "o.txt", "o\nmain moved on\n");
        git(d, &["commit", "-qam", "main"]);
        let tip = head(d);
        git(d, &["checkout", "-q", "feature"]);
        let pr_head = head(d);
        git(d, &["checkout", "-q", "--detach", "main"]);
        git(d, &["merge", "-q", "--no-ff", "-m", "merge", "feature"]);

        let run = |reports: &[(&str, &str, &str)]| {
            let mut toml = String::new();
            for (name, format, body) in reports {
                write(d, &format!("ctx/{name}.json"), body);
                toml.push_str(&format!(
                    "[reports.{name}]\npath = \"ctx/{name}.json\"\nformat = \"{format}\"\n"
                ));
            }
            toml.push_str("[plugins.lint]\nsource = \"builtin:lint\"\n");
            let policy = crate::policy::Policy::parse(&toml, "p.toml", None).expect("policy");
            let lines = OnDemand::new(d, Base::PullRequest(policy.reports));
            let got = lines.get();
            (got, lines.pull_request_base().map(str::to_string))
        };
        let event = format!(
            r#"{{"action":"opened","pull_request":{{"base":{{"ref":"main","sha":"{tip}"}}}}}}"#
        );
        let (got, about) = run(&[("event", "github-event", &event)]);
        // Only the pull request's line: not main's, which the merge brings.
        assert_eq!(got, Ok(lines(&[("a.txt", &[(4, 4)])])));
        let about = about.expect("named");
        assert!(about.starts_with(&tip[..12]), "{about}");
        assert!(about.contains("report event"), "{about}");
        // The same from `gh pr view --json` and from portcullis's own format,
        // and from an older base (the fork point): through the merge-base.
        let gh = format!(r#"{{"baseRefOid":"{}","number":1}}"#, tip.to_uppercase());
        let own = format!(r#"{{"base":"main","base_sha":"{fork}"}}"#);
        assert_eq!(
            run(&[("gh", "gh-pr", &gh)]).0,
            Ok(lines(&[("a.txt", &[(4, 4)])]))
        );
        assert_eq!(
            run(&[("own", "pr-context", &own)]).0,
            Ok(lines(&[("a.txt", &[(4, 4)]), ("o.txt", &[(2, 2)])]))
        );
        // With the head named too, HEAD is seen to merge it: compared with
        // the base as merged, however old the context's base.
        let own = format!(r#"{{"base":"main","base_sha":"{fork}","head_sha":"{pr_head}"}}"#);
        let (got, about) = run(&[("own", "pr-context", &own)]);
        assert_eq!(got, Ok(lines(&[("a.txt", &[(4, 4)])])));
        assert!(
            about
                .expect("named")
                .contains("HEAD merges the pull request's head")
        );
        // A head that is no commit id is refused like a bad base.
        let own = format!(r#"{{"base_sha":"{fork}","head_sha":"-x"}}"#);
        let err = run(&[("own", "pr-context", &own)]).0.expect_err("bad head");
        assert!(err.contains("head `-x` is not a full commit id"), "{err}");
        // No base named (a deployment): unknown, not an error.
        let deploy = r#"{"deployment":{"environment":"prod","ref":"main","sha":"x"}}"#;
        assert_eq!(run(&[("d", "github-event", deploy)]), (Ok(None), None));

        // A base the shallow clone lacks, a base that is no commit id, and
        // reports that disagree: the run cannot measure, and says why.
        let absent = format!(r#"{{"base_sha":"{}"}}"#, "ab".repeat(20));
        let err = run(&[("pr", "pr-context", &absent)]).0.expect_err("absent");
        assert!(
            err.contains("abababababab (report pr) is not in this clone"),
            "{err}"
        );
        assert!(err.contains("fetch-depth: 0"), "{err}");
        for bad in ["--output=/tmp/x", "HEAD~1", "abc"] {
            let body = format!(r#"{{"base_sha":"{bad}"}}"#);
            let err = run(&[("pr", "pr-context", &body)]).0.expect_err(bad);
            assert!(err.contains("is not a full commit id"), "{err}");
        }
        // Several reports: the event's base first; heads must agree.
        let own = format!(r#"{{"base_sha":"{fork}"}}"#);
        let (got, about) = run(&[
            ("event", "github-event", &event),
            ("own", "pr-context", &own),
        ]);
        assert_eq!(got, Ok(lines(&[("a.txt", &[(4, 4)])])));
        assert!(about.expect("named").contains("report event"));
        let own = format!(
            r#"{{"base_sha":"{fork}","head_sha":"{}"}}"#,
            "ab".repeat(20)
        );
        let gh = format!(r#"{{"baseRefOid":"{tip}","headRefOid":"{pr_head}"}}"#);
        let err = run(&[("gh", "gh-pr", &gh), ("own", "pr-context", &own)])
            .0
            .expect_err("disagree");
        assert!(err.contains("name different pull request heads"), "{err}");
        // Unrelated histories: no merge-base to compare with.
        git(d, &["checkout", "-q", "--orphan", "other"]);
        git(d, &["commit", "-qm", "unrelated"]);
        let (got, _) = run(&[("event", "github-event", &event)]);
        let err = got.expect_err("no common ancestor");
        assert!(err.contains("have no common ancestor"), "{err}");
        let err = run(&[("pr", "pr-context", "{\"base_sha\": ")])
            .0
            .expect_err("json");
        assert!(err.starts_with("report pr (ctx/pr.json:1:"), "{err}");
    }

    fn parse(text: &str) -> Result<Vec<FileLines>, String> {
        let mut p = Parser::default();
        for line in text.lines() {
            p.line(line.as_bytes())?;
        }
        p.finish()
    }

    #[test]
    fn hunks_give_the_new_files_line_ranges() {
        let diff = "diff --git a/src/a.py b/src/a.py\n\
            index 1..2 100644\n\
            --- a/src/a.py\n\
            +++ b/src/a.py\n\
            @@ -3 +3,2 @@ def f():\n\
            -    return 1\n\
            +    x = 1\n\
            +++ not a header: changed text that starts with ++\n\
            @@ -10,0 +12 @@\n\
            +    y\n\
            @@ -20,2 +22,0 @@\n\
            -gone\n\
            -gone\n\
            diff --git a/old.txt b/old.txt\n\
            deleted file mode 100644\n\
            --- a/old.txt\n\
            +++ /dev/null\n\
            @@ -1 +0,0 @@\n\
            -x\n\
            diff --git a/bin b/bin\n\
            Binary files a/bin and b/bin differ\n\
            diff --git a/with space.py b/with space.py\n\
            --- a/with space.py\t\n\
            +++ b/with space.py\t\n\
            @@ -0,0 +1,2 @@\n\
            +a\n\
            +b\n\
            diff --git \"a/we\\\"ird\\303\\251\" \"b/we\\\"ird\\303\\251\"\n\
            --- \"a/we\\\"ird\\303\\251\"\n\
            +++ \"b/we\\\"ird\\303\\251\"\n\
            @@ -1 +1 @@\n\
            -a\n\
            +b\n\
            \\ No newline at end of file\n";
        let files = parse(diff).expect("parsed");
        assert_eq!(
            files,
            vec![
                ("src/a.py".to_string(), vec![(3, 4), (12, 12)]),
                ("with space.py".to_string(), vec![(1, 2)]),
                ("we\"irdé".to_string(), vec![(1, 1)]),
            ]
        );
    }

    #[test]
    fn output_that_is_not_a_diff_is_an_error() {
        assert!(
            parse("+++ b/a\n@@ -1 +1,2 @@\n+x\n").is_err(),
            "ended inside"
        );
        assert!(parse("@@ -1 +1 @@\n").is_err(), "no file");
        assert!(parse("+++ b/a\n@@ garbage @@\n").is_err());
        assert!(parse("+++ \"b/a\\q\"\n").is_err());
        assert!(parse("+++ b/a\n@@ -1 +0,1 @@\n+x\n").is_err(), "line 0");
        assert!(
            parse("+++ b/a\n@@ -1 +4294967295,2 @@\n+x\n+y\n").is_err(),
            "overflow"
        );
    }
}
