//! The generic rule: a value that looks like a credential given to a name
//! that says it is one, in the shapes people write it.
//!
//! Each [`Shape`] is a regex with a `name` group (absent for headers, where
//! the header says it) and one value group: `dq`, `sq` or `bt` for a quoted
//! value, `bare` for an unquoted one. The scanner tries the shapes on lines
//! holding one of [`KEYWORDS`]; a match is a finding when its name is a
//! secret's ([`secret_name`]) and its value looks like one ([`value_ok`]).

use crate::decoy;

/// Literals one of which must occur on a line (in any case) for the shapes
/// to be tried: the secret words, and each `<owner> key` compound joined,
/// and with `_`, `-`, `.` or a space (`apikey`, `API_Key`, `X-API-Key`,
/// `api.key`, `| API key |`).
pub const KEYWORDS: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "token",
    "cred",
    "bearer",
    "authorization",
    "apikey",
    "api_key",
    "api-key",
    "api.key",
    "api key",
    "accesskey",
    "access_key",
    "access-key",
    "access.key",
    "access key",
    "authkey",
    "auth_key",
    "auth-key",
    "auth.key",
    "privatekey",
    "private_key",
    "private-key",
    "private.key",
    "private key",
    "signingkey",
    "signing_key",
    "signing-key",
    "signing.key",
    "signing key",
    "encryptionkey",
    "encryption_key",
    "encryption-key",
    "encryption.key",
    "encryption key",
    "masterkey",
    "master_key",
    "master-key",
    "master.key",
    "master key",
    "sessionkey",
    "session_key",
    "session-key",
    "session.key",
    "session key",
    "hmackey",
    "hmac_key",
    "hmac-key",
    "hmac.key",
    "hmac key",
    "clientkey",
    "client_key",
    "client-key",
    "client.key",
    "client key",
];

/// What a name must contain for a shape to match (case-insensitive); the
/// whole-word test is [`secret_name`].
macro_rules! word {
    () => {
        r"(?:pass(?:word|wd|phrase)?|pwd|secret|token|cred(?:ential)?s?|(?:api|access|auth|private|signing|encryption|master|session|hmac|client)[_.\-]?key)"
    };
}

/// A name holding a secret word: `DB_PASSWORD`, `x.jwtSecret`, `api-key`.
macro_rules! name {
    () => {
        concat!(r"(?P<name>[a-z0-9_.\-]*", word!(), r"[a-z0-9_.\-]*)")
    };
}

/// A quoted value: `"…"`, `'…'` (with a Python/Rust string prefix) or a
/// backtick string (Go raw strings, JavaScript templates).
macro_rules! quoted {
    () => {
        r#"(?:[bru]?"(?P<dq>[^"\r\n]+)"|[bru]?'(?P<sq>[^'\r\n]+)'|`(?P<bt>[^`\r\n]+)`)"#
    };
}

/// A string type between a name and `=`: `: &str`, `: &'static str`,
/// `: string`, `: String`, `: Final`, `: typing.Final[str]`,
/// `: Option<String>`, `: SecretStr`, Go's ` string`. Only string types: a value such as
/// `Xk9…H==` after `secret: ` is not a type followed by `=`.
macro_rules! typed {
    () => {
        r#"(?:\s*:\s*&?(?:'static\s+)?(?:(?:typing\.)?(?:final|optional|classvar)(?:\[(?:str|bytes)\])?|(?:option|secret)<(?:string|&(?:'static\s+)?str)>|str|string|text|bytes|secretstr|secretstring)\??\s*=|[ \t]+string\s*=)"#
    };
}
pub(crate) use typed;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `name = value`, `name: value`, `"name": "value"`, typed or not; a
    /// quoted value may be wrapped in a call (`String::from("…")`).
    Assign,
    /// A quoted name and a quoted value in one call or map: setters
    /// (`setProperty("x.jwtSecret", "…")`), environment fallbacks
    /// (`os.environ.get("X", "…")`).
    Pair,
    /// A fallback after a name: `process.env.API_KEY ?? "…"`, `|| "…"`,
    /// `or "…"`, `getenv("X") ?: "…"`; shell and Spring defaults
    /// `${DB_PASSWORD:-…}`.
    Fallback,
    /// `Authorization: Bearer …` (or `Basic`, `token`, …) and `Bearer …`.
    Header,
    /// A URL query parameter: `?token=…`, `&api_key=…`.
    Query,
    /// A command-line flag: `--password …`, `--api-key=…`.
    Flag,
    /// An HTML attribute pair: `name="api_secret" … value="…"`.
    Html,
    /// A Markdown table row: `| API_SECRET | … |`.
    Table,
    /// A YAML block scalar: `key: >-` with the value on the next line.
    Block,
    /// An XML element (`<password>…</password>`, Maven's and .NET's
    /// settings) or a C macro (`#define WIFI_PASSWORD "…"`).
    Element,
}

