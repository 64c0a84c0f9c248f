//! The few parts of an X.509 certificate keyless verification reads after
//! the chain is verified: the subject public key, the identity (subject
//! alternative name) and the OIDC issuer Fulcio writes in its own
//! extensions. A small DER reader, bounded by the input, that refuses what
//! it does not understand rather than guessing.

/// `2.5.29.17` subjectAltName.
const SAN: &[u8] = &[0x55, 0x1d, 0x11];
/// `1.3.6.1.4.1.57264.1.8`: the OIDC issuer, a DER UTF8String.
const ISSUER_V2: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x08];
/// `1.3.6.1.4.1.57264.1.1`: the OIDC issuer as raw bytes (older certificates).
const ISSUER_V1: &[u8] = &[0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xbf, 0x30, 0x01, 0x01];
/// `1.2.840.10045.2.1` id-ecPublicKey.
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// `1.2.840.10045.3.1.7` prime256v1.
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// `1.3.132.0.34` secp384r1.
const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
/// `1.2.840.113549.1.1.1` rsaEncryption.
const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
/// `1.3.101.112` Ed25519.
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];

/// One DER element at a time.
pub struct Der<'a>(pub &'a [u8]);

impl<'a> Der<'a> {
    /// The next element's tag and contents, or `None` at the end or on a
    /// malformed (or indefinite, or over 4 GiB) length.
    pub fn read(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.0.split_first()?;
        if tag & 0x1f == 0x1f {
            return None; // multi-byte tags appear nowhere here
        }
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = if first < 0x80 {
            (first as usize, rest)
        } else {
            let n = (first & 0x7f) as usize;
            if n == 0 || n > 4 || rest.len() < n {
                return None;
            }
            let len = rest[..n].iter().fold(0usize, |a, &b| (a << 8) | b as usize);
            (len, &rest[n..])
        };
        if rest.len() < len {
            return None;
        }
        let (value, rest) = rest.split_at(len);
        self.0 = rest;
        Some((tag, value))
    }

    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        match self.read()? {
            (t, v) if t == tag => Some(v),
            _ => None,
        }
    }

    /// The next element whole (tag, length and contents).
    pub fn read_raw(&mut self) -> Option<&'a [u8]> {
        let before = self.0;
        self.read()?;
        Some(&before[..before.len() - self.0.len()])
    }
}

/// A public key ring can verify with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    kind: KeyKind,
    /// The key as ring takes it: the bit string's contents.
    bytes: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    P256,
    P384,
    Rsa,
    Ed25519,
}

impl PublicKey {
    /// A DER PKCS #1 RSAPublicKey.
    pub fn rsa(der: Vec<u8>) -> PublicKey {
        PublicKey {
            kind: KeyKind::Rsa,
            bytes: der,
        }
    }

    /// A DER SubjectPublicKeyInfo.
    pub fn from_spki(spki: &[u8]) -> Result<PublicKey, String> {
        let mut outer = Der(spki);
        let body = outer
            .expect(0x30)
            .filter(|_| outer.0.is_empty())
            .ok_or("not a DER SubjectPublicKeyInfo")?;
        let mut body = Der(body);
        let mut alg = Der(body.expect(0x30).ok_or("no key algorithm")?);
        let oid = alg.expect(0x06).ok_or("no key algorithm")?;
        let key = body.expect(0x03).ok_or("no key bits")?;
        let key = match key.split_first() {
            Some((0, bits)) => bits.to_vec(),
            _ => return Err("key bits with unused bits".into()),
        };
        let kind = match oid {
            EC_PUBLIC_KEY => match alg.expect(0x06) {
                Some(P256) => KeyKind::P256,
                Some(P384) => KeyKind::P384,
                _ => return Err("an elliptic curve other than P-256 or P-384".into()),
            },
            RSA => KeyKind::Rsa,
            ED25519 => KeyKind::Ed25519,
            _ => return Err("a key algorithm other than ECDSA, RSA or Ed25519".into()),
        };
        Ok(PublicKey { kind, bytes: key })
    }

