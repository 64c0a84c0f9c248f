//! Keyless signatures: Sigstore bundles attached to OCI sources as
//! referrers (cosign's layout, through the referrers tag of a registry
//! without the referrers API), checked against a trusted root, and
//! `portcullis verify` on real bundles from the public-good instance.
//!
//! The registry tests need bundles for content pushed here, so they stand
//! up their own Sigstore: a certificate authority, a transparency log key
//! and a certificate transparency log key made by openssl, described in a
//! trusted root, signing as Fulcio, Rekor and the CT log do.

use std::path::{Path, PathBuf};

use base64::Engine;

use portcullis::oci::keyless::x509::{Der, encode as der};

use crate::common::Repo;
use crate::registry::{
    Registry, env, key_pair, no_docker_config, openssl, path, pinned, plugin_file, put_manifest,
    repo_with_secret, sign, upload_blob,
};

const ACTIONS: &str = "https://token.actions.githubusercontent.com";
const RELEASE: &str =
    "https://github.com/org/policies/.github/workflows/release.yml@refs/heads/main";
const OTHER: &str = "https://github.com/someone/fork/.github/workflows/release.yml@refs/heads/main";
const IN_TOTO: &str = "application/vnd.in-toto+json";
/// cosign's formats, written out here as cosign writes them.
const BUNDLE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
const SIGN: &str = "https://sigstore.dev/cosign/sign/v1";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A Sigstore of its own: a root and an intermediate certificate
/// authority (P-384, as Fulcio's), a log key (P-256, as Rekor's), and the
/// trusted root naming them.
struct Pki {
    dir: PathBuf,
    root: PathBuf,
    log_key: PathBuf,
    /// The certificate transparency log's key and id.
    ct_key: PathBuf,
    ct_id: Vec<u8>,
    log_id: Vec<u8>,
}

/// What a bundle signs.
enum Signing<'a> {
    /// An in-toto statement of `predicate` naming `digest`, in a DSSE
    /// envelope (what `cosign sign` writes).
    Statement { digest: &'a str, predicate: &'a str },
    /// These bytes themselves (a message signature).
    Message(&'a [u8]),
}

/// A signing certificate and its key.
struct Leaf {
    key: PathBuf,
    der: Vec<u8>,
    pem: Vec<u8>,
}

impl Pki {
    fn new(dir: &Path) -> Pki {
        std::fs::create_dir_all(dir).expect("mkdir");
        let f = |n: &str| dir.join(n);
        std::fs::write(
            f("ext.cnf"),
            "[root]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n\
             [inter]\nbasicConstraints = critical,CA:TRUE,pathlen:0\nkeyUsage = critical,keyCertSign,cRLSign\nextendedKeyUsage = codeSigning\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n",
        )
        .expect("ext");
        for (name, subject) in [
            ("root", "/O=test/CN=test-root"),
            ("inter", "/O=test/CN=test-intermediate"),
        ] {
            let (key, csr) = (f(&format!("{name}.key")), f(&format!("{name}.csr")));
            key_and_request(&key, "secp384r1", subject, &csr);
        }
        // The logs' keys are P-256, as cosign's are.
        key_pair(dir, "log");
        key_pair(dir, "ct");
        let (ext, root_key) = (f("ext.cnf"), f("root.key"));
        issue(
            &f("root.csr"),
            &["-signkey", path(&root_key)],
            "1",
            "3650",
            (&ext, "root"),
            &f("root.pem"),
        );
        let root_pem = f("root.pem");
        issue(
            &f("inter.csr"),
            &["-CA", path(&root_pem), "-CAkey", path(&root_key)],
            "2",
            "3650",
            (&ext, "inter"),
            &f("inter.pem"),
        );
        let der = |pem: &str| openssl(&["x509", "-in", path(&f(pem)), "-outform", "DER"]);
        // A log (Rekor's or the CT log's): its id (the SHA-256 of its
        // public key) and its trusted-root entry.
        let log = |key: &str, url: &str| {
            let spki = openssl(&["ec", "-in", path(&f(key)), "-pubout", "-outform", "DER"]);
            let id = ring::digest::digest(&ring::digest::SHA256, &spki)
                .as_ref()
                .to_vec();
            let entry = serde_json::json!({
                "baseUrl": url,
                "hashAlgorithm": "SHA2_256",
                "publicKey": {
                    "rawBytes": b64(&spki),
                    "keyDetails": "PKIX_ECDSA_P256_SHA_256",
                    "validFor": { "start": "2020-01-01T00:00:00Z" }
                },
                "logId": { "keyId": b64(&id) }
            });
            (id, entry)
        };
        let (log_id, tlog) = log("log.key", "https://rekor.test");
        let (ct_id, ctlog) = log("ct.key", "https://ctfe.test");
        let root = serde_json::json!({
            "mediaType": "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
            "tlogs": [tlog],
            "ctlogs": [ctlog],
            "certificateAuthorities": [{
                "subject": { "organization": "test", "commonName": "test" },
                "uri": "https://fulcio.test",
                "certChain": { "certificates": [
                    { "rawBytes": b64(&der("inter.pem")) },
                    { "rawBytes": b64(&der("root.pem")) }
                ]},
                "validFor": { "start": "2020-01-01T00:00:00Z" }
            }]
        });
        std::fs::write(f("trusted_root.json"), root.to_string()).expect("root");
        Pki {
            dir: dir.to_path_buf(),
            root: f("trusted_root.json"),
            log_key: f("log.key"),
            log_id,
            ct_key: f("ct.key"),
            ct_id,
        }
    }