pub struct Shape {
    pub kind: Kind,
    pub pattern: &'static str,
    /// Whether an unquoted value counts in source files too (where a bare
    /// `token = other_value` is code).
    pub bare_ok: bool,
}

pub const SHAPES: &[Shape] = &[
    Shape {
        kind: Kind::Element,
        pattern: concat!(
            r#"(?i)<(?P<name>[a-z0-9_.\-:]*"#,
            word!(),
            r#"[a-z0-9_.\-:]*)>[ \t]*(?P<bare>[^<>\s]+)[ \t]*</"#
        ),
        bare_ok: true,
    },
    Shape {
        kind: Kind::Element,
        pattern: concat!(r"(?i)#[ \t]*define[ \t]+", name!(), r"[ \t]+", quoted!()),
        bare_ok: true,
    },
    Shape {
        kind: Kind::Assign,
        pattern: concat!(
            r"(?i)",
            name!(),
            r#"(?:\[[0-9]*\])?["'`]?\]?(?:"#,
            typed!(),
            r"|[ \t]{0,40}(?:=>|:=|\+=|\?\?=|\?=|\|\|=|=|:))\s{0,5}(?:(?:[a-z_][a-z0-9_:.]*\(\s*)?",
            quoted!(),
            r#"|(?P<bare>[^\s"'`,;()\]}]+))"#
        ),
        bare_ok: false,
    },
    Shape {
        kind: Kind::Pair,
        pattern: concat!(
            r#"(?i)["'`]"#,
            name!(),
            r#"["'`]\s*,\s*(?:[a-z_]+\s*=\s*)?"#,
            quoted!(),
            // A call's last argument, not an item of a list of names
            // (`["NotebookUrl", "AuthToken", "AuthTokenExpiry"]`).
            r#"\s*(?:[);}]|,\s*[^"'`\s]|$)"#
        ),
        bare_ok: false,
    },
    Shape {
        kind: Kind::Fallback,
        pattern: concat!(
            r"(?i)",
            name!(),
            r#"["'`]?[\])]{0,2}\s*(?:\?\?|\|\||\bor\b|\?:)\s*"#,
            quoted!()
        ),
        bare_ok: true,
    },
    Shape {
        kind: Kind::Fallback,
        pattern: concat!(
            r"(?i)\$\{(?P<name>[a-z0-9_.]*",
            word!(),
            r#"[a-z0-9_.]*)(?::-|:=|-|=|:)(?P<bare>[^}\s"'`$]+)\}"#
        ),
        bare_ok: true,
    },
    Shape {
        kind: Kind::Header,
        pattern: r#"(?i)\b(?:proxy-)?authorization["'`]?(?:\s*(?::|=>|,|=)\s*["'`]?\s*(?:(?P<scheme>bearer|basic|token|bot|apikey|api-key)\s+)?|\s+["'`]?(?P<scheme2>bearer|basic|token)\s+)(?P<bare>[a-z0-9\-._~+/]+=*)|\bbearer\s+(?P<bearer>[a-z0-9\-._~+/]+=*)"#,
        bare_ok: true,
    },
    Shape {
        kind: Kind::Query,
        pattern: concat!(
            r"(?i)[?&](?:amp;)?(?P<name>[a-z0-9_\-]*",
            word!(),
            r"[a-z0-9_\-]*)",
            r#"=(?P<bare>[^&#\s"'<>`\\;]+)"#
        ),
        bare_ok: true,
    },
    Shape {
        kind: Kind::Flag,
        pattern: concat!(
            r#"(?i)(?:^|[\s"'\[(,=])--"#,
            name!(),
            // A bare value only after `=` or a space: after `"--token",`
            // comes a quoted argument or another flag's keyword.
            r#"(?:(?:=|[ \t]+)(?P<bare>[^\s"'`;|&()\[\]]+)|(?:=|[ \t]+|["'`]\s*,\s*)"#,
            quoted!(),
            r#")"#
        ),
        bare_ok: true,
    },
    Shape {
        kind: Kind::Html,
        pattern: concat!(
            r#"(?i)\b(?:name|id|key)\s*=\s*["']"#,
            name!(),
            r#"["'][^<>]{0,200}?\b(?:value|content)\s*=\s*(?:"(?P<dq>[^"\r\n]+)"|'(?P<sq>[^'\r\n]+)')"#
        ),
        bare_ok: true,
    },
    Shape {
        kind: Kind::Html,
        pattern: concat!(
            r#"(?i)\b(?:value|content)\s*=\s*(?:"(?P<dq>[^"\r\n]+)"|'(?P<sq>[^'\r\n]+)')[^<>]{0,200}?\b(?:name|id|key)\s*=\s*["']"#,
            name!(),
            r#"["']"#
        ),
        bare_ok: true,
    },
    Shape {
        kind: Kind::Table,
        pattern: concat!(
            r"(?i)\|\s*`?",
            name!(),
            r"`?\s*\|\s*`?(?P<bare>[^\s|`]+)`?\s*\|"
        ),
        bare_ok: true,
    },
    Shape {
        kind: Kind::Block,
        pattern: concat!(
            r#"(?i)^[ \t]*(?:-[ \t]+)?["']?"#,
            name!(),
            r#"["']?[ \t]*:[ \t]*[|>][+-]?[0-9]?[+-]?[ \t]*(?:#[^\r\n]*)?\r?$"#
        ),
        bare_ok: true,
    },
];

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
    "keyid",
    "storage",
    "class",
    "tokenizer",
    "tokens",
    "lifetime",
    "audience",
    "issuer",
    "scope",
    "scopes",
    "csrf",
    "xsrf",
    "authenticity",
    "nonce",
    "stdin",
    "prompt",
    "salt",
    "re",
    "rx",
    "patterns",
    "matcher",
    "next",
    "continuation",
    "pagination",
    "page",
    "cursor",
    "marker",
    "sync",
    "output",
    "resume",
    "last",
    "used",
    "kid",
    "iv",
];

