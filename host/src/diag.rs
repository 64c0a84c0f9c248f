//! Levels, exit codes and the error type every stage returns.

use std::fmt;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// Severity, with SARIF's words. Ordered: note < warning < error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The process exit codes, one meaning each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// The gate passed.
    Pass = 0,
    /// The gate failed: findings at or above `fail-at`.
    Fail = 1,
    /// The gate could not be evaluated: bad input or a plugin failure.
    Error = 2,
}

/// Why a check could not be evaluated. Each variant renders as one line
/// naming what is wrong and where.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: {}", flat(.path), flat(.message))]
    Policy { path: String, message: String },
    /// Every problem found in a policy (and the files it extends), one
    /// line each.
    #[error("{}", render_all(.0))]
    Invalid(Vec<Diagnostic>),
    #[error("plugin {}: {}", flat(.plugin), flat(.message))]
    Plugin { plugin: String, message: String },
    #[error("evidence {}: {}", flat(.what), flat(.message))]
    Evidence { what: String, message: String },
    #[error("{}: {}", flat(&.path.display().to_string()), flat(.message))]
    Io { path: PathBuf, message: String },
    #[error("{}", flat(.0))]
    Usage(String),
    /// The wasm engine could not be set up (not the user's input).
    #[error("engine: {}", flat(.0))]
    Engine(String),
}

impl Error {
    pub fn plugin(plugin: &str, message: impl Into<String>) -> Self {
        Error::Plugin {
            plugin: plugin.to_string(),
            message: message.into(),
        }
    }

    pub fn io(path: impl Into<PathBuf>, err: impl fmt::Display) -> Self {
        Error::Io {
            path: path.into(),
            message: err.to_string(),
        }
    }
}

/// `message` without the ` (os error N)` Rust appends to an I/O error: the
/// number (a WASI errno inside a plugin, the host's own errno outside)
/// means nothing to the reader next to the words before it.
pub fn without_errno(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(" (os error ") {
        let tail = &rest[at + " (os error ".len()..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && tail[digits..].starts_with(')') {
            out.push_str(&rest[..at]);
            rest = &tail[digits + 1..];
        } else {
            out.push_str(&rest[..at + 1]);
            rest = &rest[at + 1..];
        }
    }
    out.push_str(rest);
    out
}

/// Collapse to one printable line of at most `max` characters (control
/// characters, including terminal escapes, become spaces).
pub fn one_line(s: &str, max: usize) -> String {
    let cleaned: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    if cleaned.chars().count() > max {
        let mut t: String = cleaned.chars().take(max).collect();
        t.push('…');
        t
    } else {
        cleaned
    }
}

/// `s` on one line, as every problem is reported: a control character (a
/// newline in a key or a file name the input gave) is shown escaped.
pub fn flat(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

fn render_all(list: &[Diagnostic]) -> String {
    list.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// One policy file's name (as messages show it) and text.
#[derive(Debug)]
pub struct File {
    pub name: String,
    pub text: String,
    /// Where each line starts, found once when a place is first asked for:
    /// a policy with thousands of entries asks for thousands of lines.
    line_starts: std::sync::OnceLock<Vec<usize>>,
}

impl File {
    pub fn new(name: &str, text: &str) -> File {
        File {
            name: name.to_string(),
            text: text.to_string(),
            line_starts: Default::default(),
        }
    }

    /// 1-based line and column (in characters) of byte `offset`, in time
    /// logarithmic in the file's length (and linear in the line's).
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let starts = self.line_starts.get_or_init(|| {
            let breaks = self.text.match_indices('\n').map(|(at, _)| at + 1);
            std::iter::once(0).chain(breaks).collect()
        });
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = starts.partition_point(|&start| start <= offset);
        let start = starts[line - 1];
        (line, self.text[start..offset].chars().count() + 1)
    }
}

/// A place in a policy file.
#[derive(Clone)]
pub struct At {
    file: Arc<File>,
    span: Range<usize>,
}

impl At {
    pub fn new(file: &Arc<File>, span: Range<usize>) -> At {
        At {
            file: file.clone(),
            span,
        }
    }

    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// 1-based line and column.
    pub fn line_col(&self) -> (usize, usize) {
        self.file.line_col(self.span.start)
    }

    pub fn line(&self) -> usize {
        self.line_col().0
    }

    pub fn file_name(&self) -> &str {
        &self.file.name
    }

    /// `file:line`.
    pub fn file_line(&self) -> String {
        format!("{}:{}", self.file.name, self.line())
    }
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (l, c) = self.line_col();
        write!(f, "{}:{l}:{c}", self.file.name)
    }
}

impl fmt::Debug for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// One problem with a policy: where (a place, or the whole file) and what.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub at: Option<At>,
    /// The file, for problems with no place.
    pub file: String,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.at {
            Some(at) => write!(f, "{}: {}", flat(&at.to_string()), flat(&self.message)),
            None => write!(f, "{}: {}", flat(&self.file), flat(&self.message)),
        }
    }
}

#[cfg(test)]
mod flat_tests {
    /// A newline a baseline's key held (`unknown field `fingerpr\nt``) stays
    /// on the problem's one line.
    #[test]
    fn every_problem_renders_on_one_line() {
        let e = super::Error::Policy {
            path: "b.json:14:19".into(),
            message: "unknown field `fingerpr\nt`".into(),
        };
        assert_eq!(e.to_string(), "b.json:14:19: unknown field `fingerpr\\nt`");
        let e = super::Error::io("a\nb", "gone\r\u{1b}[2J");
        assert_eq!(e.to_string().lines().count(), 1, "{e}");
        assert_eq!(super::flat("plain"), "plain");
    }
}

#[cfg(test)]
mod errno_tests {
    #[test]
    fn wasi_errno_numbers_are_dropped_and_nothing_else() {
        assert_eq!(
            super::without_errno("a.json: cannot read: No such file or directory (os error 44)"),
            "a.json: cannot read: No such file or directory"
        );
        assert_eq!(
            super::without_errno("x (os error 2) y (os error 63)"),
            "x y"
        );
        assert_eq!(super::without_errno("(os error x) ok"), "(os error x) ok");
        assert_eq!(super::without_errno(" (os error "), " (os error ");
    }
}