    /// A certificate as Fulcio issues one for a workflow: code signing,
    /// the identity as its URI, the issuer in Fulcio's extension, and the
    /// certificate transparency log's SCT.
    fn leaf(&self, name: &str, identity: &str, issuer: &str) -> Leaf {
        let leaf = self.leaf_without_sct(name, identity, issuer);
        self.with_sct(&leaf)
    }

    /// Embed an SCT in `leaf` as a CT log and Fulcio do: the log signs the
    /// precertificate (the TBSCertificate without the SCT list, with the
    /// issuer's key hash), and the authority signs the certificate that
    /// carries the list.
    fn with_sct(&self, leaf: &Leaf) -> Leaf {
        let (_, cert) = Der(&leaf.der).read().expect("certificate");
        let mut fields = Der(cert);
        let tbs_whole = fields.read_raw().expect("tbs");
        let sig_alg = fields.read_raw().expect("signature algorithm");
        let inter = openssl(&[
            "x509",
            "-in",
            path(&self.dir.join("inter.pem")),
            "-pubkey",
            "-noout",
        ]);
        let inter_spki = pem_body(&inter);
        let issuer_hash = ring::digest::digest(&ring::digest::SHA256, &inter_spki);
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as u64;
        let mut signed = vec![0u8, 0u8];
        signed.extend(timestamp.to_be_bytes());
        signed.extend([0, 1]);
        signed.extend(issuer_hash.as_ref());
        signed.extend(&(tbs_whole.len() as u32).to_be_bytes()[1..]);
        signed.extend(tbs_whole);
        signed.extend([0, 0]);
        let sig = self.sign(&self.ct_key, &signed);
        let mut sct = vec![0u8];
        sct.extend(&self.ct_id);
        sct.extend(timestamp.to_be_bytes());
        sct.extend([0, 0, 4, 3]);
        sct.extend((sig.len() as u16).to_be_bytes());
        sct.extend(&sig);
        let mut list = ((sct.len() + 2) as u16).to_be_bytes().to_vec();
        list.extend((sct.len() as u16).to_be_bytes());
        list.extend(&sct);
        // 1.3.6.1.4.1.11129.2.4.2, its value an OCTET STRING of the list.
        let oid = [0x2b, 0x06, 0x01, 0x04, 0x01, 0xd6, 0x79, 0x02, 0x04, 0x02];
        let mut ext = der(0x06, &oid);
        ext.extend(der(0x04, &der(0x04, &list)));
        let ext = der(0x30, &ext);
        // The TBSCertificate again, with the extension added last.
        let (_, tbs) = Der(tbs_whole).read().expect("tbs");
        let mut fields = Vec::new();
        let mut rest = Der(tbs);
        while let Some(field) = rest.read_raw() {
            let (tag, content) = Der(field).read().expect("field");
            if tag == 0xa3 {
                let (_, exts) = Der(content).read().expect("extensions");
                let mut exts = exts.to_vec();
                exts.extend(&ext);
                fields.extend(der(0xa3, &der(0x30, &exts)));
            } else {
                fields.extend(field);
            }
        }
        let tbs = der(0x30, &fields);
        let cert_sig = self.sign(&self.dir.join("inter.key"), &tbs);
        let mut bits = vec![0u8];
        bits.extend(cert_sig);
        let mut body = tbs;
        body.extend(sig_alg);
        body.extend(der(0x03, &bits));
        let der_cert = der(0x30, &body);
        let pem = format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            b64(&der_cert)
        );
        Leaf {
            key: leaf.key.clone(),
            der: der_cert,
            pem: pem.into_bytes(),
        }
    }

    fn leaf_without_sct(&self, name: &str, identity: &str, issuer: &str) -> Leaf {
        let f = |n: &str| self.dir.join(format!("{name}.{n}"));
        std::fs::write(
            f("cnf"),
            format!(
                "[leaf]\nkeyUsage = critical,digitalSignature\nextendedKeyUsage = codeSigning\nsubjectAltName = critical,URI:{identity}\n1.3.6.1.4.1.57264.1.8 = ASN1:UTF8String:{issuer}\nauthorityKeyIdentifier = keyid\n"
            ),
        )
        .expect("cnf");
        key_and_request(&f("key"), "prime256v1", "/O=sigstore.dev", &f("csr"));
        let (inter, inter_key) = (self.dir.join("inter.pem"), self.dir.join("inter.key"));
        issue(
            &f("csr"),
            &["-CA", path(&inter), "-CAkey", path(&inter_key)],
            "3",
            "1",
            (&f("cnf"), "leaf"),
            &f("pem"),
        );
        Leaf {
            key: f("key"),
            der: openssl(&["x509", "-in", path(&f("pem")), "-outform", "DER"]),
            pem: std::fs::read(f("pem")).expect("pem"),
        }
    }

    fn sign(&self, key: &Path, message: &[u8]) -> Vec<u8> {
        sign(&self.dir, key, message)
    }

    /// The bundle `cosign sign` attaches for `leaf` signing `digest`: a
    /// DSSE envelope around an in-toto statement naming it, logged as a
    /// `dsse` entry with a signed entry timestamp and an inclusion proof.
    fn bundle(&self, leaf: &Leaf, digest: &str) -> Vec<u8> {
        self.bundle_with(
            leaf,
            Signing::Statement {
                digest,
                predicate: SIGN,
            },
            leaf,
        )
    }

    /// A bundle of `leaf` signing `what`, whose log entry records
    /// `logged`'s certificate (`leaf`'s, unless the test says otherwise).
    fn bundle_with(&self, leaf: &Leaf, what: Signing<'_>, logged: &Leaf) -> Vec<u8> {
        let (kind, body, content) = match what {
            Signing::Statement { digest, predicate } => {
                let (statement, sig) = signed_statement(&self.dir, &leaf.key, digest, predicate);
                let body = serde_json::json!({
                    "apiVersion": "0.0.1",
                    "kind": "dsse",
                    "spec": {
                        "payloadHash": { "algorithm": "sha256", "value": portcullis::digest::sha256_hex(statement.as_bytes()) },
                        "signatures": [{ "signature": b64(&sig), "verifier": b64(&logged.pem) }]
                    }
                });
                let content = (
                    "dsseEnvelope",
                    serde_json::json!({
                        "payload": b64(statement.as_bytes()),
                        "payloadType": IN_TOTO,
                        "signatures": [{ "sig": b64(&sig), "keyid": "" }]
                    }),
                );
                ("dsse", body, content)
            }
            Signing::Message(bytes) => {
                let sig = self.sign(&leaf.key, bytes);
                let sha = ring::digest::digest(&ring::digest::SHA256, bytes);
                let body = serde_json::json!({
                    "apiVersion": "0.0.1",
                    "kind": "hashedrekord",
                    "spec": {
                        "data": { "hash": { "algorithm": "sha256", "value": portcullis::digest::hex(sha.as_ref()) } },
                        "signature": { "content": b64(&sig), "publicKey": { "content": b64(&logged.pem) } }
                    }
                });
                let content = (
                    "messageSignature",
                    serde_json::json!({
                        "messageDigest": { "algorithm": "SHA2_256", "digest": b64(sha.as_ref()) },
                        "signature": b64(&sig)
                    }),
                );
                ("hashedrekord", body, content)
            }
        };
        let body = b64(body.to_string().as_bytes());
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let set = serde_json::json!({
            "body": body,
            "integratedTime": time,
            "logID": portcullis::digest::hex(&self.log_id),
            "logIndex": 7,
        });
        let set_sig = self.sign(&self.log_key, set.to_string().as_bytes());
        let mut leaf_hash = ring::digest::Context::new(&ring::digest::SHA256);
        leaf_hash.update(&[0]);
        leaf_hash.update(
            &base64::engine::general_purpose::STANDARD
                .decode(&body)
                .expect("b64"),
        );
        let root_hash = b64(leaf_hash.finish().as_ref());
        let note = format!("rekor.test - 1\n1\n{root_hash}\n");
        let mut note_sig = self.log_id[..4].to_vec();
        note_sig.extend(self.sign(&self.log_key, note.as_bytes()));
        let mut bundle = serde_json::json!({
            "mediaType": BUNDLE,
            "verificationMaterial": {
                "certificate": { "rawBytes": b64(&leaf.der) },
                "tlogEntries": [{
                    "logIndex": "7",
                    "logId": { "keyId": b64(&self.log_id) },
                    "kindVersion": { "kind": kind, "version": "0.0.1" },
                    "integratedTime": time.to_string(),
                    "inclusionPromise": { "signedEntryTimestamp": b64(&set_sig) },
                    "inclusionProof": {
                        "logIndex": "0",
                        "rootHash": root_hash,
                        "treeSize": "1",
                        "hashes": [],
                        "checkpoint": { "envelope": format!("{note}\n\u{2014} rekor.test {}\n", b64(&note_sig)) }
                    },
                    "canonicalizedBody": body
                }]
            }
        });
        bundle[content.0] = content.1;
        bundle.to_string().into_bytes()
    }
}