/// Secret words when a whole word of a name: `password`, `secret`, `pwd`.
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "pwd",
    "pass",
    "secret",
    "secrets",
    "token",
    "credential",
    "credentials",
    "creds",
];

/// Secret words that end a compound word: `dbpassword`, `clientsecret`,
/// `authtoken`, `xapikey`.
const SECRET_ENDINGS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "apikey",
    "accesskey",
    "authkey",
    "privatekey",
    "signingkey",
    "encryptionkey",
    "masterkey",
    "secretkey",
];

/// Words that make a secret with a following `key`: `api_key`, `signingKey`.
const KEY_OWNERS: &[&str] = &[
    "api",
    "access",
    "auth",
    "private",
    "signing",
    "encryption",
    "master",
    "session",
    "hmac",
    "client",
];

/// Whether a name says its value is a secret: a secret word as a whole word
/// (or ending a compound), and no word saying the value is about the secret
/// (`token_hash`, `password_min_length`, `secret_name`), and it is not a
/// file's name (`secrets.yaml`). An environment
/// lookup's prefix is not part of the name: `process.env.API_KEY` is
/// `API_KEY`, and `token_env` names a variable, not a token.
pub fn secret_name(name: &[u8]) -> bool {
    // `secrets.rb`, `db-secret.yaml`: a file, whatever it holds (but
    // `jwt.secret.key` is a property's name).
    if decoy::is_file_name(name) && !name.to_ascii_lowercase().ends_with(b".key") {
        return false;
    }
    let mut words = decoy::name_words(name);
    if let Some(env) = words.iter().rposition(|w| w == "env" || w == "environ") {
        words.drain(..=env);
    }
    let secret = |i: usize| {
        // `password1`, `apiKey2`: a numbered credential.
        let w = words[i].trim_end_matches(|c: char| c.is_ascii_digit());
        SECRET_WORDS.contains(&w)
            || SECRET_ENDINGS.iter().any(|e| w.ends_with(e))
            || (w == "key" && i > 0 && KEY_OWNERS.contains(&words[i - 1].as_str()))
    };
    let Some(last) = (0..words.len()).rev().find(|&i| secret(i)) else {
        return false;
    };
    // What follows the secret word says what the value is about
    // (`token_hash`, `password_min_length`, `secret_name`); what comes right
    // before it may say it is not a credential (`next_token`, `csrf_token`,
    // `public_key`). Other words before it are the credential's owner
    // (`EMAIL_HOST_PASSWORD`, `keyStorePassword`).
    let owner = usize::from(words[last] == "key");
    let qualifier = last.checked_sub(owner + 1).map(|i| words[i].as_str());
    let compound = words[last].as_str();
    !words[last + 1..]
        .iter()
        .any(|w| NOT_SECRET_WORDS.contains(&w.as_str()))
        && !qualifier.is_some_and(|q| NOT_BEFORE.contains(&q))
        // `csrftoken`, `xsrfToken`.
        && !["csrf", "xsrf"].iter().any(|q| compound.starts_with(q))
        // Keys published to browsers by design (`NEXT_PUBLIC_MAPBOX_TOKEN`).
        && !words[..last].iter().any(|w| w == "public" || w == "pub")
}

