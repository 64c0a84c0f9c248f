//! What looks like a secret but is not: placeholders, documented examples,
//! references, hashes, UUIDs, base64 of text, low-entropy strings.

/// Shannon entropy in bits per byte.
pub fn entropy(s: &[u8]) -> f64 {
    if s.is_empty() {
        return 0.0;
    }
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Values published in vendors' documentation as examples.
const KNOWN_FAKES: &[&str] = &[
    // jwt.io's sample token (its signature part).
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    // AWS documentation.
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    // GitHub documentation.
    "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    // RFC 6749 (OAuth 2.0) and RFC 6750 (bearer tokens).
    "2YotnFZFEjr1zCsicMWpAA",
    "tGzv3JOkF0XG5Qx2TlKWIA",
    "SplxlOBeZQQYbYS6WxSbIA",
    "mF_9.B5f-4.1JqM",
    "czZCaGRSa3F0MzpnWDFmQmF0M2JW",
    "gX1fBat3bV",
    // RFC 5849 (OAuth 1.0).
    "hh5s93j4hdidpola",
    "hdhd0244k9j7ao03",
    "kd94hf93k423kf44",
    "nnch734d00sl2jdk",
    "pfkkdhi9sl3r4s00",
];

/// Words that mark a value as a placeholder (compared in lowercase).
const PLACEHOLDER_WORDS: &[&str] = &[
    "example",
    "xxxx",
    "your",
    "placeholder",
    "redacted",
    "changeme",
    "change_me",
    "change-me",
    "dummy",
    "sample",
    "fake",
    "mock",
    "insert",
    "replace",
    "todo",
    "fixme",
    "secret_here",
    "token_here",
    "notreal",
    "not_real",
    "not-a-",
    "test",
    "...",
    "…",
    "***",
];

/// Whether a matched value is a placeholder or documented example.
pub fn is_placeholder(value: &[u8]) -> bool {
    if KNOWN_FAKES
        .iter()
        .any(|f| memchr::memmem::find(value, f.as_bytes()).is_some())
    {
        return true;
    }
    if has_placeholder_word(value) {
        return true;
    }
    // Template syntax: ${X}, ${{ secrets.X }}, {{ x }}, #{x}, <TOKEN>,
    // [token], $(cmd), %s (not inside a word: `%sGT` is random), %(x)s.
    if [&b"${"[..], b"{{", b"#{", b"$(", b"%("]
        .iter()
        .any(|t| memchr::memmem::find(value, t).is_some())
        || memchr::memmem::find_iter(value, b"%s")
            .any(|i| value.get(i + 2).is_none_or(|b| !b.is_ascii_alphanumeric()))
        || value.starts_with(b"<")
        || value.ends_with(b">")
        || value.starts_with(b"[")
        || value.starts_with(b"$")
    {
        return true;
    }
    repeated_run(value, 6) || sequential_run(value, 8)
}

/// A byte repeated `n` times in a row (`000000`, `aaaaaa`).
fn repeated_run(v: &[u8], n: usize) -> bool {
    v.windows(n).any(|w| w.iter().all(|&b| b == w[0]))
}

/// An ascending run like `12345678` or `abcdefgh`.
fn sequential_run(v: &[u8], n: usize) -> bool {
    v.windows(n)
        .any(|w| w.windows(2).all(|p| p[1] == p[0].wrapping_add(1)))
}

/// Whether `value` holds a placeholder word (`example`, `xxxx`, `your`…).
pub fn has_placeholder_word(value: &[u8]) -> bool {
    let lower = value.to_ascii_lowercase();
    PLACEHOLDER_WORDS
        .iter()
        .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
}

/// `8-4-4-4-12` hex digits.
pub fn is_uuid(v: &[u8]) -> bool {
    v.len() == 36
        && v.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// A value that refers to something instead of holding a secret: a path, a
/// URL, a dotted or plain identifier (`config.token`, `get_password`), an
/// environment lookup.
pub fn is_reference(v: &[u8]) -> bool {
    const PREFIXES: &[&[u8]] = &[
        b"/",
        b"./",
        b"../",
        b"~/",
        b"http://",
        b"https://",
        b"file:",
        b"env:",
        b"vault:",
        b"arn:",
        b"secret:",
        b"sha256:",
        b"sha512-",
        b"sha1-",
        // Encrypted or stored elsewhere: SOPS, 1Password, vals, KMS.
        b"ENC[",
        b"op://",
        b"ref+",
        b"awskms:",
        b"gcpkms:",
        b"azurekv:",
    ];
    // `:symbol`, `::path` (a separator's second colon).
    if v.starts_with(b":") {
        return true;
    }
    // A base64 value may start with `/`; a path has no `+` and no padding.
    let base64ish = v.contains(&b'+') || v.ends_with(b"=");
    if PREFIXES.iter().any(|p| v.starts_with(p)) && !(v.starts_with(b"/") && base64ish) {
        return true;
    }
    // `@SECURITY_TOKEN`, `@VAR@`, `%VAR%`: a variable to substitute.
    let var = v
        .strip_prefix(b"@")
        .or(v.strip_prefix(b"%"))
        .map(|r| r.strip_suffix(b"@").or(r.strip_suffix(b"%")).unwrap_or(r));
    if var.is_some_and(|r| {
        !r.is_empty()
            && r.iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
    }) {
        return true;
    }
    // A query string (`grant_type=password&username=…`): parameters, not one.
    let parameter = |p: &[u8]| {
        p.iter().position(|b| *b == b'=').is_some_and(|eq| {
            eq > 0
                && p[0].is_ascii_alphabetic()
                && p[..eq]
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || b"_-.[]".contains(b))
        })
    };
    if v.contains(&b'&') && v.split(|b| *b == b'&').all(parameter) {
        return true;
    }
    // `@env:AC_PASSWORD`, `keychain:DEPLOY_TOKEN`: a scheme and a variable.
    let bare = v.strip_prefix(b"@").unwrap_or(v);
    if let Some(colon) = bare.iter().position(|b| *b == b':') {
        let (scheme, var) = (&bare[..colon], &bare[colon + 1..]);
        if !scheme.is_empty()
            && scheme.iter().all(u8::is_ascii_lowercase)
            && !var.is_empty()
            && var
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
        {
            return true;
        }
    }
    // A name (`LastEvaluatedTableName`, `Win32_System_Threading`), member
    // access (`a.b.c`), a key path (`oauth/client_secret`,
    // `ConnectionStrings:DbPassword`) or alternatives (`api|token|key`),
    // made of words rather than random characters.
    let name_part = |part: &[u8]| {
        !part.is_empty()
            && part
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-')
    };
    v.split(|b| b"/:.|".contains(b)).all(name_part) && wordy(v)
}

/// Whether a value is made of words (`getDatabasePassword`,
/// `CloudFrontOriginAccessIdentityList.NextMarker`, `Win32_System_Threading`,
/// `Ed25519PrivateKey`) rather than random characters (`qKtWsAKiFqqYLkcx`,
/// `ge3kQor5R.xpw7Fp`, `192b9bdd22ab9ed4`): no digit before a letter (but
/// before a capitalized word), at least a fifth of the letters vowels, no
/// word of three or more letters without one, and at most one run of
/// capitals running into a word (`XMLHttp`). Random alphanumerics of 20
/// characters pass about 1 time in 100, of 32 characters 3 in 10 000.
pub fn wordy(v: &[u8]) -> bool {
    let digit_then_letter = v.windows(2).enumerate().any(|(i, p)| {
        p[0].is_ascii_digit()
            && (p[1].is_ascii_lowercase()
                || (p[1].is_ascii_uppercase() && !v.get(i + 2).is_some_and(u8::is_ascii_lowercase)))
    });
    let vowel = |b: &u8| b"aeiouyAEIOUY".contains(b);
    let letters = v.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let vowels = v.iter().filter(|b| vowel(b)).count();
    if digit_then_letter || letters == 0 || vowels * 5 < letters {
        return false;
    }
    // No word of three or more letters without a vowel.
    if name_words(v).iter().any(|w| {
        w.bytes().filter(u8::is_ascii_alphabetic).count() >= 3 && !w.bytes().any(|b| vowel(&b))
    }) {
        return false;
    }
    let capital_runs = v
        .windows(3)
        .filter(|w| {
            w[0].is_ascii_uppercase() && w[1].is_ascii_uppercase() && w[2].is_ascii_lowercase()
        })
        .count();
    capital_runs <= 1
}

/// Split a name or value into lowercase words at separators and camelCase
/// boundaries (`dbPassword` is `db`, `password`).
pub fn name_words(name: &[u8]) -> Vec<String> {
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

/// A file name or path ending in a file extension (`.deploystack/creds.json`,
/// `external-secrets.md`, `server.key`): where a secret is, not the secret.
pub fn is_file_name(v: &[u8]) -> bool {
    const EXTENSIONS: &[&str] = &[
        "json",
        "yaml",
        "yml",
        "toml",
        "ini",
        "cfg",
        "conf",
        "env",
        "properties",
        "xml",
        "md",
        "rst",
        "txt",
        "html",
        "htm",
        "pem",
        "key",
        "crt",
        "cer",
        "der",
        "p12",
        "pfx",
        "jks",
        "keystore",
        "pub",
        "gpg",
        "asc",
        "enc",
        "age",
        "kdbx",
        "db",
        "sqlite",
        "js",
        "ts",
        "py",
        "rb",
        "go",
        "rs",
        "sh",
        "log",
        "zip",
        "gz",
        "tar",
        "png",
        "svg",
        "csv",
    ];
    let Some(dot) = v.iter().rposition(|b| *b == b'.') else {
        return false;
    };
    let (stem, ext) = (&v[..dot], &v[dot + 1..]);
    !stem.is_empty()
        && stem
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || b"_-./~".contains(b))
        && EXTENSIONS
            .iter()
            .any(|e| e.as_bytes().eq_ignore_ascii_case(ext))
}

/// Regex syntax (`(?i)`, `\s`, `[^…]`, `]{36}`, `.*`): a pattern for
/// secrets, not one.
pub fn is_regex(v: &[u8]) -> bool {
    [
        &b"(?"[..],
        b"\\s",
        b"\\S",
        b"\\d",
        b"\\w",
        b"\\b",
        b"[^",
        b"]{",
        b"]+",
        b"]*",
        b".*",
        b".+",
    ]
    .iter()
    .any(|p| memchr::memmem::find(v, p).is_some())
}

/// A stored password hash (`pbkdf2_sha256$…`, `$2b$12$…`, `{SSHA}…`): what a
/// password becomes, not the password.
pub fn is_password_hash(v: &[u8]) -> bool {
    let lower = v.to_ascii_lowercase();
    [
        &b"pbkdf2"[..],
        b"bcrypt",
        b"argon2",
        b"scrypt",
        b"sha1$",
        b"md5$",
        b"{ssha",
        b"{sha",
        b"{crypt}",
    ]
    .iter()
    .any(|p| lower.starts_with(p))
        || v.starts_with(b"$")
}

/// An ISO 8601 date or time (`2016-09-08T21:47:36Z`).
pub fn is_timestamp(v: &[u8]) -> bool {
    v.len() >= 10
        && v[..4].iter().all(u8::is_ascii_digit)
        && v[4] == b'-'
        && v[5..7].iter().all(u8::is_ascii_digit)
        && v[7] == b'-'
        && v[8..10].iter().all(u8::is_ascii_digit)
}

/// `user:password@host.tld…`: a URL's credentials, which the URL rule
/// judges with its host.
pub fn is_url_userinfo(v: &[u8]) -> bool {
    let Some(at) = v.iter().rposition(|b| *b == b'@') else {
        return false;
    };
    let host = &v[at + 1..];
    v[..at].contains(&b':')
        && host.contains(&b'.')
        && host
            .iter()
            .take_while(|b| **b != b'/' && **b != b':')
            .all(|b| b.is_ascii_alphanumeric() || b".-".contains(b))
}

/// Metasyntactic passwords of docs and tests: `foo:bar`, `user:pass`,
/// RFC 7617's `Aladdin:opensesame`, `hunter2`, `admin`, Oracle's
/// `scott:tiger`.
pub fn is_weak_password(password: &[u8]) -> bool {
    // Besides the words of `has_weak_word`, short ones that would occur in
    // random keys by chance but are fine to test a URL's password with.
    const SHORT: &[&str] = &[
        "pass",
        "pwd",
        "foo",
        "bar",
        "baz",
        "qux",
        "opensesame",
        "tiger",
    ];
    let lower = password.to_ascii_lowercase();
    lower == b"pw"
        || has_weak_word(password)
        || SHORT
            .iter()
            .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
}

/// A word no real credential holds (`password`, `secret`, `hunter`,
/// `admin`): words long enough not to occur in random characters by chance
/// (`baz` does in one 32-character key in 300), and not parts of other
/// words (`pass` is in `passion-fruit-cobalt-91`).
pub fn has_weak_word(value: &[u8]) -> bool {
    let lower = value.to_ascii_lowercase();
    [
        "password", "passwd", "secret", "hunter", "admin", "changeme",
    ]
    .iter()
    .any(|w| memchr::memmem::find(&lower, w.as_bytes()).is_some())
}

/// Base64 that decodes to printable text (`SGVsbG8gd29ybGQ=`): encoded
/// prose, not key material.
pub fn is_base64_text(v: &[u8]) -> bool {
    if v.len() < 12 {
        return false;
    }
    let Some(decoded) = base64_decode(v) else {
        return false;
    };
    // Text has spaces or is made of words; a Kubernetes Secret's base64 of
    // a random password is neither.
    decoded.len() >= 8
        && decoded
            .iter()
            .all(|&b| b == b'\n' || b == b'\t' || (0x20..0x7f).contains(&b))
        && decoded
            .iter()
            .filter(|b| b.is_ascii_alphabetic() || **b == b' ')
            .count()
            * 10
            >= decoded.len() * 8
        && (decoded.contains(&b' ') || wordy(&decoded))
}

/// Base64 of a placeholder or weak password (`cGFzc3dvcmQxMjMh` is
/// `password123!`).
pub fn encodes_weak_text(v: &[u8]) -> bool {
    v.len() >= 8
        && base64_decode(v).is_some_and(|d| {
            d.iter().all(|b| (0x20..0x7f).contains(b))
                && (has_weak_word(&d) || is_placeholder(&d) || is_weak_password(&d))
        })
}

/// Decode standard or URL-safe base64, padded or not.
pub fn base64_decode(v: &[u8]) -> Option<Vec<u8>> {
    let v = v.strip_suffix(b"==").or(v.strip_suffix(b"=")).unwrap_or(v);
    let mut out = Vec::with_capacity(v.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for &c in v {
        let x = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(x);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entropy_of_random_and_repeated() {
        assert_eq!(entropy(b"aaaa"), 0.0);
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-9);
        assert!(entropy(b"q8Vd2LmZ0xR7pK4nW1sT9yB3") > 4.0);
    }

    #[test]
    fn placeholders() {
        for p in [
            "AKIAIOSFODNN7EXAMPLE",
            "${{ secrets.TOKEN }}",
            "${API_TOKEN}",
            "<TOKEN>",
            "changeme",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "ghp_000000000000000000000000000000000000",
            "sk_live_1234567890abcdefghijklmn",
            "$PASSWORD",
            "{{ .Values.password }}",
            "Bearer %s",
            "%s:%s",
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for real in [
            "ghp_R4nd0mT0k3nV4lu3Qx9Lz2Wp7Ks5Hd8Jf1Mc3",
            "q8Vd2LmZ0xR7pK4n",
            "rLXb4*6T&!*AmFalcon%s7Vurhl6&pMs",
        ] {
            assert!(!is_placeholder(real.as_bytes()), "{real}");
        }
    }

    #[test]
    fn shapes() {
        assert!(is_uuid(b"550e8400-e29b-41d4-a716-446655440000"));
        assert!(!is_uuid(b"550e8400e29b41d4a716446655440000"));
        assert!(is_reference(b"config.api_token"));
        assert!(is_reference(b"get_password"));
        assert!(is_reference(b"/run/secrets/db"));
        assert!(is_reference(b"@env:AC_PASSWORD"));
        assert!(!is_reference(b"q8Vd2LmZ0xR7pK4n"));
        assert!(is_reference(b"getDatabasePasswordFromEnvironment"));
        assert!(!is_reference(b"qKtWsAKiFqqYLkcxvzlpuQzBbikBppnVLu"));
        assert!(!is_reference(b"ge3kQor5R.xpw7FpcCnAwuaB"));
        assert!(is_reference(b"self.client.session2.token"));
        assert!(is_reference(
            b"CloudFrontOriginAccessIdentityList.NextMarker"
        ));
        assert!(is_reference(b"Win32_System_Threading"));
        assert!(is_reference(b"api|token|key|secret"));
        assert!(is_reference(b"@SECURITY_TOKEN"));
        assert!(is_reference(b"grant_type=password&username=johndoe"));
        assert!(!is_reference(b"192b9bdd22ab9ed4d12e236c78afcb9a"));
        assert!(!is_reference(b"key-lBJnAllBcUqpTAhDhhpxZToSgeGYLCRhKuPfG"));
        assert!(is_password_hash(
            b"pbkdf2_sha256$30000$Vo0VlMnkR4Bk$qEvtdyZRWT"
        ));
        assert!(is_reference(b"oauth/client_secret"));
        assert!(is_reference(b"ConnectionStrings:DbPassword"));
        assert!(is_regex(br"(?i)secret\s*[:=]\s*\S+"));
        assert!(!is_regex(b"q8Vd2LmZ0xR7pK4n"));
        assert!(!is_reference(
            b"/arJFpBffzXRhIXaZ+0u0ktdLzUVXyuLqqkA6qfePcc="
        ));
        assert!(is_file_name(b".deploystack/creds.json"));
        assert!(is_file_name(b"external-secrets.md"));
        assert!(!is_file_name(b"q8Vd2LmZ0xR7pK4n"));
        assert!(is_base64_text(b"SGVsbG8gd29ybGQsIHRoaXMgaXMgdGV4dA=="));
        assert!(!is_base64_text(b"q8Vd2LmZ0xR7pK4nW1sT9yB3"));
        assert_eq!(base64_decode(b"aGk").as_deref(), Some(&b"hi"[..]));
    }
}
