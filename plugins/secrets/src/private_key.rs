//! The `private-key` rule ([`PRIVATE_KEY`]): armoured private keys (PEM: RSA, DSA, EC, PKCS#8,
//! encrypted; OpenSSH; PGP private key blocks; SSH2) and PuTTY key files.
//!
//! Only a full armoured header followed by key material is a finding, so
//! code or docs that merely name a header, and examples whose body is a
//! placeholder (`...`, `<key>`), are not.

use memchr::memmem;
use portcullis_sdk::declare_rule;

declare_rule! {
    /// Revoke the key, remove it from history, and load keys from a secret store instead. Mark a test key's header line with `portcullis:allow secrets/private-key`.
    pub PRIVATE_KEY = "private-key" {
        name: "PrivateKey",
        level: Error,
        short: "A private key was committed.",
        full: "The file contains an armoured private key (PEM, OpenSSH, PGP, SSH2) or a PuTTY key file. A committed key must be considered compromised.",
        tags: ["security", "secrets"],
        security_severity: 8.5,
    }
}

/// Literals the scanner's keyword pass looks for.
pub const KEYWORDS: &[&str] = &["PRIVATE KEY", "PuTTY-User-Key-File-"];

/// Key kinds after `BEGIN ` in an armoured header (`-----BEGIN <kind>-----`,
/// or `---- BEGIN <kind> ----` for SSH2).
const KINDS: &[&str] = &[
    "RSA PRIVATE KEY",
    "DSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "OPENSSH PRIVATE KEY",
    "PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
    "PGP PRIVATE KEY BLOCK",
    "SSH2 ENCRYPTED PRIVATE KEY",
];

/// PuTTY keys start with this at the beginning of the file.
const PUTTY: &[u8] = b"PuTTY-User-Key-File-";

/// Every private key in `bytes`: (start, end of the header, kind).
pub fn find(bytes: &[u8]) -> Vec<(usize, usize, &'static str)> {
    let mut out = Vec::new();
    if bytes.starts_with(PUTTY) {
        let end = memchr::memchr(b'\n', bytes).unwrap_or(bytes.len());
        out.push((0, end, "PuTTY"));
    }
    const DASHES: &[u8] = b"-----";
    for at in memmem::find_iter(bytes, b"BEGIN ") {
        let Some(open) = at.checked_sub(5).map(|s| &bytes[s..at]) else {
            continue;
        };
        let ssh2 = open == b"---- ";
        if !(open == DASHES || ssh2) {
            continue;
        }
        let rest = &bytes[at + 6..];
        for kind in KINDS {
            let Some(tail) = rest.strip_prefix(kind.as_bytes()) else {
                continue;
            };
            let close: &[u8] = if ssh2 { b" ----" } else { DASHES };
            if tail.starts_with(close) && has_body(&tail[close.len()..]) {
                out.push((at - 5, at + 6 + kind.len() + close.len(), kind));
                break;
            }
        }
    }
    out
}

/// Whether what follows a header is key material: after the line break
/// (a real one or a `\n` escape inside a string) and any `Key: value`
/// headers, a run of at least 16 base64 characters.
fn has_body(after: &[u8]) -> bool {
    let mut rest = after;
    for _ in 0..8 {
        rest = strip_break(rest);
        let line_end = rest
            .iter()
            .position(|b| *b == b'\n' || *b == b'\\' || *b == b'\r')
            .unwrap_or(rest.len());
        let line = &rest[..line_end];
        if line.contains(&b':') {
            // `Proc-Type: 4,ENCRYPTED`, `Version: GnuPG v2`, `Comment: "…"`.
            rest = &rest[line_end..];
            continue;
        }
        let b64 = line
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'+' || **b == b'/' || **b == b'=')
            .count();
        // Real key material has runs like `AAAAAA`: only placeholder words
        // rule a body out.
        return b64 >= 16 && !crate::decoy::has_placeholder_word(&line[..b64]);
    }
    false
}

fn strip_break(mut s: &[u8]) -> &[u8] {
    loop {
        let before = s.len();
        for p in [&b"\r\n"[..], b"\n", b"\\r\\n", b"\\n", b" ", b"\t", b"\""] {
            if let Some(r) = s.strip_prefix(p) {
                s = r;
            }
        }
        if s.len() == before {
            return s;
        }
    }
}