    /// Whether `signature` is this key's over `message`, with the hash
    /// Sigstore pairs with the key (SHA-256 for P-256 and RSA, SHA-384 for
    /// P-384; RSA signatures are PKCS #1 v1.5).
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        use ring::signature as s;
        let alg: &dyn s::VerificationAlgorithm = match self.kind {
            KeyKind::P256 => &s::ECDSA_P256_SHA256_ASN1,
            KeyKind::P384 => &s::ECDSA_P384_SHA384_ASN1,
            KeyKind::Rsa => &s::RSA_PKCS1_2048_8192_SHA256,
            KeyKind::Ed25519 => &s::ED25519,
        };
        s::UnparsedPublicKey::new(alg, &self.bytes)
            .verify(message, signature)
            .is_ok()
    }
}

/// What a verified leaf certificate says.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub key: PublicKey,
    /// Subject alternative names: e-mail addresses and URIs.
    pub identities: Vec<String>,
    pub issuer: Option<String>,
}

/// A DER element: `tag`, the length, `content`.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let len = content.len();
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// The TBSCertificate of certificate `der` with the extension `oid` taken
/// out (re-encoded), and that extension's value (its OCTET STRING's
/// contents) when it had it: what a precertificate's SCT signs.
pub(crate) fn tbs_without<'a>(der: &'a [u8], oid: &[u8]) -> Option<(Vec<u8>, Option<&'a [u8]>)> {
    let cert = Der(der).expect(0x30)?;
    let mut fields = Der(Der(cert).expect(0x30)?);
    let (mut out, mut found) = (Vec::new(), None);
    while !fields.0.is_empty() {
        let raw = fields.read_raw()?;
        let (tag, content) = Der(raw).read()?;
        if tag != 0xa3 {
            out.extend_from_slice(raw);
            continue;
        }
        let mut exts = Der(Der(content).expect(0x30)?);
        let mut kept = Vec::new();
        while !exts.0.is_empty() {
            let ext_raw = exts.read_raw()?;
            let mut ext = Der(Der(ext_raw).expect(0x30)?);
            if ext.expect(0x06)? != oid {
                kept.extend_from_slice(ext_raw);
                continue;
            }
            let mut value = ext.read()?;
            if value.0 == 0x01 {
                value = ext.read()?;
            }
            found = Some(value).filter(|v| v.0 == 0x04).map(|v| v.1);
            found?;
        }
        // An extensions block left empty is left out.
        if !kept.is_empty() {
            out.extend(encode(0xa3, &encode(0x30, &kept)));
        }
    }
    Some((encode(0x30, &out), found))
}

/// The DER SubjectPublicKeyInfo of certificate `der`.
pub(crate) fn spki(der: &[u8]) -> Option<&[u8]> {
    let mut tbs = Der(Der(Der(der).expect(0x30)?).expect(0x30)?);
    let mut field = tbs.read()?;
    if field.0 == 0xa0 {
        field = tbs.read()?;
    }
    if field.0 != 0x02 {
        return None;
    }
    for _ in 0..4 {
        tbs.expect(0x30)?;
    }
    tbs.read_raw()
}

/// Read `der`, a certificate, for its key, identities and OIDC issuer.
pub fn leaf(der: &[u8]) -> Result<Leaf, String> {
    let bad = |what: &str| format!("the certificate is not one: {what}");
    let mut outer = Der(der);
    let cert = outer.expect(0x30).ok_or_else(|| bad("no sequence"))?;
    let tbs = Der(cert)
        .expect(0x30)
        .ok_or_else(|| bad("no tbsCertificate"))?;
    let mut tbs = Der(tbs);
    let mut field = tbs.read().ok_or_else(|| bad("empty"))?;
    if field.0 == 0xa0 {
        field = tbs.read().ok_or_else(|| bad("no serial"))?; // version, then serial
    }
    if field.0 != 0x02 {
        return Err(bad("no serial"));
    }
    for what in ["signature algorithm", "issuer", "validity", "subject"] {
        tbs.expect(0x30).ok_or_else(|| bad(what))?;
    }
    let spki = tbs.read_raw().ok_or_else(|| bad("no public key"))?;
    let key = PublicKey::from_spki(spki).map_err(|e| format!("the certificate's key: {e}"))?;
    let mut identities = Vec::new();
    let (mut v2, mut v1) = (None, None);
    while let Some((tag, value)) = tbs.read() {
        if tag != 0xa3 {
            continue; // issuer or subject unique ID
        }
        let mut exts = Der(Der(value).expect(0x30).ok_or_else(|| bad("extensions"))?);
        while let Some((tag, ext)) = exts.read() {
            if tag != 0x30 {
                return Err(bad("an extension"));
            }
            let mut ext = Der(ext);
            let oid = ext.expect(0x06).ok_or_else(|| bad("an extension"))?;
            let mut value = ext.read().ok_or_else(|| bad("an extension"))?;
            if value.0 == 0x01 {
                value = ext.read().ok_or_else(|| bad("an extension"))?; // critical
            }
            if value.0 != 0x04 {
                return Err(bad("an extension's value"));
            }
            match oid {
                SAN => identities = alt_names(value.1).ok_or_else(|| bad("subjectAltName"))?,
                ISSUER_V2 => {
                    let s = Der(value.1)
                        .expect(0x0c)
                        .ok_or_else(|| bad("OIDC issuer"))?;
                    v2 = Some(String::from_utf8(s.to_vec()).map_err(|_| bad("OIDC issuer"))?);
                }
                ISSUER_V1 => v1 = String::from_utf8(value.1.to_vec()).ok(),
                _ => {}
            }
        }
    }
    if let (Some(a), Some(b)) = (&v2, &v1)
        && a != b
    {
        return Err("the certificate names two different OIDC issuers".into());
    }
    Ok(Leaf {
        key,
        identities,
        issuer: v2.or(v1),
    })
}