/// A new ECDSA key on `curve` at `key`, and a certificate request for
/// `subject` at `csr`.
fn key_and_request(key: &Path, curve: &str, subject: &str, csr: &Path) {
    openssl(&[
        "ecparam",
        "-genkey",
        "-name",
        curve,
        "-noout",
        "-out",
        path(key),
    ]);
    openssl(&[
        "req",
        "-new",
        "-key",
        path(key),
        "-subj",
        subject,
        "-out",
        path(csr),
    ]);
}

/// The certificate `out` for the request `csr`, signed as `signer` says
/// (openssl's `-signkey KEY`, or `-CA PEM -CAkey KEY`), with `serial`, for
/// `days`, with the extensions of a section of a config file.
fn issue(csr: &Path, signer: &[&str], serial: &str, days: &str, ext: (&Path, &str), out: &Path) {
    let mut args = vec!["x509", "-req", "-in", path(csr)];
    args.extend(signer);
    args.extend([
        "-days",
        days,
        "-set_serial",
        serial,
        "-extfile",
        path(ext.0),
    ]);
    args.extend(["-extensions", ext.1, "-out", path(out)]);
    openssl(&args);
}

/// The DER inside a PEM block.
fn pem_body(pem: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(pem);
    let b: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD
        .decode(b.trim())
        .expect("pem")
}

