//! Neutralising the strings plugins give (messages, paths, rule names,
//! failure texts) for the output they reach. Plugin output is untrusted:
//! it must not move a terminal's cursor, reorder what a reviewer reads,
//! hide text, add markdown structure to a job summary, or break XML.
//!
//! - [`visible`]: control characters (other than newline and tab), bidi
//!   controls, zero-width and other invisible format characters, and line
//!   and paragraph separators are shown as `\u{…}` escapes. Used by every
//!   text output: the terminal, workflow commands, markdown.
//! - [`markdown`]: on top of that, every ASCII punctuation character is
//!   backslash-escaped, so text cannot open a heading, list, link, image,
//!   HTML tag, code span or table cell, and `www.`/`http:` cannot become
//!   an autolink; newlines become spaces.
//!
//! XML has its own escaping ([`super::junit::xml`]); SARIF and JSON are
//! escaped by their serialisers, and plugin text reaches them only as
//! string values.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters that change how text around them is shown without showing
/// themselves: Unicode's format characters (bidi embeddings, overrides and
/// isolates, zero-width space/joiners, word joiner, BOM, invisible
/// operators, interlinear annotations, tags), the soft hyphen, the
/// Mongolian vowel separator, line and paragraph separators, and the
/// noncharacters U+FFFE and U+FFFF.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{ad}'
        | '\u{600}'..='\u{605}'
        | '\u{61c}'
        | '\u{6dd}'
        | '\u{70f}'
        | '\u{180e}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{feff}'
        | '\u{fff9}'..='\u{fffb}'
        | '\u{fffe}'..='\u{ffff}'
        | '\u{110bd}'
        | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0000}'..='\u{e007f}')
}

fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_invisible(c)
}

/// `s` with every control (but newline and tab) and invisible character
/// shown as a `\u{…}` escape.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if needs_escape(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `s` as literal text in markdown (GitHub-flavoured, including inside a
/// table cell): one line, every ASCII punctuation character escaped.
pub fn markdown(s: &str) -> String {
    let s = visible(s);
    let mut out = String::with_capacity(s.len() + s.len() / 4);
    for c in s.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_and_control_characters_are_shown() {
        assert_eq!(
            visible("plain ✓ text\nnext\tcol"),
            "plain ✓ text\nnext\tcol"
        );
        assert_eq!(
            visible("a\u{1b}[2Jb\u{202e}c\u{200b}d\u{feff}"),
            "a\\u{1b}[2Jb\\u{202e}c\\u{200b}d\\u{feff}"
        );
        assert_eq!(visible("\r"), "\\u{d}");
    }

    #[test]
    fn markdown_is_literal() {
        assert_eq!(markdown("## h\n[x](y)"), "\\#\\# h \\[x\\]\\(y\\)");
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(markdown("\u{202e}"), "\\\\u\\{202e\\}");
    }
}
