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
    // Template syntax: ${X}, ${{ secrets.X }}, {{ x }}, <TOKEN>, $(cmd), %s, %(x)s.
    if [&b"${"[..], b"{{", b"$(", b"%s", b"%("]
        .iter()
        .any(|t| memchr::memmem::find(value, t).is_some())
        || value.starts_with(b"<")
        || value.ends_with(b">")
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
    ];
    if PREFIXES.iter().any(|p| v.starts_with(p)) {
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
    let ident = |part: &[u8]| {
        !part.is_empty()
            && !part[0].is_ascii_digit()
            && part.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
    };
    // `a.b.c` member access, or a name with no digits at all.
    let dotted = v.contains(&b'.') && v.split(|b| *b == b'.').all(ident);
    let letters_only = v
        .iter()
        .all(|b| b.is_ascii_alphabetic() || *b == b'_' || *b == b'-');
    dotted || letters_only
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
        ] {
            assert!(is_placeholder(p.as_bytes()), "{p}");
        }
        for real in [
            "ghp_R4nd0mT0k3nV4lu3Qx9Lz2Wp7Ks5Hd8Jf1Mc3",
            "q8Vd2LmZ0xR7pK4n",
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
        assert!(is_base64_text(b"SGVsbG8gd29ybGQsIHRoaXMgaXMgdGV4dA=="));
        assert!(!is_base64_text(b"q8Vd2LmZ0xR7pK4nW1sT9yB3"));
        assert_eq!(base64_decode(b"aGk").as_deref(), Some(&b"hi"[..]));
    }
}
