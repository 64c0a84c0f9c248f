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

use super::{OciRef, Store};
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

/// Check that `r` (pinned) is signed by one key of each of `sets`;
/// `Err` says which set no signature satisfies, or why none could be read.
pub fn verify(r: &OciRef, sets: &[Vec<Key>], cache: Option<&Path>) -> Result<(), String> {
    let Some(digest) = &r.digest else {
        return Err(format!(
            "{r}: only a pinned source can be checked for signatures"
        ));
    };
    let Some(first) = sets.first() else {
        return Ok(());
    };
    let keys: Vec<&Key> = sets.iter().flatten().collect();
    let store = cache.and_then(|c| Store::open(c).ok());
    let index = cache.map(|c| c.join("oci").join("signatures"));
    let hex = &digest["sha256:".len()..];
    // The signatures kept from an earlier run, when they satisfy every set.
    if let (Some(store), Some(index)) = (&store, &index)
        && let Ok(sig_digest) = std::fs::read_to_string(index.join(hex))
        && let Some(manifest) = store.get(sig_digest.trim(), super::MAX_MANIFEST_BYTES)
        && let Ok(signers) = signers(r, digest, &manifest, &keys, |d, max| {
            store.get(d, max).ok_or(())
        })
        && unmet(sets, &signers).is_none()
    {
        return Ok(());
    }
    let tag = format!("sha256-{hex}.sig");
    let sig_ref = OciRef {
        tag: Some(tag.clone()),
        digest: None,
        ..r.clone()
    };
    let manifest = match super::fetch_manifest(&sig_ref) {
        Ok(m) => m,
        Err(e) if e.contains("manifest unknown") || e.contains("MANIFEST_UNKNOWN") => {
            return Err(format!(
                "{r} is not signed (no cosign signature at :{tag}); the policy wants a signature by {}",
                wanted(first)
            ));
        }
        Err(e) => return Err(format!("{r}: cannot read its signatures: {e}")),
    };
    let sig_digest = format!("sha256:{}", sha256_hex(&manifest));
    let mut payloads = Vec::new();
    let signers = signers(r, digest, &manifest, &keys, |d, max| {
        let bytes = super::fetch_blob(&sig_ref, d, max).map_err(|_| ())?;
        payloads.push(bytes.clone());
        Ok(bytes)
    })?;
    if let Some(set) = unmet(sets, &signers) {
        return Err(format!(
            "{r} is not signed by {} (its signatures at :{tag} are {})",
            wanted(set),
            if signers.is_empty() {
                "by none of the keys, or not for this digest".to_string()
            } else {
                format!(
                    "by {}",
                    signers
                        .iter()
                        .map(|k| k.path.display().to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
    }
    if let (Some(store), Some(index)) = (&store, &index) {
        // Kept for offline runs; a failure here is only a miss next time.
        let _ = store.put(&manifest);
        for p in &payloads {
            let _ = store.put(p);
        }
        let _ = std::fs::create_dir_all(index).and_then(|()| {
            crate::cache::replace(&index.join(hex), &[sig_digest.as_bytes()], false)
        });
    }
    Ok(())
}

/// The first set none of whose keys signed, if any.
fn unmet<'a>(sets: &'a [Vec<Key>], signers: &[Key]) -> Option<&'a Vec<Key>> {
    sets.iter()
        .find(|set| !set.iter().any(|k| signers.contains(k)))
}

fn wanted(set: &[Key]) -> String {
    let names: Vec<String> = set.iter().map(|k| k.path.display().to_string()).collect();
    match names.as_slice() {
        [one] => format!("the key {one}"),
        _ => format!("one of the keys {}", names.join(", ")),
    }
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
