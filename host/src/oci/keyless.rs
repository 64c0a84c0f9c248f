//! Keyless signatures: a Sigstore bundle (what `cosign sign` attaches to an
//! artifact in a registry, and `cosign sign-blob --bundle` writes beside a
//! file), verified offline against a trusted root.
//!
//! A bundle holds a short-lived signing certificate, the signature (over
//! the artifact itself, or a DSSE envelope around an in-toto statement
//! naming the artifact's digest), and a transparency log entry. It is
//! believed when, all offline:
//!
//! 1. a log the trusted root lists promised (signed) to have taken the
//!    entry at its integrated time, and its inclusion proof, when the
//!    bundle carries one, leads to a checkpoint that log signed;
//! 2. the certificate chains to a certificate authority of the trusted
//!    root, for code signing, and was valid at that time;
//! 3. the signature is the certificate's key's over the artifact (or the
//!    envelope, whose statement names the artifact's digest);
//! 4. the log entry records that same signature, certificate and content;
//! 5. the certificate names the identity and OIDC issuer wanted.
//!
//! 6. when the trusted root lists certificate transparency logs, the
//!    certificate carries an SCT (a signed promise to publish it) of one.
//!
//! Not checked: RFC 3161 timestamps; entries of logs that give no signed
//! entry timestamp (Rekor v2) are refused.

mod sct;
mod tlog;
pub mod trust;
pub mod x509;

use serde::Deserialize;

pub use trust::TrustedRoot;
use trust::{RawBytes, RawChain, base64};

/// What the media type of a Sigstore bundle starts with, as a layer and as
/// an artifact type, in every version (`…bundle.v0.3+json`,
/// `…bundle+json;version=0.2`).
pub const BUNDLE_MEDIA_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// The largest bundle read.
pub const MAX_BUNDLE_BYTES: usize = 1 << 20;
/// `1.3.6.1.5.5.7.3.3` id-kp-codeSigning.
const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
/// The in-toto payload type of a DSSE envelope.
const IN_TOTO: &str = "application/vnd.in-toto+json";
/// The most log entries in a bundle that are tried.
const MAX_ENTRIES: usize = 8;
/// The predicate of the in-toto statement `cosign sign` signs: a
/// signature of the artifact, not an attestation about it.
pub const SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
/// How much of a string from the input an error shows.
const SHOWN: usize = 120;

fn shown(s: &str) -> String {
    crate::diag::one_line(s, SHOWN)
}

/// What was signed: its digests, and its bytes when the signature is over
/// them (a message signature) rather than over a statement naming them.
pub struct Subject<'a> {
    pub sha256: [u8; 32],
    pub sha512: Option<[u8; 64]>,
    pub bytes: Option<&'a [u8]>,
    /// The statements (in-toto predicate types) taken as a signature of it:
    /// an attestation of another kind (a provenance, a scan) by the same
    /// signer is not one.
    pub predicates: &'a [&'a str],
}

impl<'a> Subject<'a> {
    /// A file (or a manifest) whose bytes are at hand.
    pub fn of(bytes: &'a [u8]) -> Subject<'a> {
        let sha = |alg| ring::digest::digest(alg, bytes);
        Subject {
            sha256: sha(&ring::digest::SHA256).as_ref().try_into().expect("32"),
            sha512: sha(&ring::digest::SHA512).as_ref().try_into().ok(),
            bytes: Some(bytes),
            predicates: &[SIGN_PREDICATE],
        }
    }
}

/// Who signed, as a verified bundle says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    /// The certificate's subject alternative names.
    pub identities: Vec<String>,
    pub issuer: String,
    /// When the log took the entry (seconds since the epoch).
    pub time: i64,
    pub log_index: i64,
}

/// A signer a policy wants: an OIDC issuer and an identity, exactly or as
/// a regular expression matching the whole identity.
#[derive(Debug, Clone)]
pub struct Identity {
    pub issuer: String,
    pub identity: IdentityMatch,
}