/// An in-toto statement of `predicate` naming `digest`, and `key`'s
/// signature of its DSSE envelope: (payload, signature).
fn signed_statement(dir: &Path, key: &Path, digest: &str, predicate: &str) -> (String, Vec<u8>) {
    let hex = digest.strip_prefix("sha256:").expect("digest");
    let statement = format!(
        r#"{{"_type":"https://in-toto.io/Statement/v1","subject":[{{"name":"plugin","digest":{{"sha256":"{hex}"}}}}],"predicateType":"{predicate}","predicate":{{}}}}"#
    );
    let pae = format!(
        "DSSEv1 {} {IN_TOTO} {} {statement}",
        IN_TOTO.len(),
        statement.len()
    );
    let sig = sign(dir, key, pae.as_bytes());
    (statement, sig)
}

/// The bundle `cosign sign --key` attaches from cosign 3 on: the
/// envelope, with a public key hint where a certificate would be.
fn keyed_bundle(dir: &Path, key: &Path, digest: &str) -> Vec<u8> {
    let (statement, sig) = signed_statement(dir, key, digest, SIGN);
    serde_json::json!({
        "mediaType": BUNDLE,
        "verificationMaterial": { "publicKey": { "hint": "" }, "tlogEntries": [] },
        "dsseEnvelope": {
            "payload": b64(statement.as_bytes()),
            "payloadType": IN_TOTO,
            "signatures": [{ "sig": b64(&sig), "keyid": "" }]
        }
    })
    .to_string()
    .into_bytes()
}

