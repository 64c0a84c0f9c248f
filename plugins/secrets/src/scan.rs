//! Scan a buffer for secrets.
//!
//! One Aho-Corasick pass over the bytes finds keyword hits; only the lines
//! holding a hit are given to the regexes of the detectors whose keywords
//! occur there. Most files hold no keyword and cost one pass. The generic
//! rule also reads below such a line: the rows of a Markdown table headed
//! there, the value of a YAML block scalar opened there.

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};
use memchr::{memchr, memrchr};
use portcullis_sdk::RuleDecl;
use regex::bytes::{Regex, RegexSet};

use crate::config::Allow;
use crate::decoy;
use crate::detectors::{Check, DETECTORS};
use crate::generic::{self, Kind, SHAPES};
use crate::private_key::{self, PRIVATE_KEY};
use crate::rules::{GENERIC_SECRET, URL_CREDENTIALS};

/// A secret found in a buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub rule: &'static RuleDecl,
    /// Byte span of the secret in the buffer.
    pub start: usize,
    pub end: usize,
    /// What to show instead of the secret.
    pub redacted: String,
    pub what: &'static str,
}

pub struct Scanner {
    /// The token rules' prefixes, the private-key headers and the generic
    /// rule's words.
    keywords: AhoCorasick,
    /// The automaton's literals, for the exact-case test of token prefixes.
    literals: Vec<String>,
    /// Keyword pattern index → detector index.
    keyword_detector: Vec<usize>,
    /// Compiled on first use: most files and most runs need few of them.
    regexes: Vec<std::sync::OnceLock<Regex>>,
    /// The generic rule's shapes, compiled on first use.
    shapes: Vec<std::sync::OnceLock<Regex>>,
    /// All the shapes at once: one pass tells which shapes a line holds, so
    /// the slower capturing search runs only for those.
    shape_set: std::sync::OnceLock<RegexSet>,
    entropy: f64,
}

/// The keyword bit of the generic rule's names (after the detectors').
const GENERIC: usize = DETECTORS.len();

/// The keyword index of the private-key headers.
const PRIVATE: usize = usize::MAX;

/// At most this many generic findings on one line: a line holding more is a
/// data blob, already failing the gate, and the cap keeps each value's
/// checks against the line's earlier findings short.
const MAX_GENERIC_PER_LINE: usize = 64;

/// What the scan of one buffer carries from line to line.
struct Pass<'a> {
    buf: &'a [u8],
    code: bool,
    allow: &'a Allow,
    hits: Vec<Hit>,
    /// Where the last Markdown table read by its header row ends: its rows
    /// are not read again as headers.
    table_end: usize,
}

/// The inline marker that allows a line.
pub const ALLOW_MARKER: &[u8] = b"portcullis:allow";

/// Other scanners' inline markers, honoured so a repository moving from them
/// keeps its allowed lines: detect-secrets and gitleaks.
pub const FOREIGN_MARKERS: &[&[u8]] = &[b"pragma: allowlist secret", b"gitleaks:allow"];