/// Words right before a secret word that say the value is not a
/// credential: pagination cursors, CSRF tokens, public keys, outputs.
const NOT_BEFORE: &[&str] = &[
    "next",
    "continuation",
    "pagination",
    "page",
    "cursor",
    "sync",
    "output",
    "resume",
    "marker",
    "skip",
    "delta",
    "prev",
    "previous",
    "idempotency",
    "request",
    "hash",
    "hashed",
    "csrf",
    "xsrf",
    "authenticity",
    "public",
    "pub",
    "tokenizer",
    "max",
    "min",
];

/// Whether a name is a password's (not a token's or key's): people choose
/// those, so they are judged as people write them.
pub fn password_name(name: &[u8]) -> bool {
    decoy::name_words(name).iter().any(|w| {
        ["password", "passwd", "passphrase", "pwd", "pass"]
            .iter()
            .any(|p| w.ends_with(p))
    })
}

/// Whether a value looks like a credential: long enough, random enough,
/// one token, and not a placeholder, UUID, reference, path, file name,
/// template, regex or base64 of text. A password (`password` says so) may be
/// less random when it mixes three kinds of character and has no weak word.
pub fn value_ok(value: &[u8], threshold: f64, password: bool) -> bool {
    // Hex digits carry at most 4 bits each: a random 32-digit key has
    // about 3.7, so hex is held to a lower bar, as detect-secrets does.
    let hex = value.iter().all(u8::is_ascii_hexdigit);
    let chosen =
        password && value.len() >= 12 && kinds(value) >= 3 && !decoy::has_placeholder_word(value);
    let threshold = if hex || chosen {
        threshold.min(3.0)
    } else {
        threshold
    };
    // A short value cannot reach many bits per character (12 distinct
    // characters carry log2(12) = 3.58): from 12 characters the bar is a
    // little under the most its length allows; shorter values must reach
    // it whole, which random characters rarely do.
    let threshold = if value.len() >= 12 {
        threshold.min((value.len() as f64).log2() - 0.25)
    } else {
        threshold
    };
    // `pepper.raven.cobalt.54`: a passphrase, not a member path.
    let reference = decoy::is_reference(value) && (!password || !passphrase(value));
    let template = value.contains(&b'{') && value.contains(&b'}');
    (10..=300).contains(&value.len())
        && !value.contains(&b' ')
        && !template
        && decoy::entropy(value) >= threshold
        && !decoy::is_placeholder(value)
        && !decoy::is_uuid(value)
        && !reference
        && !decoy::is_file_name(value)
        && !decoy::is_timestamp(value)
        && !decoy::is_url_userinfo(value)
        && !decoy::is_regex(value)
        && !decoy::is_password_hash(value)
        && !decoy::has_weak_word(value)
        && !decoy::is_base64_text(value)
        && !decoy::encodes_weak_text(value)
}

/// Three or more words of letters and a number, joined by `.`, `-` or `_`
/// (`ember-mosaic-glacier-29`): how people make memorable passwords.
fn passphrase(v: &[u8]) -> bool {
    let parts: Vec<&[u8]> = v.split(|b| b".-_".contains(b)).collect();
    let (last, words) = parts.split_last().expect("split yields a part");
    words.len() >= 3
        && words
            .iter()
            .all(|w| w.len() >= 3 && w.iter().all(u8::is_ascii_alphabetic))
        && (1..=4).contains(&last.len())
        && last.iter().all(u8::is_ascii_digit)
}