/// The bundle `cosign sign-blob --key --bundle` writes: a message
/// signature of `bytes`, with a public key hint.
fn keyed_message_bundle(dir: &Path, key: &Path, bytes: &[u8]) -> Vec<u8> {
    let sig = sign(dir, key, bytes);
    let sha = ring::digest::digest(&ring::digest::SHA256, bytes);
    serde_json::json!({
        "mediaType": BUNDLE,
        "verificationMaterial": { "publicKey": { "hint": "" }, "tlogEntries": [] },
        "messageSignature": {
            "messageDigest": { "algorithm": "SHA2_256", "digest": b64(sha.as_ref()) },
            "signature": b64(&sig)
        }
    })
    .to_string()
    .into_bytes()
}

/// Push the built-in plugin `name` as `team/<name>:1`: its pinned
/// reference and its digest.
fn push(
    registry: &Registry,
    pusher: &Repo,
    work: &Path,
    docker: &[(String, String)],
    name: &str,
) -> (String, String) {
    let source = pinned(&pusher.run_env(
        &[
            "push",
            path(&plugin_file(work, name)),
            &registry.oci(&format!("team/{name}:1")),
        ],
        &env(docker),
    ));
    let digest = source.split('@').nth(1).expect("digest").to_string();
    (source, digest)
}

/// The manifest `digest` of `repo`, as the registry serves it.
fn manifest_of(registry: &Registry, repo: &str, digest: &str) -> Vec<u8> {
    ureq::get(format!(
        "http://{}/v2/{repo}/manifests/{digest}",
        registry.host
    ))
    .header("Accept", MANIFEST)
    .call()
    .expect("manifest")
    .body_mut()
    .read_to_vec()
    .expect("bytes")
}

/// Attach `bundle` to `digest` in `repo` as cosign does on a registry
/// without the referrers API: the bundle as a blob, a manifest whose
/// subject is `digest`, and the referrers index at the tag
/// `sha256-<hex>` listing `referrers` (those attached before) and it.
fn attach(
    registry: &Registry,
    repo: &str,
    digest: &str,
    bundle: &[u8],
    referrers: &mut Vec<serde_json::Value>,
) {
    let bundle_digest = upload_blob(registry, repo, bundle);
    let empty = upload_blob(registry, repo, b"{}");
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST,
        "artifactType": BUNDLE,
        "config": { "mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2 },
        "layers": [{ "mediaType": BUNDLE, "digest": bundle_digest, "size": bundle.len() }],
        "subject": { "mediaType": MANIFEST, "digest": digest, "size": 0 }
    })
    .to_string();
    let manifest_digest = format!(
        "sha256:{}",
        portcullis::digest::sha256_hex(manifest.as_bytes())
    );
    put_manifest(
        registry,
        repo,
        &manifest_digest,
        MANIFEST,
        manifest.as_bytes(),
    );
    // cosign writes the empty config's type here (its issue 4422).
    referrers.push(serde_json::json!({
        "mediaType": MANIFEST,
        "digest": manifest_digest,
        "size": manifest.len(),
        "artifactType": "application/vnd.oci.empty.v1+json"
    }));
    let index =
        serde_json::json!({ "schemaVersion": 2, "mediaType": INDEX, "manifests": referrers })
            .to_string();
    let hex = digest.strip_prefix("sha256:").expect("digest");
    put_manifest(
        registry,
        repo,
        &format!("sha256-{hex}"),
        INDEX,
        index.as_bytes(),
    );
}

/// A repository with a committed AWS key, gated by the secrets plugin
/// from `source`, which must carry the release workflow's keyless
/// signature under `pki`'s trusted root.
fn keyless_repo(pki: &Pki, source: &str) -> Repo {
    let repo = repo_with_secret(source);
    std::fs::copy(&pki.root, repo.path().join("trusted_root.json")).expect("root");
    repo.write(
        "portcullis.toml",
        format!(
            "[signatures]\ntrusted-root = \"trusted_root.json\"\nidentities = [{{ issuer = \"{ACTIONS}\", identity = \"{RELEASE}\" }}]\n[plugins.scan]\nsource = \"{source}\"\nread = [\".\"]\n"
        ),
    );
    repo
}