#[derive(Debug, Clone)]
pub enum IdentityMatch {
    Exact(String),
    Regex(String, regex_automata::meta::Regex),
}

impl Identity {
    pub fn exact(issuer: &str, identity: &str) -> Identity {
        Identity {
            issuer: issuer.to_string(),
            identity: IdentityMatch::Exact(identity.to_string()),
        }
    }

    /// `regex` matches a whole identity (it is anchored at both ends).
    pub fn regex(issuer: &str, regex: &str) -> Result<Identity, String> {
        let bad = |e: regex_automata::meta::BuildError| {
            format!("`{regex}` is not a regular expression: {e}")
        };
        // Whole on its own first, so that wrapping it cannot change it
        // (`a)|(?:b` would otherwise leave the anchors).
        regex_automata::meta::Regex::new(regex).map_err(bad)?;
        let re = regex_automata::meta::Regex::new(&format!("^(?:{regex})$")).map_err(bad)?;
        Ok(Identity {
            issuer: issuer.to_string(),
            identity: IdentityMatch::Regex(regex.to_string(), re),
        })
    }

    pub fn matches(&self, s: &Signed) -> bool {
        s.issuer == self.issuer
            && s.identities.iter().any(|id| match &self.identity {
                IdentityMatch::Exact(want) => id == want,
                IdentityMatch::Regex(_, re) => re.is_match(id),
            })
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.identity {
            IdentityMatch::Exact(id) => write!(f, "{id}"),
            IdentityMatch::Regex(re, _) => write!(f, "an identity matching `{re}`"),
        }?;
        write!(f, " (issuer {})", self.issuer)
    }
}