/// How many of lowercase, uppercase, digits and other characters occur.
fn kinds(v: &[u8]) -> usize {
    let has = |f: fn(&u8) -> bool| usize::from(v.iter().any(f));
    has(u8::is_ascii_lowercase)
        + has(u8::is_ascii_uppercase)
        + has(u8::is_ascii_digit)
        + has(|b| !b.is_ascii_alphanumeric())
}

/// `Authorization: Basic …`: base64 of `user:password` whose password is
/// not a placeholder or a weak word.
pub fn basic_ok(value: &[u8]) -> bool {
    let Some(decoded) = decoy::base64_decode(value) else {
        return false;
    };
    let Some(colon) = decoded.iter().position(|b| *b == b':') else {
        return false;
    };
    let (user, password) = (&decoded[..colon], &decoded[colon + 1..]);
    password.len() >= 8
        && password.iter().all(u8::is_ascii_graphic)
        && password != user
        && decoy::entropy(password) >= 2.5
        && !decoy::is_placeholder(password)
        && !decoy::is_weak_password(password)
}

/// The cells of a Markdown table row (`| a | b |`), each with its offset in
/// the row, trimmed and without enclosing backticks; `None` when the line
/// is not a row.
fn cells(row: &[u8]) -> Option<Vec<(usize, &[u8])>> {
    let lead = row.len() - row.trim_ascii_start().len();
    let body = row[lead..].trim_ascii_end().strip_prefix(b"|")?;
    let mut out = Vec::new();
    let mut pos = lead + 1;
    for cell in body.split(|b| *b == b'|') {
        let from = pos + (cell.len() - cell.trim_ascii_start().len());
        let trimmed = cell.trim_ascii();
        out.push(
            match trimmed
                .strip_prefix(b"`")
                .and_then(|c| c.strip_suffix(b"`"))
            {
                Some(inner) => (from + 1, inner),
                None => (from, trimmed),
            },
        );
        pos += cell.len() + 1;
    }
    // The text after the last `|` is not a cell.
    if body.ends_with(b"|") {
        out.pop();
    }
    Some(out)
}

/// `| --- | :-: |`: the row under a table's header.
fn delimiter_row(row: &[(usize, &[u8])]) -> bool {
    !row.is_empty()
        && row
            .iter()
            .all(|(_, c)| !c.is_empty() && c.iter().all(|b| b"-: ".contains(b)))
}

/// A Markdown table whose header row, the line `buf[start..end]`, names a
/// credential column (`| Service | User | Password |`): the spans of that
/// column's cells in the rows below (at most 1 000 rows), each with whether
/// the column holds passwords, and where the rows read end.
pub fn table_column(buf: &[u8], start: usize, end: usize) -> (Vec<(usize, usize, bool)>, usize) {
    let mut spans = Vec::new();
    let Some(header) = cells(&buf[start..end]) else {
        return (spans, end);
    };
    let columns: Vec<usize> = header
        .iter()
        .enumerate()
        .filter(|(_, (_, c))| secret_name(c))
        .map(|(i, _)| i)
        .collect();
    if columns.is_empty() {
        return (spans, end);
    }
    let mut pos = end + 1;
    let mut first = true;
    for _ in 0..1000 {
        if pos >= buf.len() {
            break;
        }
        let row_end = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |i| pos + i);
        let Some(row) = cells(&buf[pos..row_end]) else {
            break;
        };
        // The delimiter row (`| --- | :-: |`) says this is a table.
        if first {
            if !delimiter_row(&row) {
                break;
            }
            first = false;
        } else {
            // A row followed by a delimiter row heads the next table.
            let next = (row_end + 1).min(buf.len());
            let next_end = memchr::memchr(b'\n', &buf[next..]).map_or(buf.len(), |i| next + i);
            if cells(&buf[next..next_end]).is_some_and(|r| delimiter_row(&r)) {
                break;
            }
            for &i in &columns {
                if let Some((from, cell)) = row.get(i) {
                    let password = password_name(header[i].1);
                    spans.push((pos + from, pos + from + cell.len(), password));
                }
            }
        }
        pos = row_end + 1;
    }
    (spans, pos.min(buf.len()))
}

