//! A Sigstore trusted root (`trusted_root.json`, media type
//! `application/vnd.dev.sigstore.trustedroot+json;version=0.1`): the
//! certificate authorities a signing certificate must chain to and the
//! transparency logs whose entries are believed, each for a time window.
//! `cosign trusted-root create` writes one; the public-good instance's is
//! published through its TUF repository (`sigstore/root-signing`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::x509::PublicKey;
use crate::policy::date::unix_seconds;

/// The largest trusted root read.
const MAX_BYTES: u64 = 1 << 20;

#[derive(Debug)]
pub struct TrustedRoot {
    /// The file it was read from, for messages.
    pub path: PathBuf,
    pub(super) cas: Vec<Ca>,
    pub(super) logs: Vec<Log>,
    /// Certificate transparency logs, whose SCTs a certificate must carry.
    pub(super) ctlogs: Vec<Log>,
}

/// A certificate authority: its chain (issuing certificate first, root
/// last) and when it issued.
#[derive(Debug)]
pub(super) struct Ca {
    pub chain: Vec<Vec<u8>>,
    pub valid: Window,
}

/// A transparency log: its key, the id its entries name it by, and when
/// it was trusted.
#[derive(Debug)]
pub(super) struct Log {
    pub id: Vec<u8>,
    pub key: PublicKey,
    pub valid: Window,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Window {
    start: i64,
    end: Option<i64>,
}

impl Window {
    pub fn contains(&self, t: i64) -> bool {
        t >= self.start && self.end.is_none_or(|end| t <= end)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    media_type: String,
    #[serde(default)]
    tlogs: Vec<RawLog>,
    #[serde(default)]
    ctlogs: Vec<RawLog>,
    #[serde(default)]
    certificate_authorities: Vec<RawCa>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLog {
    public_key: RawKey,
    log_id: RawLogId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawKey {
    raw_bytes: String,
    #[serde(default)]
    key_details: String,
    valid_for: RawWindow,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawLogId {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCa {
    cert_chain: RawChain,
    valid_for: RawWindow,
}

#[derive(Deserialize)]
pub(super) struct RawChain {
    pub certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawBytes {
    pub raw_bytes: String,
}

#[derive(Deserialize)]
struct RawWindow {
    start: String,
    end: Option<String>,
}

pub(super) fn base64(s: &str) -> Result<Vec<u8>, String> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|e| format!("not base64: {e}"))
}

impl TrustedRoot {
    pub fn read(path: &Path) -> Result<TrustedRoot, String> {
        let text = crate::files::read_to_string(path, MAX_BYTES)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        TrustedRoot::parse(path, &text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(path: &Path, text: &str) -> Result<TrustedRoot, String> {
        let raw: Raw =
            serde_json::from_str(text).map_err(|e| format!("not a Sigstore trusted root: {e}"))?;
        if !raw
            .media_type
            .starts_with("application/vnd.dev.sigstore.trustedroot")
        {
            return Err(format!(
                "not a Sigstore trusted root (mediaType `{}`)",
                raw.media_type
            ));
        }
        let window = |w: &RawWindow, what: &str| -> Result<Window, String> {
            let at = |s: &str| {
                unix_seconds(s).ok_or_else(|| format!("{what}: `{s}` is not an RFC 3339 UTC time"))
            };
            Ok(Window {
                start: at(&w.start)?,
                end: w.end.as_deref().map(at).transpose()?,
            })
        };
        let logs = |raw: &[RawLog], name: &str| -> Result<Vec<Log>, String> {
            let mut logs = Vec::new();
            for (i, l) in raw.iter().enumerate() {
                let what = format!("{name}[{i}]");
                let der = base64(&l.public_key.raw_bytes).map_err(|e| format!("{what}: {e}"))?;
                // `PKCS1_RSA_*` keys are PKCS #1, not SubjectPublicKeyInfo.
                let key = if l.public_key.key_details.starts_with("PKCS1_RSA") {
                    Ok(PublicKey::rsa(der))
                } else {
                    PublicKey::from_spki(&der)
                }
                .map_err(|e| format!("{what}: {e}"))?;
                let id = base64(&l.log_id.key_id).map_err(|e| format!("{what}: logId {e}"))?;
                logs.push(Log {
                    id,
                    key,
                    valid: window(&l.public_key.valid_for, &what)?,
                });
            }
            Ok(logs)
        };
        let (ctlogs, logs) = (logs(&raw.ctlogs, "ctlogs")?, logs(&raw.tlogs, "tlogs")?);
        let mut cas = Vec::new();
        for (i, c) in raw.certificate_authorities.iter().enumerate() {
            let what = format!("certificateAuthorities[{i}]");
            let chain = c
                .cert_chain
                .certificates
                .iter()
                .map(|c| base64(&c.raw_bytes))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| format!("{what}: {e}"))?;
            if chain.is_empty() {
                return Err(format!("{what}: no certificates"));
            }
            cas.push(Ca {
                chain,
                valid: window(&c.valid_for, &what)?,
            });
        }
        if cas.is_empty() || logs.is_empty() {
            return Err(
                "names no certificate authority or no transparency log: keyless signatures cannot be checked against it"
                    .into(),
            );
        }
        Ok(TrustedRoot {
            path: path.to_path_buf(),
            cas,
            logs,
            ctlogs,
        })
    }
}