#[test]
fn keyless_signatures_are_read_from_referrers_and_checked_against_the_trusted_root() {
    let mut registry = Registry::start();
    let work = tempfile::tempdir().expect("tempdir");
    let docker = [no_docker_config(work.path())];
    let pki = Pki::new(&work.path().join("pki"));
    let release = pki.leaf("release", RELEASE, ACTIONS);
    let fork = pki.leaf("fork", OTHER, ACTIONS);
    let pusher = Repo::new();
    let [(source, digest), (lint, lint_digest)] =
        ["secrets", "lint"].map(|name| push(&registry, &pusher, work.path(), &docker, name));

    let repo = keyless_repo(&pki, &source);
    let check = |repo: &Repo| repo.run_env(&["check", ".", "--format", "json"], &env(&docker));
    let wanted = format!("{RELEASE} (issuer {ACTIONS})");

    // Unsigned: refused, naming the source and the signer wanted.
    let run = check(&repo);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("{source} is not signed (no Sigstore bundle"))
            && run.stderr.contains(&wanted),
        "{}",
        run.stderr
    );

    // Each bundle attached in turn (the earlier ones stay): refused, with
    // the reason.
    let mut referrers = Vec::new();
    let mut refused = |bundle: Vec<u8>, why: &[&str]| {
        attach(&registry, "team/secrets", &digest, &bundle, &mut referrers);
        let run = check(&repo);
        assert_eq!(run.code, 2, "{why:?}: {}", run.stderr);
        for w in why {
            assert!(run.stderr.contains(w), "{w}: {}", run.stderr);
        }
    };
    // Signed by another identity of the same authority: naming both.
    refused(
        pki.bundle(&fork, &digest),
        &[
            &format!("{source} is not signed by {wanted}"),
            &format!("signed by {OTHER}"),
        ],
    );
    // The release workflow's bundle for another artifact.
    refused(
        pki.bundle(&release, &lint_digest),
        &["names another artifact"],
    );
    // A bundle from another Sigstore (its own authority and log).
    let stranger = Pki::new(&work.path().join("stranger"));
    let impostor = stranger.leaf("release", RELEASE, ACTIONS);
    refused(stranger.bundle(&impostor, &digest), &["does not list"]);
    // The release workflow's identity in a certificate that no
    // certificate transparency log promised to publish.
    let unlogged = pki.leaf_without_sct("unlogged", RELEASE, ACTIONS);
    refused(pki.bundle(&unlogged, &digest), &["carries no SCT"]);

    // Signed by the release workflow: evaluated.
    attach(
        &registry,
        "team/secrets",
        &digest,
        &pki.bundle(&release, &digest),
        &mut referrers,
    );
    let run = check(&repo);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(crate::common::finding_ids(&run.json()).contains(&"scan/aws-access-key-id"));

    // `verify`, with the signer given and from the policy.
    let root = path(&pki.root).to_string();
    let verify = |target: &str, flag: &str, who: &str| {
        repo.run_env(
            &[
                "verify",
                target,
                flag,
                who,
                "--issuer",
                ACTIONS,
                "--trusted-root",
                &root,
            ],
            &env(&docker),
        )
    };
    let run = verify(&source, "--identity", RELEASE);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with(&format!("{source} is signed by {wanted}, logged at ")),
        "{}",
        run.stdout
    );
    let run = repo.run_env(&["verify", &source], &env(&docker));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = verify(&lint, "--identity", RELEASE);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!("{lint} is not signed")),
        "{}",
        run.stderr
    );
    // A tag is resolved to the digest it names.
    let run = verify(
        &registry.oci("team/secrets:1"),
        "--identity-regex",
        "https://github.com/org/.*",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains(&digest), "{}", run.stdout);

    // Offline: the bundles kept in the cache verify; a cold cache cannot
    // read them.
    registry.stop();
    let run = check(&repo);
    assert_eq!(run.code, 1, "warm, registry stopped: {}", run.stderr);
    let cold = keyless_repo(&pki, &source);
    let run = check(&cold);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot read what refers to it"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_policy_with_identities_needs_a_trusted_root_and_whole_identities() {
    let repo = Repo::new();
    for (signatures, why) in [
        (
            format!("identities = [{{ issuer = \"{ACTIONS}\", identity = \"{RELEASE}\" }}]"),
            "identities need `trusted-root`",
        ),
        (
            "trusted-root = \"root.json\"\nkeys = []".to_string(),
            "keys is empty",
        ),
        (
            format!(
                "trusted-root = \"missing.json\"\nidentities = [{{ issuer = \"{ACTIONS}\", identity = \"{RELEASE}\" }}]"
            ),
            "missing.json",
        ),
        (
            format!("trusted-root = \"root.json\"\nidentities = [{{ issuer = \"{ACTIONS}\" }}]"),
            "exactly one of `identity`",
        ),
        (
            format!(
                "trusted-root = \"root.json\"\nidentities = [{{ issuer = \"{ACTIONS}\", identity-regex = \"(\" }}]"
            ),
            "is not a regular expression",
        ),
        (
            "trusted-root = \"root.json\"".to_string(),
            "only read for `identities`",
        ),
        (String::new(), "names no signer"),
    ] {
        repo.write(
            "root.json",
            std::fs::read(fixtures().join("trusted_root.public-good.json")).expect("root"),
        );
        repo.write(
            "portcullis.toml",
            format!("[signatures]\n{signatures}\n[plugins.lint]\nsource = \"builtin:lint\"\n"),
        );
        let run = repo.run(&["check", "."]);
        assert_eq!(run.code, 2, "{signatures}: {}", run.stderr);
        assert!(run.stderr.contains(why), "{why}: {}", run.stderr);
        assert!(run.stderr.contains("portcullis.toml:"), "{}", run.stderr);
    }
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/sigstore")
}