/// The value of a YAML block scalar whose header ends at `end` in `buf`: the
/// next line when it is the block's only line and more indented than the
/// header line starting at `start`. Returns its span in `buf`.
pub fn block_value(buf: &[u8], start: usize, end: usize) -> Option<(usize, usize)> {
    let indent = |l: &[u8]| l.iter().take_while(|b| **b == b' ' || **b == b'\t').count();
    let header_indent = indent(&buf[start..end]);
    let next = end + 1;
    if next >= buf.len() {
        return None;
    }
    let next_end = memchr::memchr(b'\n', &buf[next..]).map_or(buf.len(), |i| next + i);
    let line = &buf[next..next_end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let ind = indent(line);
    if ind <= header_indent || ind == line.len() {
        return None;
    }
    // A block of more than one line is text or a key file, not one value.
    if next_end < buf.len() {
        let after = &buf[next_end + 1..];
        let after_end = memchr::memchr(b'\n', after).unwrap_or(after.len());
        let after = &after[..after_end];
        if !after.trim_ascii().is_empty() && indent(after) >= ind {
            return None;
        }
    }
    let value = line.trim_ascii();
    let from = next + ind;
    Some((from, from + value.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_of_names() {
        assert_eq!(decoy::name_words(b"dbPassword"), ["db", "password"]);
        assert_eq!(
            decoy::name_words(b"SECRET_KEY_BASE"),
            ["secret", "key", "base"]
        );
        assert_eq!(
            decoy::name_words(b"api-token.hash"),
            ["api", "token", "hash"]
        );
    }

    #[test]
    fn secret_names() {
        for yes in [
            "DB_PASSWORD",
            "x.jwtSecret",
            "api-key",
            "APIKEY",
            "signingKey",
            "ENCRYPTION_KEY",
            "master_key",
            "_authToken",
            "process.env.API_KEY",
            "clientSecret",
            "hmacKey",
            "EMAIL_HOST_PASSWORD",
            "keyStorePassword",
            "ldap.manager.password",
            "PAGE_ACCESS_TOKEN",
            "jwt.secret.key",
            "STORAGE_SECRET",
            "INPUT_TOKEN",
            "password1",
            "PAGERDUTYTOKEN",
            "db_pass",
            "credentials",
        ] {
            assert!(secret_name(yes.as_bytes()), "{yes}");
        }
        for no in [
            "token_hash",
            "secret_name",
            "password_min_length",
            "tokenizer",
            "secretary",
            "bypass",
            "token_env",
            "csrf_token",
            "passport",
            "keyboard",
            "password_file",
            "secrets.rb",
            "next_token",
            "public_key",
            "public_api_key",
            "NEXT_PUBLIC_MAPBOX_TOKEN",
            "ClientRequestToken",
            "csrftoken",
            "NextToken",
        ] {
            assert!(!secret_name(no.as_bytes()), "{no}");
        }
    }

    #[test]
    fn tables_read_by_their_header_survive_odd_rows() {
        let crlf = b"| Name | Type |\r\n| --- | --- |\r\n| api_token | string |\r\n\r\n";
        assert_eq!(table_column(crlf, 0, 15).0, vec![]);
        let (spans, _) = table_column(b"| api_token | string |\r\n \n| x |\n", 0, 23);
        assert!(spans.is_empty());
        let t = b"| Service | Password |\n|---|---|\n| a | `Xk9#mQ2vL8pR` |\n| b |\n";
        let (spans, table_end) = table_column(t, 0, 22);
        assert_eq!(spans.len(), 1);
        assert_eq!(&t[spans[0].0..spans[0].1], b"Xk9#mQ2vL8pR");
        assert_eq!(table_end, t.len());
        assert_eq!(cells(b"   "), None);
        assert_eq!(cells(b""), None);
    }

    #[test]
    fn block_scalars_take_a_single_line() {
        let buf = b"a:\n  key: >-\n    q8Vd2LmZ0xR7pK4n\nb: 1\n";
        let end = 12;
        let (s, e) = block_value(buf, 3, end).expect("value");
        assert_eq!(&buf[s..e], b"q8Vd2LmZ0xR7pK4n");
        let two = b"key: |\n  line one\n  line two\n";
        assert_eq!(block_value(two, 0, 6), None);
        let not_indented = b"key: |\nnext: 1\n";
        assert_eq!(block_value(not_indented, 0, 6), None);
    }
}