impl PartialEq for Identity {
    fn eq(&self, other: &Identity) -> bool {
        self.to_string() == other.to_string()
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    media_type: String,
    verification_material: Material,
    message_signature: Option<MessageSignature>,
    dsse_envelope: Option<Envelope>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Material {
    certificate: Option<RawBytes>,
    x509_certificate_chain: Option<RawChain>,
    public_key: Option<serde_json::Value>,
    #[serde(default)]
    tlog_entries: Vec<tlog::Entry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MessageSignature {
    message_digest: Option<MessageDigest>,
    signature: String,
}

#[derive(Deserialize)]
struct MessageDigest {
    algorithm: String,
    digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    payload: String,
    payload_type: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    sig: String,
}

#[derive(Deserialize)]
struct Statement {
    #[serde(rename = "_type")]
    kind: String,
    #[serde(rename = "predicateType")]
    predicate: String,
    #[serde(default)]
    subject: Vec<StatementSubject>,
}

#[derive(Deserialize)]
struct StatementSubject {
    #[serde(default)]
    digest: std::collections::BTreeMap<String, String>,
}

/// Verify `bundle` (JSON) as a signature of `subject` against `root`:
/// `Ok` says who signed and when; `Err` says why it is not believed.
pub fn verify(bundle: &[u8], subject: &Subject<'_>, root: &TrustedRoot) -> Result<Signed, String> {
    if bundle.len() > MAX_BUNDLE_BYTES {
        return Err(format!("the bundle is over {MAX_BUNDLE_BYTES} bytes"));
    }
    let b: Bundle = serde_json::from_slice(bundle)
        .map_err(|e| format!("not a Sigstore bundle: {}", shown(&e.to_string())))?;
    if !b.media_type.starts_with(BUNDLE_MEDIA_PREFIX) {
        return Err(format!(
            "not a Sigstore bundle (mediaType `{}`)",
            shown(&b.media_type)
        ));
    }
    // Bundles from 0.2 on carry the inclusion proof, with its checkpoint.
    let needs_proof = b.media_type != "application/vnd.dev.sigstore.bundle+json;version=0.1";
    let m = &b.verification_material;
    let cert = match (&m.certificate, &m.x509_certificate_chain) {
        (Some(c), _) => base64(&c.raw_bytes),
        (None, Some(chain)) => chain
            .certificates
            .first()
            .ok_or_else(|| "its certificate chain is empty".to_string())
            .and_then(|c| base64(&c.raw_bytes)),
        (None, None) => {
            return Err(
                "it carries no certificate (a bundle signed with a key is checked with `keys`)"
                    .into(),
            );
        }
    }
    .map_err(|e| format!("its certificate is {e}"))?;
    if m.tlog_entries.is_empty() {
        return Err("it has no transparency log entry".into());
    }
    let mut why = Vec::new();
    for entry in m.tlog_entries.iter().take(MAX_ENTRIES) {
        match tlog::verify(entry, root, needs_proof)
            .and_then(|logged| believe(&b, &cert, logged, subject, root))
        {
            Ok(signed) => return Ok(signed),
            Err(e) => why.push(e),
        }
    }
    Err(why.join("; "))
}

/// What a bundle's signature was found to cover.
enum Content {
    /// A message signature over the artifact's bytes.
    Message { sig: Vec<u8> },
    /// A DSSE envelope's signature over its in-toto statement.
    Envelope { sig: Vec<u8>, payload: Vec<u8> },
}

/// Check that `b`'s signature is `verifies`'s (the certificate's or a
/// key's) over `subject`: over its bytes, or over an envelope whose
/// statement is a signature (one of `subject.predicates`) naming it.
fn content(
    b: &Bundle,
    subject: &Subject<'_>,
    signer: &str,
    verifies: &dyn Fn(&[u8], &[u8]) -> bool,
) -> Result<Content, String> {
    match (&b.message_signature, &b.dsse_envelope) {
        (Some(ms), None) => {
            let sig = base64(&ms.signature).map_err(|e| format!("its signature is {e}"))?;
            if let Some(d) = &ms.message_digest {
                let named = base64(&d.digest).ok();
                if d.algorithm != "SHA2_256" || named.as_deref() != Some(&subject.sha256[..]) {
                    return Err("it signs another artifact (its message digest differs)".into());
                }
            }
            let bytes = subject
                .bytes
                .ok_or("it signs the artifact's bytes, which are not at hand")?;
            if !verifies(bytes, &sig) {
                return Err(format!("its signature is not {signer}'s over the artifact"));
            }
            Ok(Content::Message { sig })
        }
        (None, Some(env)) => {
            let [one] = env.signatures.as_slice() else {
                return Err("its envelope does not hold exactly one signature".into());
            };
            let sig = base64(&one.sig).map_err(|e| format!("its signature is {e}"))?;
            let payload = base64(&env.payload).map_err(|e| format!("its payload is {e}"))?;
            let mut pae = format!(
                "DSSEv1 {} {} {} ",
                env.payload_type.len(),
                env.payload_type,
                payload.len()
            )
            .into_bytes();
            pae.extend_from_slice(&payload);
            if !verifies(&pae, &sig) {
                return Err(format!("its signature is not {signer}'s over its envelope"));
            }
            if env.payload_type != IN_TOTO {
                return Err(format!(
                    "its envelope holds `{}`, not an in-toto statement",
                    shown(&env.payload_type)
                ));
            }
            let statement: Statement = serde_json::from_slice(&payload)
                .map_err(|e| format!("its statement is not one: {}", shown(&e.to_string())))?;
            if !statement.kind.starts_with("https://in-toto.io/Statement/") {
                return Err(format!(
                    "its statement is not an in-toto statement (`_type` `{}`)",
                    shown(&statement.kind)
                ));
            }
            if !subject.predicates.contains(&statement.predicate.as_str()) {
                return Err(format!(
                    "it is a `{}` attestation, not a signature (`{}`)",
                    shown(&statement.predicate),
                    subject.predicates.join("`, `")
                ));
            }
            let names = statement.subject.iter().any(|s| {
                s.digest.get("sha256") == Some(&crate::digest::hex(&subject.sha256))
                    || subject
                        .sha512
                        .is_some_and(|d| s.digest.get("sha512") == Some(&crate::digest::hex(&d)))
            });
            if !names {
                return Err("its statement names another artifact".into());
            }
            Ok(Content::Envelope { sig, payload })
        }
        _ => Err(
            "it must hold one message signature or one envelope, and holds both or neither".into(),
        ),
    }
}

/// Check that the log entry records what `content` found, signed with
/// `cert`.
fn recorded(
    logged: &tlog::Logged,
    content: &Content,
    cert: &[u8],
    subject: &Subject<'_>,
) -> Result<(), String> {
    let pem = |v: &serde_json::Value| -> Option<Vec<u8>> {
        let pem = base64(v.as_str()?).ok()?;
        pem_der(std::str::from_utf8(&pem).ok()?)
    };
    let same_sig = |v: &serde_json::Value, sig: &[u8]| -> bool {
        v.as_str().and_then(|s| base64(s).ok()).as_deref() == Some(sig)
    };
    let body = &logged.body;
    let spec = &body["spec"];
    let kind = (logged.kind.kind.as_str(), logged.kind.version.as_str());
    let same = body["kind"] == kind.0
        && match (content, kind) {
            (Content::Message { sig }, ("hashedrekord", "0.0.1")) => {
                spec["data"]["hash"]["algorithm"] == "sha256"
                    && spec["data"]["hash"]["value"] == crate::digest::hex(&subject.sha256)
                    && same_sig(&spec["signature"]["content"], sig)
                    && pem(&spec["signature"]["publicKey"]["content"]).as_deref() == Some(cert)
            }
            (Content::Envelope { sig, payload }, ("dsse", "0.0.1")) => {
                spec["payloadHash"]["value"] == crate::digest::sha256_hex(payload).as_str()
                    && spec["signatures"].as_array().is_some_and(|s| {
                        s.len() == 1
                            && same_sig(&s[0]["signature"], sig)
                            && pem(&s[0]["verifier"]).as_deref() == Some(cert)
                    })
            }
            (Content::Envelope { sig, payload }, ("intoto", "0.0.2")) => {
                let content = &spec["content"];
                content["payloadHash"]["value"] == crate::digest::sha256_hex(payload).as_str()
                    && content["envelope"]["signatures"]
                        .as_array()
                        .is_some_and(|s| {
                            // intoto 0.0.2 encodes the signature twice.
                            s.len() == 1
                                && s[0]["sig"]
                                    .as_str()
                                    .and_then(|v| base64(v).ok())
                                    .and_then(|v| String::from_utf8(v).ok())
                                    .and_then(|v| base64(&v).ok())
                                    .as_deref()
                                    == Some(&sig[..])
                                && pem(&s[0]["publicKey"]).as_deref() == Some(cert)
                        })
            }
            _ => false,
        };
    if same {
        Ok(())
    } else {
        Err("its log entry records another signature, certificate or content".into())
    }
}

/// The rest of the checks, at the time `logged` vouches for.
fn believe(
    b: &Bundle,
    cert: &[u8],
    logged: tlog::Logged,
    subject: &Subject<'_>,
    root: &TrustedRoot,
) -> Result<Signed, String> {
    chain(cert, logged.time, root)?;
    sct::verify(cert, root, logged.time)?;
    let leaf = x509::leaf(cert)?;
    let issuer = leaf
        .issuer
        .clone()
        .ok_or("its certificate names no OIDC issuer")?;
    let found = content(b, subject, "the certificate", &|m, s| {
        leaf.key.verifies(m, s)
    })?;
    recorded(&logged, &found, cert, subject)?;
    Ok(Signed {
        identities: leaf.identities,
        issuer,
        time: logged.time,
        log_index: logged.index,
    })
}

/// Whether `bundle` signs an artifact's bytes (a message signature) rather
/// than a statement naming its digest.
pub fn signs_bytes(bundle: &[u8]) -> bool {
    serde_json::from_slice::<Bundle>(bundle).is_ok_and(|b| b.message_signature.is_some())
}

/// Whether `bundle` is signed with a key rather than a certificate (its
/// material is a public key hint).
pub fn is_keyed(bundle: &[u8]) -> bool {
    serde_json::from_slice::<Bundle>(bundle).is_ok_and(|b| {
        let m = &b.verification_material;
        m.public_key.is_some() && m.certificate.is_none() && m.x509_certificate_chain.is_none()
    })
}

/// Verify `bundle`, signed with a key (what `cosign sign --key` attaches
/// from cosign 3 on), as a signature of `subject` by `verifies`; its log
/// entries are not checked (as for a signature at `sha256-<hex>.sig`).
pub fn verify_keyed(
    bundle: &[u8],
    subject: &Subject<'_>,
    verifies: &dyn Fn(&[u8], &[u8]) -> bool,
) -> Result<(), String> {
    if bundle.len() > MAX_BUNDLE_BYTES {
        return Err(format!("the bundle is over {MAX_BUNDLE_BYTES} bytes"));
    }
    let b: Bundle = serde_json::from_slice(bundle)
        .map_err(|e| format!("not a Sigstore bundle: {}", shown(&e.to_string())))?;
    if !b.media_type.starts_with(BUNDLE_MEDIA_PREFIX)
        || b.verification_material.public_key.is_none()
    {
        return Err("not a Sigstore bundle signed with a key".into());
    }
    content(&b, subject, "the key", verifies).map(|_| ())
}

/// The certificate chains, for code signing, to a certificate authority
/// the trusted root trusted at `time`, and was valid then.
fn chain(cert: &[u8], time: i64, root: &TrustedRoot) -> Result<(), String> {
    use rustls_pki_types::{CertificateDer, UnixTime};
    let cas: Vec<&trust::Ca> = root.cas.iter().filter(|c| c.valid.contains(time)).collect();
    let roots: Vec<CertificateDer<'_>> = cas
        .iter()
        .filter_map(|c| c.chain.last())
        .map(|d| CertificateDer::from(&d[..]))
        .collect();
    let anchors: Vec<_> = roots
        .iter()
        .filter_map(|d| webpki::anchor_from_trusted_cert(d).ok())
        .collect();
    let intermediates: Vec<CertificateDer<'_>> = cas
        .iter()
        .flat_map(|c| &c.chain[..c.chain.len() - 1])
        .map(|d| CertificateDer::from(&d[..]))
        .collect();
    let leaf = CertificateDer::from(cert);
    let ee = webpki::EndEntityCert::try_from(&leaf)
        .map_err(|e| format!("its certificate is not one: {e}"))?;
    let Ok(secs) = u64::try_from(time) else {
        return Err("its log time is before 1970".into());
    };
    ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &intermediates,
        UnixTime::since_unix_epoch(std::time::Duration::from_secs(secs)),
        webpki::KeyUsage::required(CODE_SIGNING),
        None,
        None,
    )
    .map(|_| ())
    .map_err(|e| {
        format!(
            "its certificate does not chain, for code signing at the time it was logged, to a certificate authority of {} ({e:?})",
            root.path.display()
        )
    })
}

/// The DER of a PEM `CERTIFICATE`.
fn pem_der(text: &str) -> Option<Vec<u8>> {
    let body = text
        .split_once("-----BEGIN CERTIFICATE-----")?
        .1
        .split_once("-----END CERTIFICATE-----")?
        .0;
    let b64: String = body.chars().filter(|c| !c.is_whitespace()).collect();
    base64(&b64).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/sigstore");

    fn read(name: &str) -> Vec<u8> {
        std::fs::read(Path::new(DIR).join(name)).expect("fixture")
    }

    fn root(name: &str) -> TrustedRoot {
        TrustedRoot::read(&Path::new(DIR).join(name)).expect("fixture")
    }

    /// A bundle with one JSON field changed.
    fn edited(name: &str, edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
        let mut v: serde_json::Value = serde_json::from_slice(&read(name)).expect("fixture");
        edit(&mut v);
        serde_json::to_vec(&v).expect("fixture")
    }

    const WHL: &str = "rfc8785-0.1.2-py3-none-any.whl";
    const WORKFLOW: &str =
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
    const ACTIONS: &str = "https://token.actions.githubusercontent.com";

    #[test]
    fn a_release_signed_in_github_actions_verifies_against_the_public_good_root() {
        let whl = read(WHL);
        let signed = verify(
            &read(&format!("{WHL}.sigstore.json")),
            &Subject::of(&whl),
            &root("trusted_root.public-good.json"),
        )
        .expect("verified");
        assert_eq!(signed.identities, [WORKFLOW]);
        assert_eq!(signed.issuer, ACTIONS);
        assert_eq!(signed.time, 1_710_888_076);
        assert!(Identity::exact(ACTIONS, WORKFLOW).matches(&signed));
        assert!(
            Identity::regex(ACTIONS, "https://github.com/trailofbits/.*@refs/tags/v.*")
                .expect("fixture")
                .matches(&signed)
        );
        for other in [
            Identity::exact("https://accounts.google.com", WORKFLOW),
            Identity::exact(ACTIONS, &WORKFLOW.replace("v0.1.2", "v0.1.3")),
            Identity::regex(ACTIONS, "https://github.com/trailofbits/").expect("fixture"),
        ] {
            assert!(!other.matches(&signed), "{other}");
        }
    }

    #[test]
    fn an_email_identity_on_staging_verifies_with_the_staging_root_only() {
        let txt = read("bundle_v3.txt");
        let bundle = read("bundle_v3.txt.sigstore.json");
        let signed = verify(
            &bundle,
            &Subject::of(&txt),
            &root("trusted_root.staging.json"),
        )
        .expect("verified");
        assert_eq!(signed.identities, ["william@yossarian.net"]);
        assert_eq!(signed.issuer, "https://github.com/login/oauth");
        let e = verify(
            &bundle,
            &Subject::of(&txt),
            &root("trusted_root.public-good.json"),
        )
        .expect_err("refused");
        assert!(e.contains("which") && e.contains("does not list"), "{e}");
    }

    #[test]
    fn a_dsse_provenance_statement_verifies_by_the_digest_it_names() {
        let bundle = read("sigstore-1.3.0.provenance.sigstore.json");
        let mut sha512 = [0u8; 64];
        let hex = "76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751";
        for (i, b) in sha512.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("fixture");
        }
        let slsa = ["https://slsa.dev/provenance/v0.2"];
        let subject = Subject {
            sha256: [0; 32],
            sha512: Some(sha512),
            bytes: None,
            predicates: &slsa,
        };
        let public = root("trusted_root.public-good.json");
        let signed = verify(&bundle, &subject, &public).expect("verified");
        assert_eq!(
            signed.identities,
            [
                "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
            ]
        );
        sha512[0] ^= 1;
        let other = Subject {
            sha512: Some(sha512),
            ..subject
        };
        let e = verify(&bundle, &other, &public).expect_err("refused");
        assert!(e.contains("names another artifact"), "{e}");
        // A provenance by the wanted signer is not a signature.
        sha512[0] ^= 1;
        let as_signature = Subject {
            sha512: Some(sha512),
            predicates: &[SIGN_PREDICATE],
            ..other
        };
        let e = verify(&bundle, &as_signature, &public).expect_err("refused");
        assert!(
            e.contains("is a `https://slsa.dev/provenance/v0.2` attestation, not a signature"),
            "{e}"
        );
    }

    #[test]
    fn tampering_with_any_part_is_refused_with_the_reason() {
        let whl = read(WHL);
        let name = format!("{WHL}.sigstore.json");
        let public = root("trusted_root.public-good.json");
        let check = |bundle: Vec<u8>, bytes: &[u8], why: &str| {
            let e = verify(&bundle, &Subject::of(bytes), &public).expect_err(why);
            assert!(e.contains(why), "{why}: {e}");
        };
        let mut other = whl.clone();
        other[100] ^= 1;
        check(read(&name), &other, "message digest differs");
        check(
            edited(&name, |v| {
                v["messageSignature"]
                    .as_object_mut()
                    .expect("fixture")
                    .remove("messageDigest");
            }),
            &other,
            "not the certificate's over the artifact",
        );
        let entry = "/verificationMaterial/tlogEntries/0";
        check(
            edited(&name, |v| {
                *v.pointer_mut(&format!("{entry}/integratedTime"))
                    .expect("fixture") = "1710888077".into();
            }),
            &whl,
            "not the log's signature",
        );
        check(
            edited(&name, |v| {
                *v.pointer_mut(&format!("{entry}/logIndex"))
                    .expect("fixture") = "1".into();
            }),
            &whl,
            "not the log's signature",
        );
        check(
            edited(&name, |v| {
                v.pointer_mut(entry)
                    .expect("fixture")
                    .as_object_mut()
                    .expect("fixture")
                    .remove("inclusionPromise");
            }),
            &whl,
            "no signed entry timestamp",
        );
        check(
            edited(&name, |v| {
                let h = v
                    .pointer_mut(&format!("{entry}/inclusionProof/hashes/0"))
                    .expect("fixture");
                *h = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=".into();
            }),
            &whl,
            "does not lead to the root hash",
        );
        check(
            edited(&name, |v| {
                let c = v
                    .pointer_mut(&format!("{entry}/inclusionProof/checkpoint/envelope"))
                    .expect("fixture");
                let text = c.as_str().expect("fixture").replacen(
                    "rekor.sigstore.dev",
                    "rekor.evil.dev",
                    1,
                );
                *c = text.into();
            }),
            &whl,
            "checkpoint is not signed by the log",
        );
        check(
            edited(&name, |v| {
                v["verificationMaterial"]["tlogEntries"] = serde_json::json!([]);
            }),
            &whl,
            "no transparency log entry",
        );
        // Another (real) certificate, with this bundle's log entry.
        let staging: serde_json::Value =
            serde_json::from_slice(&read("bundle_v3.txt.sigstore.json")).expect("fixture");
        check(
            edited(&name, |v| {
                v["verificationMaterial"]["x509CertificateChain"]["certificates"][0]["rawBytes"] =
                    staging["verificationMaterial"]["certificate"]["rawBytes"].clone();
            }),
            &whl,
            "does not chain",
        );
        check(b"{}".to_vec(), &whl, "not a Sigstore bundle");
        check(
            edited(&name, |v| v["mediaType"] = "application/json".into()),
            &whl,
            "not a Sigstore bundle",
        );
    }

    #[test]
    fn identities_match_whole_and_a_regex_cannot_leave_its_anchors() {
        let whl = read(WHL);
        let signed = verify(
            &read(&format!("{WHL}.sigstore.json")),
            &Subject::of(&whl),
            &root("trusted_root.public-good.json"),
        )
        .expect("verified");
        // Both ends are anchored.
        let tail = WORKFLOW.trim_start_matches("https://");
        for (re, matches) in [
            (
                r"https://github\.com/trailofbits/rfc8785\.py/\.github/workflows/release\.yml@refs/tags/v[0-9.]+",
                true,
            ),
            (tail, false),
            (&WORKFLOW[..WORKFLOW.len() - 1], false),
        ] {
            assert_eq!(
                Identity::regex(ACTIONS, re)
                    .expect("regex")
                    .matches(&signed),
                matches,
                "{re}"
            );
        }
        let e = Identity::regex(ACTIONS, "x)|(?:.*").expect_err("unbalanced");
        assert!(e.contains("is not a regular expression"), "{e}");
    }

    #[test]
    fn the_trusted_roots_windows_and_the_entrys_kind_are_held_to() {
        let whl = read(WHL);
        let name = format!("{WHL}.sigstore.json");
        let text = String::from_utf8(read("trusted_root.public-good.json")).expect("utf-8");
        let check = |root: serde_json::Value, bundle: Vec<u8>, why: &str| {
            let root = TrustedRoot::parse(Path::new("root.json"), &root.to_string()).expect("root");
            let e = verify(&bundle, &Subject::of(&whl), &root).expect_err(why);
            assert!(e.contains(why), "{why}: {e}");
        };
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        // The entry was logged at 2024-03-19T22:41:16Z.
        let mut ended = v.clone();
        ended["certificateAuthorities"][1]["validFor"]["end"] = "2024-03-19T22:41:15Z".into();
        check(ended, read(&name), "does not chain");
        let mut ended = v.clone();
        ended["tlogs"][0]["publicKey"]["validFor"]["end"] = "2024-03-19T22:41:15Z".into();
        check(ended, read(&name), "was not trusted at");
        // The entry's kind is not covered by the log's promise: a bundle
        // that calls a hashedrekord entry something else is refused.
        check(
            v.clone(),
            edited(&name, |b| {
                b["verificationMaterial"]["tlogEntries"][0]["kindVersion"]["kind"] = "dsse".into();
            }),
            "records another signature",
        );
        // A 0.2 bundle carries its inclusion proof and its checkpoint.
        check(
            v.clone(),
            edited(&name, |b| {
                let e = b["verificationMaterial"]["tlogEntries"][0]
                    .as_object_mut()
                    .expect("entry");
                e.remove("inclusionProof");
            }),
            "no inclusion proof",
        );
        check(
            v,
            edited(&name, |b| {
                let p = b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
                    .as_object_mut()
                    .expect("proof");
                p.remove("checkpoint");
            }),
            "no checkpoint",
        );
    }

    #[test]
    fn the_certificate_must_carry_an_sct_of_a_log_the_root_lists() {
        let whl = read(WHL);
        let bundle = read(&format!("{WHL}.sigstore.json"));
        let text = String::from_utf8(read("trusted_root.public-good.json")).expect("utf-8");
        let mut v: serde_json::Value = serde_json::from_str(&text).expect("json");
        // The certificate transparency log's key, swapped for the
        // transparency log's: the SCT no longer verifies.
        v["ctlogs"][1]["publicKey"]["rawBytes"] = v["tlogs"][0]["publicKey"]["rawBytes"].clone();
        let swapped = TrustedRoot::parse(Path::new("root.json"), &v.to_string()).expect("root");
        let e = verify(&bundle, &Subject::of(&whl), &swapped).expect_err("refused");
        assert!(e.contains("carries no SCT"), "{e}");
        // A root that lists no certificate transparency log asks for none.
        v["ctlogs"] = serde_json::json!([]);
        let none = TrustedRoot::parse(Path::new("root.json"), &v.to_string()).expect("root");
        verify(&bundle, &Subject::of(&whl), &none).expect("verified");
    }

    #[test]
    fn a_trusted_root_must_be_one() {
        let text = String::from_utf8(read("trusted_root.public-good.json")).expect("fixture");
        let p = Path::new("root.json");
        for (edit, why) in [
            (
                text.replace("\"tlogs\"", "\"tlogz\""),
                "no transparency log",
            ),
            (
                text.replacen("\"keyId\": \"wNI9", "\"keyId\": \"!NI9", 1),
                "logId not base64",
            ),
            (
                text.replacen("\"rawBytes\": \"MFkw", "\"rawBytes\": \"MFkx", 1),
                "tlogs[0]: ",
            ),
            (
                text.replacen("2021-01-12T11:53:27Z", "2021-01-12", 1),
                "not an RFC 3339",
            ),
            ("[]".to_string(), "not a Sigstore trusted root"),
        ] {
            let e = TrustedRoot::parse(p, &edit).expect_err(why);
            assert!(e.contains(why), "{why}: {e}");
        }
    }
}