#[test]
fn verify_checks_a_release_file_against_its_real_public_good_bundle() {
    let dir = fixtures();
    let whl = dir.join("rfc8785-0.1.2-py3-none-any.whl");
    let bundle = dir.join("rfc8785-0.1.2-py3-none-any.whl.sigstore.json");
    let root = dir.join("trusted_root.public-good.json");
    let workflow =
        "https://github.com/trailofbits/rfc8785.py/.github/workflows/release.yml@refs/tags/v0.1.2";
    let repo = Repo::new();
    let verify = |file: &Path, identity: &str, root: &Path| {
        repo.run(&[
            "verify",
            path(file),
            "--bundle",
            path(&bundle),
            "--identity",
            identity,
            "--issuer",
            ACTIONS,
            "--trusted-root",
            path(root),
        ])
    };
    let run = verify(&whl, workflow, &root);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "{} is signed by {workflow} (issuer {ACTIONS}), logged at 2024-03-19T22:41:16Z (log index 79605083)\n",
            whl.display()
        )
    );
    // Another identity, another file, another root: exit 2, one line each.
    let run = verify(&whl, RELEASE, &root);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains(&format!("is not signed by {RELEASE}")),
        "{}",
        run.stderr
    );
    let other = repo.path().join("other.whl");
    let mut bytes = std::fs::read(&whl).expect("whl");
    bytes[0] ^= 1;
    std::fs::write(&other, bytes).expect("write");
    let run = verify(&other, workflow, &root);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("signs another artifact"),
        "{}",
        run.stderr
    );
    let run = verify(&whl, workflow, &dir.join("trusted_root.staging.json"));
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(run.stderr.contains("does not list"), "{}", run.stderr);
    for run in [
        repo.run(&["verify", path(&whl), "--bundle", path(&bundle), "--identity", workflow]),
        repo.run(&["verify", "oci://localhost:1/x@sha256:0000000000000000000000000000000000000000000000000000000000000000", "--bundle", path(&bundle), "--identity", workflow, "--issuer", ACTIONS, "--trusted-root", path(&root)]),
    ] {
        assert_eq!(run.code, 2, "{}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
}

#[test]
fn a_message_signature_counts_and_an_attestation_or_a_misrecorded_entry_does_not() {
    let registry = Registry::start();
    let work = tempfile::tempdir().expect("tempdir");
    let docker = [no_docker_config(work.path())];
    let pki = Pki::new(&work.path().join("pki"));
    let release = pki.leaf("release", RELEASE, ACTIONS);
    let fork = pki.leaf("fork", OTHER, ACTIONS);
    let pusher = Repo::new();
    let (source, digest) = push(&registry, &pusher, work.path(), &docker, "secrets");
    let mut referrers = Vec::new();
    // A fresh repository (a cold cache) each time: nothing is pulled yet
    // when the signatures are checked.
    let check =
        || keyless_repo(&pki, &source).run_env(&["check", ".", "--format", "json"], &env(&docker));

    // The release workflow's provenance of this very digest: an
    // attestation, not a signature.
    let provenance = Signing::Statement {
        digest: &digest,
        predicate: "https://slsa.dev/provenance/v1",
    };
    attach(
        &registry,
        "team/secrets",
        &digest,
        &pki.bundle_with(&release, provenance, &release),
        &mut referrers,
    );
    let run = check();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("attestation, not a signature"),
        "{}",
        run.stderr
    );

    // Signed by the release workflow, but the log entry (validly promised
    // by the log) records the fork's certificate: refused.
    let signing = Signing::Statement {
        digest: &digest,
        predicate: SIGN,
    };
    attach(
        &registry,
        "team/secrets",
        &digest,
        &pki.bundle_with(&release, signing, &fork),
        &mut referrers,
    );
    let run = check();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("records another signature, certificate"),
        "{}",
        run.stderr
    );

    // A message signature of the manifest's own bytes, read from the
    // registry: evaluated.
    let manifest = manifest_of(&registry, "team/secrets", &digest);
    assert_eq!(
        format!("sha256:{}", portcullis::digest::sha256_hex(&manifest)),
        digest
    );
    attach(
        &registry,
        "team/secrets",
        &digest,
        &pki.bundle_with(&release, Signing::Message(&manifest), &release),
        &mut referrers,
    );
    let run = check();
    assert_eq!(run.code, 1, "{}", run.stderr);
}

