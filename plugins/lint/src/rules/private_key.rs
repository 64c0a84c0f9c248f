//! `private-key`
//!
//! ## What it checks
//! Files containing a private key header, like pre-commit's
//! `detect-private-key`, but only on armoured headers (`-----BEGIN … PRIVATE KEY-----`),
//! so source code that names a header is not flagged: PEM (RSA, DSA, EC, PKCS#8, encrypted), OpenSSH,
//! PGP private key blocks, PuTTY and SSH2 keys.
//!
//! ## Why it matters
//! A committed private key is compromised: it must be revoked, not just deleted.

use memchr::memmem;
use portcullis_sdk::{Evaluation, Finding, Level, Location, Region, Rule};

pub const ID: &str = "private-key";

/// Key kinds after `BEGIN ` in an armoured header (`-----BEGIN <kind>-----`,
/// or `---- BEGIN <kind> ----` for SSH2). Only a full armoured header is a
/// finding, so code that merely names a header (like this file) is not.
const KINDS: &[(&str, &str)] = &[
    ("RSA PRIVATE KEY", "RSA"),
    ("DSA PRIVATE KEY", "DSA"),
    ("EC PRIVATE KEY", "EC"),
    ("OPENSSH PRIVATE KEY", "OpenSSH"),
    ("PRIVATE KEY", "PKCS#8"),
    ("ENCRYPTED PRIVATE KEY", "encrypted PKCS#8"),
    ("PGP PRIVATE KEY BLOCK", "PGP"),
    ("SSH2 ENCRYPTED PRIVATE KEY", "SSH2"),
];

/// PuTTY keys start with this at the beginning of the file.
const PUTTY: &str = "PuTTY-User-Key-File-";

pub fn rule() -> Rule {
    Rule::new(
        ID,
        "PrivateKey",
        Level::Error,
        "A private key was committed.",
    )
    .full("The file contains a private key header. A committed key must be considered compromised.")
    .help("Revoke the key, remove it from history, and load keys from a secret store instead.")
    .tags(&["security", "secrets"])
    .security_severity(8.5)
}

pub fn check(path: &str, bytes: &[u8], out: &mut Evaluation) {
    // All markers share "PRIVATE KEY" or start the file: cheap prefilter.
    if memmem::find(bytes, b"PRIVATE KEY").is_none() && !bytes.starts_with(PUTTY.as_bytes()) {
        return;
    }
    let found = armoured_header(bytes)
        .or_else(|| bytes.starts_with(PUTTY.as_bytes()).then_some((0, "PuTTY")));
    if let Some((at, kind)) = found {
        let line = bytes[..at].iter().filter(|b| **b == b'\n').count() as u32 + 1;
        out.push(
            Finding::new(ID, format!("{kind} private key in {path}"))
                .location(Location::at(path, Region::line(line))),
        );
    }
}

fn armoured_header(bytes: &[u8]) -> Option<(usize, &'static str)> {
    const DASHES: &[u8] = b"-----";
    for at in memmem::find_iter(bytes, b"BEGIN ") {
        let open = bytes.get(at.saturating_sub(5)..at)?;
        let ssh2 = open == b"---- ";
        if at < 5 || !(open == DASHES || ssh2) {
            continue;
        }
        let rest = &bytes[at + 6..];
        for (kind, name) in KINDS {
            if let Some(tail) = rest.strip_prefix(kind.as_bytes()) {
                let closed = if ssh2 {
                    tail.starts_with(b" ----")
                } else {
                    tail.starts_with(DASHES)
                };
                if closed {
                    return Some((at - 5, name));
                }
            }
        }
    }
    None
}
