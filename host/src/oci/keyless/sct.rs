//! The signing certificate's embedded SCTs (RFC 6962): a certificate
//! transparency log's signed promise to publish the certificate, checked
//! against the logs the trusted root lists (`ctlogs`), as cosign does by
//! default. A certificate authority cannot then issue a certificate for an
//! identity without it becoming public. A trusted root that lists no
//! certificate transparency log asks for none.

use super::trust::TrustedRoot;
use super::x509;

/// `1.3.6.1.4.1.11129.2.4.2`: the embedded SCT list.
const SCT_LIST: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02];
/// The most SCTs in a certificate that are tried.
const MAX_SCTS: usize = 16;

/// A TLS-encoding reader: big-endian integers and length-prefixed bytes.
struct Tls<'a>(&'a [u8]);

impl<'a> Tls<'a> {
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (b, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(b)
    }

    fn uint(&mut self, n: usize) -> Option<u64> {
        Some(
            self.bytes(n)?
                .iter()
                .fold(0, |a, &b| (a << 8) | u64::from(b)),
        )
    }

    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.uint(2)? as usize;
        self.bytes(n)
    }
}

/// One SCT as the certificate carries it.
struct Sct<'a> {
    log_id: &'a [u8],
    /// Milliseconds since the epoch.
    timestamp: u64,
    extensions: &'a [u8],
    signature: &'a [u8],
}

fn parse(bytes: &[u8]) -> Option<Sct<'_>> {
    let mut t = Tls(bytes);
    if t.uint(1)? != 0 {
        return None; // v1 only
    }
    let log_id = t.bytes(32)?;
    let timestamp = t.uint(8)?;
    let extensions = t.vec16()?;
    let _hash_and_signature_algorithms = t.bytes(2)?;
    let signature = t.vec16()?;
    t.0.is_empty().then_some(Sct {
        log_id,
        timestamp,
        extensions,
        signature,
    })
}

/// Check that `leaf` carries an SCT of a log `root` lists, signed over its
/// precertificate as issued by one of `root`'s certificate authorities
/// trusted at `time`.
pub(super) fn verify(leaf: &[u8], root: &TrustedRoot, time: i64) -> Result<(), String> {
    if root.ctlogs.is_empty() {
        return Ok(());
    }
    let (tbs, list) =
        x509::tbs_without(leaf, SCT_LIST).ok_or("its certificate cannot be read for its SCTs")?;
    let missing = || {
        format!(
            "its certificate carries no SCT (a certificate transparency log's signed promise to publish it) from a log {} lists",
            root.path.display()
        )
    };
    let list = list.ok_or_else(missing)?;
    let list = x509::Der(list)
        .read()
        .filter(|(tag, _)| *tag == 0x04)
        .map(|(_, v)| v)
        .ok_or("its certificate's SCT list is not one")?;
    let mut list = Tls(list);
    let mut entries = Tls(list
        .vec16()
        .ok_or("its certificate's SCT list is not one")?);
    // The issuer's key hash: of whichever authority issued the leaf.
    let issuer_hashes: Vec<Vec<u8>> = root
        .cas
        .iter()
        .filter(|c| c.valid.contains(time))
        .flat_map(|c| &c.chain)
        .filter_map(|c| x509::spki(c))
        .map(|k| {
            ring::digest::digest(&ring::digest::SHA256, k)
                .as_ref()
                .to_vec()
        })
        .collect();
    let tbs_len = u32::try_from(tbs.len())
        .ok()
        .filter(|&n| n < 1 << 24)
        .ok_or("its certificate is too large")?
        .to_be_bytes();
    for _ in 0..MAX_SCTS {
        let Some(sct) = entries.vec16().and_then(parse) else {
            break;
        };
        let Some(log) = root.ctlogs.iter().find(|l| l.id == sct.log_id) else {
            continue;
        };
        let secs = i64::try_from(sct.timestamp / 1000).unwrap_or(i64::MAX);
        if !log.valid.contains(secs) {
            continue;
        }
        for issuer in &issuer_hashes {
            let mut signed = vec![0u8, 0u8]; // v1, certificate_timestamp
            signed.extend_from_slice(&sct.timestamp.to_be_bytes());
            signed.extend_from_slice(&[0, 1]); // precert_entry
            signed.extend_from_slice(issuer);
            signed.extend_from_slice(&tbs_len[1..]);
            signed.extend_from_slice(&tbs);
            signed.extend_from_slice(&(sct.extensions.len() as u16).to_be_bytes());
            signed.extend_from_slice(sct.extensions);
            if log.key.verifies(&signed, sct.signature) {
                return Ok(());
            }
        }
    }
    Err(missing())
}
