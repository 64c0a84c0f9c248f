//! Scan a buffer for secrets.
//!
//! One Aho-Corasick pass over the bytes finds keyword hits; only the lines
//! holding a hit are given to the regexes of the detectors whose keywords
//! occur there. Most files hold no keyword and cost one pass.

use aho_corasick::{AhoCorasick, MatchKind};
use memchr::{memchr, memrchr};
use portcullis_sdk::RuleDecl;
use regex::bytes::Regex;

use crate::config::Allow;
use crate::decoy;
use crate::detectors::{Check, DETECTORS, keyword_variants};
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
    keywords: AhoCorasick,
    /// Keyword pattern index → detector index.
    keyword_detector: Vec<usize>,
    /// Compiled on first use: most files and most runs need few of them.
    regexes: Vec<std::sync::OnceLock<Regex>>,
    generic: usize,
    entropy: f64,
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
        let mut generic = 0;
        for (i, d) in DETECTORS.iter().enumerate() {
            if d.rule.id() == GENERIC_SECRET.id() {
                generic = i;
            }
            for k in d.keywords {
                let forms = if d.check == Check::Generic {
                    keyword_variants(k)
                } else {
                    vec![(*k).to_string()]
                };
                for form in forms {
                    literals.push(form);
                    keyword_detector.push(i);
                }
            }
            regexes.push(std::sync::OnceLock::new());
        }
        for k in private_key::KEYWORDS {
            literals.push((*k).to_string());
            keyword_detector.push(usize::MAX);
        }
        let keywords = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&literals)
            .map_err(|e| format!("internal error: keywords: {e}"))?;
        Ok(Scanner {
            keywords,
            keyword_detector,
            regexes,
            generic,
            entropy,
        })
    }

    /// Every secret in `buf` (a whole text file or a chunk of whole lines),
    /// in order. `code` says whether the file is source code, where the
    /// generic rule only takes quoted values.
    pub fn scan(&self, buf: &[u8], code: bool, allow: &Allow) -> Vec<Hit> {
        let mut hits = Vec::new();
        let mut line: Option<(usize, usize, u64)> = None;
        let mut private_keys = false;
        for m in self.keywords.find_overlapping_iter(buf) {
            let d = self.keyword_detector[m.pattern().as_usize()];
            if d == usize::MAX {
                private_keys = true;
                continue;
            }
            let pos = m.start();
            match &mut line {
                Some((start, end, mask)) if pos >= *start && pos < *end => *mask |= 1 << d,
                _ => {
                    if let Some((s, e, mask)) = line.take() {
                        self.scan_line(buf, s, e, mask, code, allow, &mut hits);
                    }
                    let s = memrchr(b'\n', &buf[..pos]).map_or(0, |i| i + 1);
                    let e = memchr(b'\n', &buf[pos..]).map_or(buf.len(), |i| pos + i);
                    line = Some((s, e, 1 << d));
                }
            }
        }
        if let Some((s, e, mask)) = line {
            self.scan_line(buf, s, e, mask, code, allow, &mut hits);
        }
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
            hits.sort_by_key(|h| h.start);
        }
        hits
    }

    fn regex(&self, i: usize) -> &Regex {
        self.regexes[i].get_or_init(|| {
            // The patterns are constants; a test compiles every one.
            Regex::new(&format!("(?-u){}", DETECTORS[i].pattern)).expect("detector pattern")
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn scan_line(
        &self,
        buf: &[u8],
        start: usize,
        end: usize,
        mask: u64,
        code: bool,
        allow: &Allow,
        hits: &mut Vec<Hit>,
    ) {
        let line = &buf[start..end];
        let first = hits.len();
        let mut specific = false;
        for (i, d) in DETECTORS.iter().enumerate() {
            if mask & (1 << i) == 0 || i == self.generic {
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
                    Check::Generic => false,
                };
                // A URL's password may be a placeholder while the line
                // still holds a real token: only real matches count.
                if !ok || allow.value_allowed(value) {
                    continue;
                }
                let url = d.rule.id() == URL_CREDENTIALS.id();
                if !url {
                    specific = true;
                }
                hits.push(Hit {
                    rule: d.rule,
                    start: start + s.start(),
                    end: start + s.end(),
                    redacted: redact(value, url),
                    what: d.what,
                });
            }
        }
        // The generic rule only speaks on lines no specific rule claimed.
        if mask & (1 << self.generic) != 0 && !specific {
            let d = &DETECTORS[self.generic];
            for caps in self.regex(self.generic).captures_iter(line) {
                let name = caps.name("name").map_or(&b""[..], |m| m.as_bytes());
                let (value, quoted) = match (caps.name("dq"), caps.name("sq"), caps.name("bare")) {
                    (Some(v), _, _) | (_, Some(v), _) => (v, true),
                    (_, _, Some(v)) => (v, false),
                    _ => continue,
                };
                if (code && !quoted)
                    || !generic_ok(name, value.as_bytes(), self.entropy)
                    || allow.value_allowed(value.as_bytes())
                    || hits[first..]
                        .iter()
                        .any(|h| h.start < start + value.end() && start + value.start() < h.end)
                {
                    continue;
                }
                hits.push(Hit {
                    rule: d.rule,
                    start: start + value.start(),
                    end: start + value.end(),
                    redacted: redact(value.as_bytes(), true),
                    what: d.what,
                });
            }
        }
        // The inline marker allows what it names on its own line; other
        // scanners' markers allow the whole line.
        if FOREIGN_MARKERS
            .iter()
            .any(|m| memchr::memmem::find(line, m).is_some())
        {
            hits.truncate(first);
        } else if memchr::memmem::find(line, ALLOW_MARKER).is_some() {
            let mut i = first;
            while i < hits.len() {
                if allow.line_allows(line, hits[i].rule.id()) {
                    hits.remove(i);
                } else {
                    i += 1;
                }
            }
        }
    }
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
        || host.ends_with(b".example")
        || host.ends_with(b".test")
        || host.ends_with(b".invalid")
        || host.ends_with(b".localhost");
    // Docs and URL-parser tests use metasyntactic passwords
    // (`foo:bar@`, `user:pass@`, RFC 7617's `Aladdin:opensesame`).
    let lower = password.to_ascii_lowercase();
    let weak_word = [
        &b"pass"[..],
        b"pwd",
        b"secret",
        b"foo",
        b"bar",
        b"baz",
        b"qux",
        b"opensesame",
        b"hunter2",
        b"admin",
    ]
    .iter()
    .any(|w| memchr::memmem::find(&lower, w).is_some())
        || lower == b"pw";
    !local
        && !weak_word
        && password != user
        && !password.starts_with(b"%")
        && !password.starts_with(b"{")
        && !password
            .iter()
            .all(|b| *b == b'*' || *b == b'x' || *b == b'X')
        && !decoy::is_placeholder(password)
        && !decoy::is_placeholder(user)
}

/// Words in a name that say the value is not the secret itself.
const NOT_SECRET_WORDS: &[&str] = &[
    "hash",
    "hashed",
    "digest",
    "checksum",
    "sha",
    "sha1",
    "sha256",
    "sha512",
    "md5",
    "fingerprint",
    "integrity",
    "uuid",
    "id",
    "ids",
    "length",
    "len",
    "size",
    "count",
    "type",
    "name",
    "names",
    "file",
    "filename",
    "path",
    "dir",
    "url",
    "uri",
    "endpoint",
    "host",
    "prefix",
    "suffix",
    "field",
    "header",
    "regex",
    "regexp",
    "pattern",
    "format",
    "placeholder",
    "expiry",
    "expires",
    "expiration",
    "timeout",
    "ttl",
    "policy",
    "rotation",
    "mode",
    "kind",
    "enabled",
    "enable",
    "required",
    "label",
    "description",
    "hint",
    "example",
    "ref",
    "env",
    "var",
    "min",
    "max",
    "public",
    "pub",
    "cmd",
    "command",
    "manager",
    "store",
    "provider",
    "source",
    "generator",
    "at",
    "date",
    "time",
    "version",
    "template",
    "param",
    "input",
    "mask",
    "strategy",
    "reset",
    "confirm",
    "confirmation",
    "forgot",
    "question",
    "schema",
    "validator",
    "validation",
    "location",
    "arn",
    "key_id",
    "keyid",
    "store",
    "storage",
    "class",
    "tokenizer",
    "tokens",
    "lifetime",
    "audience",
    "issuer",
    "scope",
    "scopes",
    "endpoint",
];

/// Split a name into lowercase words at `_ - .` and camelCase boundaries.
fn name_words(name: &[u8]) -> Vec<String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for &b in name {
        if !b.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                words.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if b.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            words.push(std::mem::take(&mut cur));
        }
        prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
        cur.push(b.to_ascii_lowercase() as char);
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

fn generic_ok(name: &[u8], value: &[u8], threshold: f64) -> bool {
    let words = name_words(name);
    if words.iter().any(|w| NOT_SECRET_WORDS.contains(&w.as_str())) {
        return false;
    }
    (10..=300).contains(&value.len())
        && !value.contains(&b' ')
        && decoy::entropy(value) >= threshold
        && !decoy::is_placeholder(value)
        && !decoy::is_uuid(value)
        && !decoy::is_reference(value)
        && !decoy::is_base64_text(value)
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
    fn words_of_names() {
        assert_eq!(name_words(b"dbPassword"), ["db", "password"]);
        assert_eq!(name_words(b"SECRET_KEY_BASE"), ["secret", "key", "base"]);
        assert_eq!(name_words(b"api-token.hash"), ["api", "token", "hash"]);
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
