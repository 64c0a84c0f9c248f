//! cosign signatures on OCI sources, verified with a public key, offline.
//!
//! cosign (`cosign sign --key cosign.key <ref>@sha256:<hex>`) stores a
//! signature as an image manifest at the tag `sha256-<hex>.sig` in the same
//! repository. Each of its layers is a "simple signing" payload, a JSON
//! document naming the signed manifest's digest
//! (`critical.image.docker-manifest-digest`), with the signature of the
//! payload's bytes in the annotation `dev.cosignproject.cosign/signature`
//! (base64 of an ASN.1 ECDSA P-256 SHA-256 signature, for cosign's keys).
//!
//! A source is signed by a key when one of those layers (checked against
//! its digest) carries a valid signature by that key over a payload that
//! names the source's digest. The signature manifest and payloads are kept
//! in the cache's store, with `oci/signatures/<hex>` naming the signature
//! manifest last seen for a manifest: a source whose kept signatures verify
//! needs no registry; otherwise the registry is asked again.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{OciRef, Store, keyless};
use crate::digest::sha256_hex;

/// The media type of a cosign signature layer.
const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The annotation holding the signature.
const SIGNATURE: &str = "dev.cosignproject.cosign/signature";
/// The payload's `critical.type`.
const PAYLOAD_TYPE: &str = "cosign container image signature";
/// The most signature layers read, and the largest payload.
const MAX_LAYERS: usize = 64;
const MAX_PAYLOAD: usize = 64 << 10;
/// The DER prefix of a P-256 ECDSA SubjectPublicKeyInfo, before the
/// 65-byte uncompressed point.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// A public key a policy names: cosign's (ECDSA P-256), from a PEM file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    /// The file it was read from, for messages.
    pub path: PathBuf,
    /// The uncompressed point (65 bytes).
    point: Vec<u8>,
}

impl Key {
    /// Read a `PUBLIC KEY` PEM file (as `cosign generate-key-pair` and
    /// `openssl ec -pubout` write it).
    pub fn read(path: &Path) -> Result<Key, String> {
        let text = crate::files::read_to_string(path, 64 << 10)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Key::from_pem(path, &text)
    }

    fn from_pem(path: &Path, text: &str) -> Result<Key, String> {
        use base64::Engine;
        let body = text
            .split_once("-----BEGIN PUBLIC KEY-----")
            .and_then(|(_, rest)| rest.split_once("-----END PUBLIC KEY-----"))
            .map(|(body, _)| body)
            .ok_or_else(|| format!("{}: not a PEM `PUBLIC KEY`", path.display()))?;
        let der: String = body.chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(der)
            .map_err(|e| format!("{}: not a PEM `PUBLIC KEY`: {e}", path.display()))?;
        match der.strip_prefix(&P256_SPKI_PREFIX[..]) {
            Some(point) if point.len() == 65 && point[0] == 4 => Ok(Key {
                path: path.to_path_buf(),
                point: point.to_vec(),
            }),
            _ => Err(format!(
                "{}: not an ECDSA P-256 public key (cosign's keys are; `cosign public-key` prints one)",
                path.display()
            )),
        }
    }

    fn verifies(&self, payload: &[u8], signature: &[u8]) -> bool {
        ring::signature::UnparsedPublicKey::new(
            &ring::signature::ECDSA_P256_SHA256_ASN1,
            &self.point,
        )
        .verify(payload, signature)
        .is_ok()
    }
}

#[derive(Deserialize)]
struct SigManifest {
    #[serde(default)]
    layers: Vec<SigLayer>,
}