impl Scanner {
    pub fn new(entropy: f64) -> Result<Scanner, String> {
        let mut literals = Vec::new();
        let mut keyword_detector = Vec::new();
        let mut regexes = Vec::new();
        for (i, d) in DETECTORS.iter().enumerate() {
            for k in d.keywords {
                literals.push((*k).to_string());
                keyword_detector.push(i);
            }
            regexes.push(std::sync::OnceLock::new());
        }
        for k in private_key::KEYWORDS {
            literals.push((*k).to_string());
            keyword_detector.push(PRIVATE);
        }
        for k in generic::KEYWORDS {
            literals.push((*k).to_string());
            keyword_detector.push(GENERIC);
        }
        // One automaton in any case: the generic rule's names are written
        // in every case (`apiKey`, `API_Key`, `X-API-KEY`), and a token
        // prefix's hit counts only when its case is exact. A DFA (a few
        // hundred KB, built in under a millisecond): the default for this
        // many literals is an NFA that searches 2.5 times slower.
        let keywords = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&literals)
            .map_err(|e| format!("internal error: keywords: {e}"))?;
        Ok(Scanner {
            keywords,
            literals,
            keyword_detector,
            regexes,
            shapes: SHAPES.iter().map(|_| std::sync::OnceLock::new()).collect(),
            shape_set: std::sync::OnceLock::new(),
            entropy,
        })
    }

    /// Every secret in `buf` (a whole text file or a chunk of whole lines),
    /// in order. `code` says whether the file is source code, where the
    /// generic rule only takes quoted values.
    pub fn scan(&self, buf: &[u8], code: bool, allow: &Allow) -> Vec<Hit> {
        let mut pass = Pass {
            buf,
            code,
            allow,
            hits: Vec::new(),
            table_end: 0,
        };
        let mut line: Option<(usize, usize, u64)> = None;
        let mut private_keys = false;
        for m in self.keywords.find_overlapping_iter(buf) {
            let k = m.pattern().as_usize();
            let d = self.keyword_detector[k];
            // Token prefixes and key headers are case-sensitive.
            if d != GENERIC && &buf[m.start()..m.end()] != self.literals[k].as_bytes() {
                continue;
            }
            if d == PRIVATE {
                private_keys = true;
                continue;
            }
            let pos = m.start();
            match &mut line {
                Some((start, end, mask)) if pos >= *start && pos < *end => *mask |= 1 << d,
                _ => {
                    if let Some((s, e, mask)) = line.take() {
                        self.scan_line(&mut pass, s, e, mask);
                    }
                    let s = memrchr(b'\n', &buf[..pos]).map_or(0, |i| i + 1);
                    let e = memchr(b'\n', &buf[pos..]).map_or(buf.len(), |i| pos + i);
                    line = Some((s, e, 1 << d));
                }
            }
        }
        if let Some((s, e, mask)) = line {
            self.scan_line(&mut pass, s, e, mask);
        }
        let mut hits = pass.hits;
        if private_keys {
            for (start, end, kind) in private_key::find(buf) {
                let line_start = memrchr(b'\n', &buf[..start]).map_or(0, |i| i + 1);
                let line_end = memchr(b'\n', &buf[start..]).map_or(buf.len(), |i| start + i);
                if allow.line_allows(&buf[line_start..line_end], PRIVATE_KEY.id()) {
                    continue;
                }
                hits.push(Hit {
                    rule: &PRIVATE_KEY,
                    start,
                    end,
                    redacted: format!("-----BEGIN {kind}-----…"),
                    what: "private key",
                });
            }
        }
        // Detectors report in their order, and a block scalar's or a
        // table's values lie below the line that found them: findings are
        // reported in the file's order, each span once.
        hits.sort_by_key(|h| h.start);
        hits.dedup_by(|a, b| a.start == b.start && a.end == b.end);
        hits
    }

    fn regex(&self, i: usize) -> &Regex {
        self.regexes[i].get_or_init(|| {
            // The patterns are constants; a test compiles every one.
            Regex::new(&format!("(?-u){}", DETECTORS[i].pattern)).expect("detector pattern")
        })
    }

    fn shape_set(&self) -> &RegexSet {
        self.shape_set.get_or_init(|| {
            RegexSet::new(SHAPES.iter().map(|s| format!("(?-u){}", s.pattern)))
                .expect("generic shapes")
        })
    }

    fn shape(&self, i: usize) -> &Regex {
        self.shapes[i].get_or_init(|| {
            // The patterns are constants; a test compiles every one.
            Regex::new(&format!("(?-u){}", SHAPES[i].pattern)).expect("generic shape")
        })
    }

    /// The findings on the line `buf[start..end]`, whose keywords gave
    /// `mask`.
    fn scan_line(&self, pass: &mut Pass, start: usize, end: usize, mask: u64) {
        let buf = pass.buf;
        let line = &buf[start..end];
        let first = pass.hits.len();
        for (i, d) in DETECTORS.iter().enumerate() {
            if mask & (1 << i) == 0 {
                continue;
            }
            for caps in self.regex(i).captures_iter(line) {
                let Some(s) = caps.name("s") else { continue };
                let value = s.as_bytes();
                let ok = match d.check {
                    Check::Token => token_ok(value),
                    Check::Jwt => jwt_ok(value),
                    Check::UrlCredentials => url_ok(
                        caps.name("user").map_or(&b""[..], |m| m.as_bytes()),
                        value,
                        caps.name("host").map_or(&b""[..], |m| m.as_bytes()),
                    ),
                };
                // A URL's password may be a placeholder while the line
                // still holds a real token: only real matches count.
                if !ok || pass.allow.value_allowed(value) {
                    continue;
                }
                pass.hits.push(Hit {
                    rule: d.rule,
                    start: start + s.start(),
                    end: start + s.end(),
                    redacted: redact(value, d.rule.id() == URL_CREDENTIALS.id()),
                    what: d.what,
                });
            }
        }
        // The generic rule skips the values a token rule reported (found
        // before it, so its overlap test sees them, allowed or not).
        if mask & (1 << GENERIC) != 0 {
            self.scan_generic(pass, start, end, first);
        }
        // The inline marker allows what it names on its own line; other
        // scanners' markers allow the whole line. Values found below this
        // line were judged by their own line's markers.
        let on_line = |h: &Hit| h.start >= start && h.start < end;
        let foreign = FOREIGN_MARKERS
            .iter()
            .any(|m| memchr::memmem::find(line, m).is_some());
        let ours = memchr::memmem::find(line, ALLOW_MARKER).is_some();
        if foreign || ours {
            let tail = pass.hits.split_off(first);
            pass.hits.extend(tail.into_iter().filter(|h| {
                !(on_line(h) && (foreign || pass.allow.line_allows(line, h.rule.id())))
            }));
        }
    }

    /// The generic rule's findings on the line `buf[start..end]`: a table
    /// headed here is read by its column, then every shape the line holds is
    /// tried. A value already reported on the line is not reported again.
    fn scan_generic(&self, pass: &mut Pass, start: usize, end: usize, first: usize) {
        let buf = pass.buf;
        let line = &buf[start..end];
        if start >= pass.table_end && line.trim_ascii_start().starts_with(b"|") {
            let (spans, table_end) = generic::table_column(buf, start, end);
            pass.table_end = table_end;
            for (from, to, password) in spans {
                self.push_generic(pass, from, to, password, (start, end), first);
            }
        }
        // The cap counts the line's own shapes, not a table's rows (at most
        // 1 000, read once).
        let shapes_first = pass.hits.len();
        let matched = self.shape_set().matches(line);
        for (k, shape) in SHAPES.iter().enumerate() {
            if !matched.matched(k) {
                continue;
            }
            for caps in self.shape(k).captures_iter(line) {
                if pass.hits.len() - shapes_first >= MAX_GENERIC_PER_LINE {
                    return;
                }
                let name = caps.name("name");
                if name.is_some_and(|n| !generic::secret_name(n.as_bytes())) {
                    continue;
                }
                // `?token=…&x=1` is a query parameter, whose value ends at
                // `&`: the query shape reads it.
                if shape.kind == Kind::Assign
                    && name.is_some_and(|n| {
                        let before = &line[..n.start()];
                        before.ends_with(b"?")
                            || before.ends_with(b"&")
                            || before.ends_with(b"&amp;")
                    })
                {
                    continue;
                }
                let quoted = ["dq", "sq", "bt"].iter().find_map(|g| caps.name(g));
                let (from, to) = if shape.kind == Kind::Block {
                    // A block's content cannot hold a comment: its header's
                    // marker is the one that allows it.
                    if allows_generic(pass.allow, line) {
                        continue;
                    }
                    match generic::block_value(buf, start, end) {
                        Some(span) => span,
                        None => continue,
                    }
                } else if let Some(v) = quoted {
                    (start + v.start(), start + v.end())
                } else if let Some(v) = caps.name("bare").or(caps.name("bearer")) {
                    if pass.code && !shape.bare_ok {
                        continue;
                    }
                    (start + v.start(), start + v.end())
                } else {
                    continue;
                };
                let basic = caps
                    .name("scheme")
                    .or(caps.name("scheme2"))
                    .is_some_and(|s| s.as_bytes().eq_ignore_ascii_case(b"basic"));
                if basic {
                    if generic::basic_ok(&buf[from..to]) {
                        self.push_value(pass, from, to, (start, end), first);
                    }
                    continue;
                }
                let password = name.is_some_and(|n| generic::password_name(n.as_bytes()));
                if !generic::value_ok(&buf[from..to], self.entropy, password) {
                    continue;
                }
                // A badge image's URL carries a public token
                // (`badge.svg?token=…`); asked only of a value that would
                // count, so a line of many `&token=` costs no look-backs.
                if shape.kind == Kind::Query
                    && name.is_some_and(|n| n.as_bytes().eq_ignore_ascii_case(b"token"))
                    && in_image_url(line, caps.get(0).map_or(0, |m| m.start()))
                {
                    continue;
                }
                self.push_value(pass, from, to, (start, end), first);
            }
        }
    }

    /// Report `buf[from..to]` when it looks like a credential.
    fn push_generic(
        &self,
        pass: &mut Pass,
        from: usize,
        to: usize,
        password: bool,
        line: (usize, usize),
        first: usize,
    ) {
        if generic::value_ok(&pass.buf[from..to], self.entropy, password) {
            self.push_value(pass, from, to, line, first);
        }
    }

    /// Report `buf[from..to]` unless allowed or already reported. A value
    /// below the scanned `line` (a block scalar's, a table column's) is
    /// allowed by a marker on its own line, and left to a token rule that
    /// recognises it (which reports it from its own line).
    fn push_value(
        &self,
        pass: &mut Pass,
        from: usize,
        to: usize,
        line: (usize, usize),
        first: usize,
    ) {
        let buf = pass.buf;
        let value = &buf[from..to];
        if pass.allow.value_allowed(value)
            || pass.hits[first..]
                .iter()
                .any(|h| h.start < to && from < h.end)
        {
            return;
        }
        if from < line.0 || from >= line.1 {
            let own_start = memrchr(b'\n', &buf[..from]).map_or(0, |i| i + 1);
            let own_end = memchr(b'\n', &buf[to..]).map_or(buf.len(), |i| to + i);
            let own = &buf[own_start..own_end];
            if allows_generic(pass.allow, own)
                || (0..DETECTORS.len()).any(|i| self.regex(i).is_match(value))
            {
                return;
            }
        }
        pass.hits.push(Hit {
            rule: &GENERIC_SECRET,
            start: from,
            end: to,
            redacted: redact(value, true),
            what: "secret-looking value given to a secret's name",
        });
    }
}