/// The e-mail addresses (`[1]`) and URIs (`[6]`) of GeneralNames.
fn alt_names(value: &[u8]) -> Option<Vec<String>> {
    let mut names = Der(Der(value).expect(0x30)?);
    let mut out = Vec::new();
    while let Some((tag, name)) = names.read() {
        if tag == 0x81 || tag == 0x86 {
            out.push(String::from_utf8(name.to_vec()).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_bounded_by_the_input() {
        assert_eq!(Der(&[0x30, 0x03, 1, 2]).read(), None);
        assert_eq!(Der(&[0x30, 0x80]).read(), None, "indefinite");
        assert_eq!(Der(&[0x30, 0x85, 0, 0, 0, 0, 1]).read(), None);
        assert_eq!(Der(&[0x1f, 0x01, 0]).read(), None);
        let mut d = Der(&[0x04, 0x81, 0x01, 7, 0x05, 0x00]);
        assert_eq!(d.read(), Some((0x04, &[7u8][..])));
        assert_eq!(d.read(), Some((0x05, &[][..])));
        assert_eq!(d.read(), None);
    }

    #[test]
    fn truncated_certificates_are_refused_without_panicking() {
        use base64::Engine;
        let bundle: serde_json::Value = serde_json::from_str(include_str!(
            "../../../../tests/fixtures/sigstore/bundle_v3.txt.sigstore.json"
        ))
        .expect("fixture");
        let raw = bundle["verificationMaterial"]["certificate"]["rawBytes"]
            .as_str()
            .expect("fixture");
        let der = base64::engine::general_purpose::STANDARD
            .decode(raw)
            .expect("fixture");
        let whole = leaf(&der).expect("a Fulcio certificate");
        assert_eq!(whole.identities, ["william@yossarian.net"]);
        assert_eq!(
            whole.issuer.as_deref(),
            Some("https://github.com/login/oauth")
        );
        for cut in 0..der.len() {
            assert!(leaf(&der[..cut]).is_err(), "cut at {cut}");
            let _ = tbs_without(&der[..cut], &[0x55, 0x1d, 0x11]);
            let _ = spki(&der[..cut]);
        }
        // Taking nothing out gives the TBSCertificate back as it was.
        let tbs = Der(Der(&der).expect(0x30).expect("cert"))
            .read_raw()
            .expect("tbs")
            .to_vec();
        let (same, none) = tbs_without(&der, &[0x01]).expect("re-encoded");
        assert_eq!((same, none), (tbs.clone(), None));
        let (without, san) = tbs_without(&der, SAN).expect("re-encoded");
        assert!(san.is_some() && without.len() < tbs.len());
        // Every byte changed to a length-like value: read or refused,
        // never a panic or a read past the end.
        for i in 0..der.len() {
            for b in [0x00, 0x7f, 0x80, 0x81, 0x84, 0xff] {
                let mut bent = der.clone();
                bent[i] = b;
                let _ = leaf(&bent);
                let _ = tbs_without(&bent, SAN);
                let _ = spki(&bent);
            }
        }
    }
}