#[test]
fn a_bundle_cosign_3_attaches_for_a_key_counts_for_that_key() {
    let registry = Registry::start();
    let work = tempfile::tempdir().expect("tempdir");
    let docker = [no_docker_config(work.path())];
    let (team_key, team_pub) = key_pair(work.path(), "team");
    let (other_key, _) = key_pair(work.path(), "other");
    let pusher = Repo::new();
    let [(source, digest), (_, lint_digest)] =
        ["secrets", "lint"].map(|name| push(&registry, &pusher, work.path(), &docker, name));
    let check = || {
        let repo = repo_with_secret(&source);
        std::fs::copy(&team_pub, repo.path().join("team.pub")).expect("key");
        repo.write(
            "portcullis.toml",
            format!("[signatures]\nkeys = [\"team.pub\"]\n[plugins.scan]\nsource = \"{source}\"\nread = [\".\"]\n"),
        );
        repo.run_env(&["check", ".", "--format", "json"], &env(&docker))
    };
    let mut referrers = Vec::new();
    // The team key's signature of bytes equal to the manifest, not of
    // cosign's statement: not a signature of the source.
    let manifest = manifest_of(&registry, "team/secrets", &digest);
    attach(
        &registry,
        "team/secrets",
        &digest,
        &keyed_message_bundle(work.path(), &team_key, &manifest),
        &mut referrers,
    );
    let run = check();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("not over a statement naming the digest"),
        "{}",
        run.stderr
    );
    attach(
        &registry,
        "team/secrets",
        &digest,
        &keyed_bundle(work.path(), &other_key, &digest),
        &mut referrers,
    );
    let run = check();
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("{source} is not signed by the key"))
            && run
                .stderr
                .contains("signed with a key: its signature is not the key's"),
        "{}",
        run.stderr
    );
    attach(
        &registry,
        "team/secrets",
        &digest,
        &keyed_bundle(work.path(), &team_key, &lint_digest),
        &mut referrers,
    );
    assert_eq!(check().code, 2);
    attach(
        &registry,
        "team/secrets",
        &digest,
        &keyed_bundle(work.path(), &team_key, &digest),
        &mut referrers,
    );
    let run = check();
    assert_eq!(run.code, 1, "{}", run.stderr);
    let run = pusher.run_env(
        &["verify", &source, "--key", path(&team_pub)],
        &env(&docker),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!("{source} is signed by the key {}\n", team_pub.display())
    );

    // A file with the bundle `cosign sign-blob --key --bundle` writes.
    let file = plugin_file(work.path(), "lint");
    let bytes = std::fs::read(&file).expect("wasm");
    let bundle = work.path().join("lint.wasm.sigstore.json");
    std::fs::write(
        &bundle,
        keyed_message_bundle(work.path(), &team_key, &bytes),
    )
    .expect("bundle");
    let verify = |key: &Path| {
        pusher.run(&[
            "verify",
            path(&file),
            "--bundle",
            path(&bundle),
            "--key",
            path(key),
        ])
    };
    let run = verify(&team_pub);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        format!(
            "{} is signed by the key {}\n",
            file.display(),
            team_pub.display()
        )
    );
    let (_, third_pub) = key_pair(work.path(), "third");
    let run = verify(&third_pub);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stderr.contains("is not signed by the key"),
        "{}",
        run.stderr
    );
}