/// Whether `line` bears a marker allowing the generic rule's findings on it:
/// ours naming the rule (or none), or another scanner's.
fn allows_generic(allow: &Allow, line: &[u8]) -> bool {
    FOREIGN_MARKERS
        .iter()
        .any(|m| memchr::memmem::find(line, m).is_some())
        || allow.line_allows(line, GENERIC_SECRET.id())
}

/// Whether the URL whose query starts at `at` in `line` is an image's
/// (`…/badge.svg?token=…`). Looks back at most 2 KiB.
fn in_image_url(line: &[u8], at: usize) -> bool {
    let window = &line[at.saturating_sub(2048)..at];
    let from = window
        .iter()
        .rposition(|b| b.is_ascii_whitespace() || b"\"'`(<[".contains(b))
        .map_or(0, |i| i + 1);
    let path = &window[from..];
    [&b".svg"[..], b".png", b".gif"]
        .iter()
        .any(|e| path.len() >= e.len() && path[path.len() - e.len()..].eq_ignore_ascii_case(e))
}

/// Show a short prefix only: `ghp_Ab12…`. Passwords show two characters.
pub fn redact(value: &[u8], password: bool) -> String {
    let keep = if password {
        2
    } else {
        (value.len() / 3).min(8)
    };
    let prefix: String = value[..keep.min(value.len())]
        .iter()
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '?' })
        .collect();
    format!("{prefix}…")
}

