//! The lines a change adds or modifies, for plugins that ask while they
//! run (the contract's `changed-lines`): coverage on new code, annotations
//! on the diff. Asked only by the plugins that need it, and at most once
//! per run: `git diff -U0 REV` read as it streams (only the file headers
//! and hunk headers are kept, never the changed text), plus the files git
//! does not track yet, which are new from their first line.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::git;

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

/// Computed on first ask, for the run's change base (none: every file
/// counts, and the answer is `Ok(None)`).
#[derive(Debug, Default)]
pub struct OnDemand {
    base: Option<(PathBuf, String)>,
    answer: OnceLock<Answer>,
}

impl OnDemand {
    /// Lines changed in the work tree at `root` since `rev`
    /// (`--changed-since`).
    pub fn since(root: &Path, rev: &str) -> OnDemand {
        OnDemand {
            base: Some((root.to_path_buf(), rev.to_string())),
            answer: OnceLock::new(),
        }
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
            Some((root, rev)) => self
                .answer
                .get_or_init(|| compute(root, rev).map(Some))
                .clone(),
        }
    }
}

fn compute(root: &Path, rev: &str) -> Result<Vec<FileLines>, String> {
    let attrs = format!(
        "--attr-source={}",
        git::empty_tree(root, rev).map_err(|e| e.to_string())?
    );
    let mut parser = Parser::default();
    let ran = crate::process::for_each_line(
        git::command(root).args([
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
            "--no-color",
            "--no-ext-diff",
            "--no-textconv",
            "--relative",
            "--find-renames",
            "--diff-filter=d",
            "--src-prefix=a/",
            "--dst-prefix=b/",
            "--end-of-options",
            rev,
            "--",
        ]),
        "git diff",
        git::TIMEOUT,
        MAX_HEADER,
        |line| parser.line(line),
    )
    .map_err(|e| format!("git diff -U0 {rev}: {e}"))?;
    let (status, stderr) = ran.map_err(|e| format!("git diff -U0 {rev}: {e}"))?;
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        return Err(format!(
            "git diff -U0 {rev}: {}",
            stderr.lines().next().unwrap_or("git failed")
        ));
    }
    let mut files = parser.finish()?;
    for path in git::untracked(root, &attrs, rev).map_err(|e| e.to_string())? {
        files.push((path, vec![(1, TO_THE_END)]));
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
    use super::*;

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