#[derive(Deserialize)]
struct SigLayer {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Payload {
    critical: Critical,
}

#[derive(Deserialize)]
struct Critical {
    image: Image,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    digest: String,
}

/// What one `[signatures]` table accepts: a cosign signature by one of its
/// keys, or a keyless signature (a Sigstore bundle, checked against its
/// trusted root) by one of its identities.
#[derive(Debug, Clone, Default)]
pub struct Signers {
    pub keys: Vec<Key>,
    pub identities: Vec<keyless::Identity>,
    pub root: Option<std::sync::Arc<keyless::TrustedRoot>>,
}

impl Signers {
    /// Who it wants, for messages: "the key team.pub or https://… (issuer …)".
    pub fn wanted(&self) -> String {
        let keys: Vec<String> = self
            .keys
            .iter()
            .map(|k| k.path.display().to_string())
            .collect();
        let mut parts = match keys.as_slice() {
            [] => vec![],
            [one] => vec![format!("the key {one}")],
            _ => vec![format!("one of the keys {}", keys.join(", "))],
        };
        parts.extend(self.identities.iter().map(|i| i.to_string()));
        parts.join(" or ")
    }
}

/// The signatures a source carries.
#[derive(Default)]
struct Found {
    /// Whether a bundle signed with a key may sign the artifact's bytes
    /// (a file's, as `cosign sign-blob` does); for an OCI source it must
    /// sign cosign's statement naming the digest, so that no other
    /// signature the key ever made over equal bytes counts.
    keyed_messages: bool,
    /// The policy's keys that signed it.
    keys: Vec<Key>,
    /// Its Sigstore bundles, not yet verified.
    bundles: Vec<Vec<u8>>,
}

/// Who in `set` signed `subject`, by `bundle` (a file's, as `cosign
/// sign-blob --bundle` writes it); else what it holds instead.
pub fn by_bundle(
    set: &Signers,
    bundle: &[u8],
    subject: &keyless::Subject<'_>,
) -> Result<String, String> {
    let found = Found {
        keyed_messages: true,
        keys: Vec::new(),
        bundles: vec![bundle.to_vec()],
    };
    satisfy(set, &found, subject)
}

/// Who in `set` signed, by `found`; else what `found` holds instead.
fn satisfy(set: &Signers, found: &Found, subject: &keyless::Subject<'_>) -> Result<String, String> {
    if let Some(k) = set.keys.iter().find(|k| found.keys.contains(k)) {
        return Ok(format!("the key {}", k.path.display()));
    }
    let (keyed, certified): (Vec<&Vec<u8>>, Vec<&Vec<u8>>) =
        found.bundles.iter().partition(|b| keyless::is_keyed(b));
    let mut keyed_said = None;
    for bundle in &keyed {
        if !found.keyed_messages && keyless::signs_bytes(bundle) {
            keyed_said = Some(
                "a Sigstore bundle signed with a key over bytes, not over a statement naming the digest (cosign sign --key writes one)".to_string(),
            );
            continue;
        }
        for k in &set.keys {
            match keyless::verify_keyed(bundle, subject, &|m, s| k.verifies(m, s)) {
                Ok(()) => return Ok(format!("the key {}", k.path.display())),
                Err(e) => keyed_said = Some(format!("a Sigstore bundle signed with a key: {e}")),
            }
        }
    }
    let mut said: Vec<String> = Vec::new();
    if !found.keys.is_empty() {
        let by: Vec<String> = found
            .keys
            .iter()
            .map(|k| k.path.display().to_string())
            .collect();
        said.push(format!("a cosign signature by {}", by.join(", ")));
    } else if !set.keys.is_empty() && !found.keyed_messages {
        said.push("no cosign signature by a key the policy names, for this digest".into());
    }
    if let Some(k) = keyed_said.filter(|_| !set.keys.is_empty()) {
        said.push(k);
    }
    if let Some(root) = set.root.as_deref().filter(|_| !set.identities.is_empty()) {
        for bundle in &certified {
            match keyless::verify(bundle, subject, root) {
                Ok(s) if set.identities.iter().any(|i| i.matches(&s)) => {
                    return Ok(format!(
                        "{} (issuer {}), logged at {} (log index {})",
                        crate::diag::one_line(&s.identities.join(", "), 200),
                        crate::diag::one_line(&s.issuer, 200),
                        crate::evidence::metrics::rfc3339(s.time.saturating_mul(1000)),
                        s.log_index
                    ));
                }
                Ok(s) => said.push(format!(
                    "a Sigstore bundle signed by {} (issuer {})",
                    crate::diag::one_line(&s.identities.join(", "), 200),
                    crate::diag::one_line(&s.issuer, 200)
                )),
                Err(e) => said.push(format!("a Sigstore bundle that does not verify: {e}")),
            }
        }
        if certified.is_empty() {
            said.push("no keyless Sigstore bundle".into());
        }
    }
    // Many bundles make a long line: the first few say enough.
    const SAID: usize = 4;
    if said.len() > SAID {
        let more = said.len() - SAID;
        said.truncate(SAID);
        said.push(format!("{more} more"));
    }
    Err(said.join("; "))
}

/// Check that `r` (pinned) satisfies each of `sets`: `Ok` says who signed,
/// for each set; `Err` says which set it does not satisfy and what
/// signatures it carries, or why none could be read.
pub fn verify(r: &OciRef, sets: &[Signers], cache: Option<&Path>) -> Result<Vec<String>, String> {
    let Some(digest) = &r.digest else {
        return Err(format!(
            "{r}: only a pinned source can be checked for signatures"
        ));
    };
    if sets.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<&Key> = sets.iter().flat_map(|s| &s.keys).collect();
    let store = cache.and_then(|c| Store::open(c).ok());
    let hex = &digest["sha256:".len()..];
    let key_index = cache.map(|c| c.join("oci").join("signatures"));
    let bundle_index = cache.map(|c| c.join("oci").join("sigstore"));
    let mut sha256 = [0u8; 32];
    for (i, b) in sha256.iter_mut().enumerate() {
        *b = hex
            .get(2 * i..2 * i + 2)
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(|| format!("{r}: not a sha256 digest"))?;
    }
    // A message signature signs the manifest's bytes: at hand when pulled.
    let manifest = store
        .as_ref()
        .and_then(|s| s.get(digest, super::MAX_MANIFEST_BYTES));
    let subject = keyless::Subject {
        sha256,
        sha512: None,
        bytes: manifest.as_deref(),
        predicates: &[keyless::SIGN_PREDICATE],
    };
    // The signatures kept from an earlier run, when they satisfy every set.
    if let Some(store) = &store {
        let mut found = Found::default();
        if !keys.is_empty()
            && let Some(index) = &key_index
            && let Ok(sig_digest) = std::fs::read_to_string(index.join(hex))
            && let Some(manifest) = store.get(sig_digest.trim(), super::MAX_MANIFEST_BYTES)
        {
            found.keys = signers(r, digest, &manifest, &keys, |d, max| {
                store.get(d, max).ok_or(())
            })
            .unwrap_or_default();
        }
        if let Some(index) = &bundle_index
            && let Ok(list) = std::fs::read_to_string(index.join(hex))
        {
            found.bundles = list
                .lines()
                .take(super::MAX_REFERRERS)
                .filter_map(|d| store.get(d, keyless::MAX_BUNDLE_BYTES))
                .collect();
        }
        let by: Result<Vec<String>, String> =
            sets.iter().map(|s| satisfy(s, &found, &subject)).collect();
        if let Ok(by) = by {
            return Ok(by);
        }
    }
    let mut found = Found::default();
    let mut kept: Vec<Vec<u8>> = Vec::new();
    let mut absent: Vec<String> = Vec::new();
    // What could not be read: said when no signature satisfies without it.
    let mut unreadable: Vec<String> = Vec::new();
    let mut sig_digest = None;
    if !keys.is_empty() {
        let tag = format!("sha256-{hex}.sig");
        let sig_ref = OciRef {
            tag: Some(tag.clone()),
            digest: None,
            ..r.clone()
        };
        match super::fetch_manifest(&sig_ref) {
            Ok(manifest) => {
                let read = signers(r, digest, &manifest, &keys, |d, max| {
                    let bytes = super::fetch_blob(&sig_ref, d, max).map_err(|_| ())?;
                    kept.push(bytes.clone());
                    Ok(bytes)
                });
                match read {
                    Ok(keys) => {
                        found.keys = keys;
                        sig_digest = Some(format!("sha256:{}", sha256_hex(&manifest)));
                        kept.push(manifest);
                    }
                    // Junk at the tag: one fewer candidate, said if no other
                    // signature satisfies.
                    Err(e) => {
                        let prefix = format!("{r}: ");
                        unreadable.push(e.strip_prefix(&prefix).unwrap_or(&e).to_string());
                    }
                }
            }
            Err(e) if e.contains("manifest unknown") || e.contains("MANIFEST_UNKNOWN") => {
                absent.push(format!("no cosign signature at :{tag}"));
            }
            Err(e) => unreadable.push(format!("cannot read its signatures: {e}")),
        }
    }
    // Sigstore bundles: keyless ones, and those cosign 3 attaches for a
    // key; not asked for when the `.sig` signatures already satisfy.
    let satisfied = sets.iter().all(|s| satisfy(s, &found, &subject).is_ok());
    if !satisfied {
        match super::fetch_bundles(r, keyless::MAX_BUNDLE_BYTES) {
            Ok(bundles) if bundles.is_empty() => {
                absent.push("no Sigstore bundle among what refers to it".into());
            }
            Ok(bundles) => found.bundles = bundles,
            Err(e) => unreadable.push(format!("cannot read what refers to it: {e}")),
        }
    }
    // A message signature signs the manifest's bytes: read them when they
    // were not at hand (bounded and checked against the digest), and keep
    // them.
    let needs_bytes = found.bundles.iter().any(|b| keyless::signs_bytes(b));
    let fetched = match (&manifest, needs_bytes) {
        (None, true) => match super::fetch_manifest(r) {
            Ok(bytes) => {
                kept.push(bytes.clone());
                Some(bytes)
            }
            Err(e) => {
                unreadable.push(format!("cannot read its manifest: {e}"));
                None
            }
        },
        _ => None,
    };
    let subject = keyless::Subject {
        bytes: manifest.as_deref().or(fetched.as_deref()),
        ..subject
    };
    let mut by = Vec::new();
    for set in sets {
        match satisfy(set, &found, &subject) {
            Ok(who) => by.push(who),
            Err(why) if !unreadable.is_empty() => {
                return Err(format!(
                    "{r}: {}; the policy wants a signature by {} (what was read carries {why})",
                    unreadable.join("; "),
                    set.wanted()
                ));
            }
            Err(why) => {
                let wanted = set.wanted();
                let none = sig_digest.is_none() && found.bundles.is_empty();
                return Err(if none {
                    format!(
                        "{r} is not signed ({}); the policy wants a signature by {wanted}",
                        absent.join(", ")
                    )
                } else {
                    format!("{r} is not signed by {wanted} (it carries {why})")
                });
            }
        }
    }
    if let Some(store) = &store {
        // Kept for offline runs; a failure here is only a miss next time.
        for bytes in &kept {
            let _ = store.put(bytes);
        }
        if let (Some(index), Some(sig_digest)) = (&key_index, &sig_digest) {
            let _ = std::fs::create_dir_all(index).and_then(|()| {
                crate::cache::replace(&index.join(hex), &[sig_digest.as_bytes()], false)
            });
        }
        if let Some(index) = bundle_index.as_ref().filter(|_| !found.bundles.is_empty()) {
            let list: String = found
                .bundles
                .iter()
                .filter_map(|b| store.put(b).ok())
                .map(|d| d + "\n")
                .collect();
            let _ = std::fs::create_dir_all(index)
                .and_then(|()| crate::cache::replace(&index.join(hex), &[list.as_bytes()], false));
        }
    }
    Ok(by)
}

/// The keys (of every key the policy names) that sign `digest` in the
/// signature manifest `manifest`; payloads come from `blob`.
fn signers(
    r: &OciRef,
    digest: &str,
    manifest: &[u8],
    keys: &[&Key],
    mut blob: impl FnMut(&str, usize) -> Result<Vec<u8>, ()>,
) -> Result<Vec<Key>, String> {
    let sig: SigManifest = serde_json::from_slice(manifest)
        .map_err(|e| format!("{r}: its signature manifest is not one: {e}"))?;
    let mut found: Vec<Key> = Vec::new();
    for layer in sig.layers.iter().take(MAX_LAYERS) {
        if layer.media_type != SIMPLE_SIGNING || layer.size as usize > MAX_PAYLOAD {
            continue;
        }
        let Some(signature) = layer.annotations.get(SIGNATURE) else {
            continue;
        };
        use base64::Engine;
        let Ok(signature) = base64::engine::general_purpose::STANDARD.decode(signature.trim())
        else {
            continue;
        };
        if super::reference::parse_digest(&layer.digest).as_deref() != Ok(&layer.digest) {
            continue;
        }
        let Ok(payload) = blob(&layer.digest, layer.size as usize) else {
            continue;
        };
        if format!("sha256:{}", sha256_hex(&payload)) != layer.digest {
            continue;
        }
        let names_this = serde_json::from_slice::<Payload>(&payload)
            .is_ok_and(|p| p.critical.kind == PAYLOAD_TYPE && p.critical.image.digest == digest);
        if !names_this {
            continue;
        }
        for key in keys.iter().filter(|k| k.verifies(&payload, &signature)) {
            if !found.contains(key) {
                found.push((*key).clone());
            }
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The public key in cosign's signature specification.
    const COSIGN_PUB: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAELigCnlLNKgOglRTx1D7JhI7eRw99\nQolE9Jo4QUxnbMy5nUuBL+UZF9qqfm/Dg1BNeHRThHzWh2ki9vAEgWEDOw==\n-----END PUBLIC KEY-----\n";

    #[test]
    fn a_cosign_public_key_is_read_and_others_are_refused_with_a_reason() {
        let key = Key::from_pem(Path::new("cosign.pub"), COSIGN_PUB).expect("P-256");
        assert_eq!(key.point.len(), 65);
        assert!(!key.verifies(b"payload", b"not a signature"));
        for (text, why) in [
            ("no pem here", "not a PEM `PUBLIC KEY`"),
            (
                "-----BEGIN PUBLIC KEY-----\n!!\n-----END PUBLIC KEY-----",
                "not a PEM",
            ),
            // An Ed25519 key.
            (
                "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----",
                "not an ECDSA P-256 public key",
            ),
        ] {
            let e = Key::from_pem(Path::new("k.pub"), text).expect_err(why);
            assert!(e.contains(why) && e.contains("k.pub"), "{e}");
        }
    }
}
