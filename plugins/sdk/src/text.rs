//! Text helpers shared by plugins.

use std::path::{Component, Path};

/// Make `path` relative to `root` with `/` separators. Accepts relative
/// paths (`./` stripped) and absolute paths or `file://` URIs under `root`.
/// Returns `None` for paths that leave the repository.
pub fn repo_relative(root: &Path, path: &str) -> Option<String> {
    let path = path
        .strip_prefix("file://")
        .unwrap_or(path)
        .replace('\\', "/");
    // `C:/…` (or `/C:/…` from a `file:///C:/` URI) is a Windows absolute
    // path: under the root only when it starts with it, never relative.
    let windows = |p: &str| {
        let b = p.as_bytes();
        b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/'
    };
    let path = match path.strip_prefix('/') {
        Some(rest) if windows(rest) => rest.to_string(),
        _ => path,
    };
    if windows(&path) {
        let root = root.to_string_lossy().replace('\\', "/");
        let rest = path
            .strip_prefix(root.trim_end_matches('/'))?
            .strip_prefix('/')?;
        return repo_relative(Path::new(""), rest);
    }
    let p = Path::new(&path);
    let rel = if p.is_absolute() {
        p.strip_prefix(root).ok()?
    } else {
        p
    };
    let mut parts: Vec<String> = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    if parts.is_empty() {
        None
    } else {
        Some(parts.join("/"))
    }
}

/// A parser's message on one line: its lines trimmed and joined with `; `
/// (the toml crate's messages span lines: what was found, then what was
/// expected), since a plugin's error is one line.
pub fn one_line(message: &str) -> String {
    let lines: Vec<&str> = message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines.join("; ")
}

/// `text` with each control character written as its escape (`\n`,
/// `\u{1b}`): for a value from the input (a JSON key, a name) quoted in an
/// error, which must stay one line and must not reach a terminal raw.
pub fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// 1-based line and column (in characters) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|b| *b == b'\n')
        .map_or(0, |i| i + 1);
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line as u32, col as u32)
}

/// Whether the first 8 KiB of `bytes` look binary (contain a NUL byte), as git decides.
pub fn looks_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8192)].contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let root = Path::new("/work/repo");
        assert_eq!(repo_relative(root, "src/a.rs").as_deref(), Some("src/a.rs"));
        assert_eq!(
            repo_relative(root, "./src/a.rs").as_deref(),
            Some("src/a.rs")
        );
        assert_eq!(
            repo_relative(root, "/work/repo/src/a.rs").as_deref(),
            Some("src/a.rs")
        );
        assert_eq!(
            repo_relative(root, "file:///work/repo/x.py").as_deref(),
            Some("x.py")
        );
        assert_eq!(
            repo_relative(root, "src\\win.rs").as_deref(),
            Some("src/win.rs")
        );
        assert_eq!(repo_relative(root, "/etc/passwd"), None);
        assert_eq!(repo_relative(root, "../outside"), None);
        // Windows absolute paths are never taken for relative ones.
        assert_eq!(repo_relative(root, "C:\\a\\repo\\x.rs"), None);
        assert_eq!(repo_relative(root, "file:///C:/a/repo/x.rs"), None);
        let windows = Path::new("C:\\a\\repo");
        assert_eq!(
            repo_relative(windows, "C:\\a\\repo\\src\\x.rs").as_deref(),
            Some("src/x.rs")
        );
        assert_eq!(
            repo_relative(windows, "file:///C:/a/repo/x.rs").as_deref(),
            Some("x.rs")
        );
    }

    #[test]
    fn line_and_column() {
        let t = "ab\ncdé\nf";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 3), (2, 1));
        assert_eq!(line_col(t, "ab\ncdé".len()), (2, 4));
        assert_eq!(line_col(t, t.len()), (3, 2));
    }
}
