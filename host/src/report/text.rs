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
/// operators, interlinear annotations, Egyptian hieroglyph format
/// controls, shorthand format controls, tags), the default-ignorable
/// fillers and selectors (soft hyphen, combining grapheme joiner, Hangul
/// fillers, Khmer inherent vowels, Mongolian free variation selectors and
/// vowel separator, variation selectors), line and paragraph separators,
/// and the noncharacters U+FFFE and U+FFFF.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{ad}'
        | '\u{34f}'
        | '\u{600}'..='\u{605}'
        | '\u{61c}'
        | '\u{6dd}'
        | '\u{70f}'
        | '\u{890}'..='\u{891}'
        | '\u{8e2}'
        | '\u{115f}'..='\u{1160}'
        | '\u{17b4}'..='\u{17b5}'
        | '\u{180b}'..='\u{180f}'
        | '\u{200b}'..='\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2060}'..='\u{206f}'
        | '\u{3164}'
        | '\u{fe00}'..='\u{fe0f}'
        | '\u{feff}'
        | '\u{ffa0}'
        | '\u{fff0}'..='\u{fffb}'
        | '\u{fffe}'..='\u{ffff}'
        | '\u{110bd}'
        | '\u{110cd}'
        | '\u{13430}'..='\u{1343f}'
        | '\u{1bca0}'..='\u{1bca3}'
        | '\u{1d173}'..='\u{1d17a}'
        | '\u{e0000}'..='\u{e0fff}')
}

pub(crate) fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t') || is_invisible(c)
}

/// `s` with every control (but newline and tab) and invisible character
/// shown as a `\u{…}` escape, and nothing a CI runner reads as a command:
/// GitHub Actions obeys `::cmd::` at the start of a line and the legacy
/// `##[cmd]` anywhere in one, on stdout and stderr alike, so the `:` or
/// `[` that would make one is escaped too.
pub fn visible(s: &str) -> Cow<'_, str> {
    let commands = s.contains("##[") || s.split('\n').any(|l| l.trim_start().starts_with("::"));
    if !commands && !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for (i, line) in s.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        // Leading white space a runner may skip (control characters among
        // it are escaped below, with the rest).
        let body = line.trim_start_matches(|c: char| c.is_whitespace() && !needs_escape(c));
        out.push_str(&line[..line.len() - body.len()]);
        let body = match body.strip_prefix(':') {
            Some(rest) if rest.starts_with(':') => {
                out.push_str("\\u{3a}");
                rest
            }
            _ => body,
        };
        let mut hashes = 0;
        for c in body.chars() {
            if needs_escape(c) {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            } else if c == '[' && hashes >= 2 {
                out.push_str("\\u{5b}");
            } else {
                out.push(c);
            }
            hashes = if c == '#' { hashes + 1 } else { 0 };
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
        assert_eq!(visible("a\u{3164}b\u{fe0f}"), "a\\u{3164}b\\u{fe0f}");
    }

    #[test]
    fn runner_commands_are_defused() {
        assert_eq!(visible("x ##[add-mask]y"), "x ##\\u{5b}add-mask]y");
        assert_eq!(
            visible("ok\n  ::stop-commands::t"),
            "ok\n  \\u{3a}:stop-commands::t"
        );
        assert_eq!(visible("a::b #[x] # [y]"), "a::b #[x] # [y]");
    }

    #[test]
    fn markdown_is_literal() {
        assert_eq!(markdown("## h\n[x](y)"), "\\#\\# h \\[x\\]\\(y\\)");
        assert_eq!(markdown("a|b"), "a\\|b");
        assert_eq!(markdown("\u{202e}"), "\\\\u\\{202e\\}");
    }
}