fn token_ok(v: &[u8]) -> bool {
    !decoy::is_placeholder(v) && decoy::entropy(v) >= 3.0
}

fn jwt_ok(v: &[u8]) -> bool {
    if decoy::is_placeholder(v) {
        return false;
    }
    let header = v.split(|b| *b == b'.').next().unwrap_or_default();
    decoy::base64_decode(header)
        .is_some_and(|h| h.starts_with(b"{") && memchr::memmem::find(&h, b"\"alg\"").is_some())
}

fn url_ok(user: &[u8], password: &[u8], host: &[u8]) -> bool {
    if user.len() > 64 || password.len() > 128 {
        return false;
    }
    let host = host.to_ascii_lowercase();
    let host = host.split(|b| *b == b':').next().unwrap_or_default();
    // `USERNAME:TOKEN@`, `USER:PASSWORD@`: a name in capitals stands for
    // the value.
    let placeholder_word = |v: &[u8]| {
        v.len() <= 24
            && v.iter().any(u8::is_ascii_uppercase)
            && v.iter()
                .all(|b| b.is_ascii_uppercase() || *b == b'_' || *b == b'-')
    };
    let local = [
        &b"localhost"[..],
        b"127.0.0.1",
        b"0.0.0.0",
        b"[",
        b"example.com",
        b"example.org",
        b"example.net",
        b"host.docker.internal",
    ]
    .iter()
    .any(|h| host.starts_with(h))
        || [&b".example.com"[..], b".example.org", b".example.net"]
            .iter()
            .any(|h| host.ends_with(h))
        || [
            &b"host"[..],
            b"hostname",
            b"hostspec",
            b"somehost",
            b"server",
            b"domain",
            b"myhost",
            b"yourhost",
        ]
        .contains(&host.split(|b| *b == b'.').next().unwrap_or_default())
        || host.ends_with(b".example")
        || host.ends_with(b".test")
        || host.ends_with(b".invalid")
        || host.ends_with(b".localhost");
    !local
        && !decoy::is_weak_password(password)
        && !placeholder_word(password)
        && password != user
        && !password.starts_with(b"%")
        && !password.starts_with(b"{")
        && !password
            .iter()
            .all(|b| *b == b'*' || *b == b'x' || *b == b'X')
        && !decoy::is_placeholder(password)
        && !decoy::is_placeholder(user)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_detector_pattern_compiles() {
        let scanner = Scanner::new(3.5).expect("scanner");
        for i in 0..DETECTORS.len() {
            scanner.regex(i);
        }
    }

    #[test]
    fn redaction_never_shows_most_of_a_secret() {
        assert_eq!(
            redact(b"ghp_R4nd0mT0k3nV4lu3Qx9Lz2Wp7Ks5Hd8Jf1Mc3", false),
            "ghp_R4nd…"
        );
        assert_eq!(redact(b"AKIA2E0A8F3B244C9986", false), "AKIA2E…");
        assert_eq!(redact(b"hunter2hunter2", true), "hu…");
    }
}
