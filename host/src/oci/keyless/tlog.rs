//! A transparency log entry in a bundle, checked offline against the log's
//! key from the trusted root: the signed entry timestamp (the log's
//! promise that it integrated the entry at that time), and, when the
//! bundle carries one, the Merkle inclusion proof (RFC 9162) up to a
//! checkpoint the log signed.

use serde::Deserialize;

use super::trust::{Log, TrustedRoot, base64};

/// The most proof hashes read (a tree of 2^64 entries needs 64).
const MAX_PROOF: usize = 64;

/// An int64, which protobuf's JSON writes as a string.
#[derive(Deserialize, Clone, Copy)]
#[serde(untagged)]
enum Raw64 {
    Num(i64),
    Str(#[serde(deserialize_with = "from_str")] i64),
}

fn from_str<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

impl Raw64 {
    fn get(self) -> i64 {
        match self {
            Raw64::Num(n) | Raw64::Str(n) => n,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Entry {
    log_index: Raw64,
    log_id: LogId,
    kind_version: KindVersion,
    integrated_time: Option<Raw64>,
    inclusion_promise: Option<Promise>,
    inclusion_proof: Option<Proof>,
    canonicalized_body: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogId {
    key_id: String,
}

#[derive(Deserialize)]
pub(super) struct KindVersion {
    pub kind: String,
    pub version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Promise {
    signed_entry_timestamp: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Proof {
    log_index: Raw64,
    root_hash: String,
    tree_size: Raw64,
    #[serde(default)]
    hashes: Vec<String>,
    checkpoint: Option<Checkpoint>,
}

#[derive(Deserialize)]
struct Checkpoint {
    envelope: String,
}

/// What a verified entry vouches for.
pub(super) struct Logged {
    /// When the log integrated it (seconds since the epoch).
    pub time: i64,
    pub index: i64,
    pub kind: KindVersion,
    /// The entry's body, which the caller matches against the bundle.
    pub body: serde_json::Value,
}

/// Verify `e` against the log the trusted root names for it; `needs_proof`
/// when the bundle's version carries inclusion proofs.
pub(super) fn verify(e: &Entry, root: &TrustedRoot, needs_proof: bool) -> Result<Logged, String> {
    let id = base64(&e.log_id.key_id)
        .ok()
        .filter(|id| id.len() == 32)
        .ok_or("its log id is not 32 bytes of base64")?;
    let log = root.logs.iter().find(|l| l.id == id).ok_or_else(|| {
        format!(
            "it is in the log {}, which {} does not list",
            crate::digest::hex(&id),
            root.path.display()
        )
    })?;
    let body = base64(&e.canonicalized_body).map_err(|err| format!("its body is {err}"))?;
    let (Some(time), Some(promise)) = (e.integrated_time, &e.inclusion_promise) else {
        return Err(
            "its log entry has no signed entry timestamp (a log's promise of when it took the entry), which is what dates the certificate"
                .into(),
        );
    };
    let time = time.get();
    let index = e.log_index.get();
    if !log.valid.contains(time) {
        return Err(format!(
            "the log {} was not trusted at {time}, when it took the entry",
            crate::digest::hex(&log.id)
        ));
    }
    // The promise: the log's signature over the canonical JSON of the
    // entry's body, time, log id and index.
    let set = serde_json::json!({
        "body": e.canonicalized_body,
        "integratedTime": time,
        "logID": crate::digest::hex(&log.id),
        "logIndex": index,
    });
    let signed = serde_json::to_vec(&set).map_err(|err| err.to_string())?;
    let sig = base64(&promise.signed_entry_timestamp)
        .map_err(|err| format!("its signed entry timestamp is {err}"))?;
    if !log.key.verifies(&signed, &sig) {
        return Err("its signed entry timestamp is not the log's signature of the entry".into());
    }
    match &e.inclusion_proof {
        Some(proof) => inclusion(proof, log, &body, needs_proof)
            .map_err(|err| format!("its inclusion proof: {err}"))?,
        None if needs_proof => {
            return Err(
                "its log entry has no inclusion proof, which its bundle's version carries".into(),
            );
        }
        None => {}
    }
    let body =
        serde_json::from_slice(&body).map_err(|err| format!("its body is not JSON: {err}"))?;
    Ok(Logged {
        time,
        index,
        kind: KindVersion {
            kind: e.kind_version.kind.clone(),
            version: e.kind_version.version.clone(),
        },
        body,
    })
}

fn node(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&[1]);
    ctx.update(left);
    ctx.update(right);
    ctx.finish().as_ref().try_into().expect("32 bytes")
}

/// The root an inclusion proof leads to (RFC 9162, 2.1.3.2).
fn proof_root(index: u64, size: u64, leaf: [u8; 32], path: &[[u8; 32]]) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let (mut fnode, mut snode, mut r) = (index, size - 1, leaf);
    for p in path {
        if snode == 0 {
            return None;
        }
        if fnode & 1 == 1 || fnode == snode {
            r = node(p, &r);
            while fnode & 1 == 0 && fnode != 0 {
                fnode >>= 1;
                snode >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        fnode >>= 1;
        snode >>= 1;
    }
    (snode == 0).then_some(r)
}

/// Check `proof` of `body` in `log`; its checkpoint, when it has one (a
/// bundle from 0.2 on, `needs_checkpoint`, must).
fn inclusion(proof: &Proof, log: &Log, body: &[u8], needs_checkpoint: bool) -> Result<(), String> {
    let mut leaf = ring::digest::Context::new(&ring::digest::SHA256);
    leaf.update(&[0]);
    leaf.update(body);
    let leaf: [u8; 32] = leaf.finish().as_ref().try_into().expect("32 bytes");
    if proof.hashes.len() > MAX_PROOF {
        return Err(format!("over {MAX_PROOF} hashes"));
    }
    let path = proof
        .hashes
        .iter()
        .map(|h| base64(h).ok().and_then(|h| <[u8; 32]>::try_from(h).ok()))
        .collect::<Option<Vec<_>>>()
        .ok_or("a hash is not 32 bytes of base64")?;
    let (Ok(index), Ok(size)) = (
        u64::try_from(proof.log_index.get()),
        u64::try_from(proof.tree_size.get()),
    ) else {
        return Err("a negative index or size".into());
    };
    let root = base64(&proof.root_hash).map_err(|e| format!("the root hash is {e}"))?;
    if proof_root(index, size, leaf, &path)
        .as_ref()
        .map(|r| &r[..])
        != Some(&root[..])
    {
        return Err("the entry's body does not lead to the root hash".into());
    }
    let Some(checkpoint) = &proof.checkpoint else {
        return if needs_checkpoint {
            Err("no checkpoint signs its root hash".into())
        } else {
            Ok(())
        };
    };
    // A signed note: origin, tree size, root hash (and extensions), a
    // blank line, then lines `— <name> <base64(key hint ‖ signature)>`.
    let (text, sigs) = checkpoint
        .envelope
        .split_once("\n\n")
        .ok_or("the checkpoint is not a signed note")?;
    let mut lines = text.lines();
    let (_origin, tree_size, tree_root) = (lines.next(), lines.next(), lines.next());
    if tree_size != Some(&size.to_string()) || tree_root.map(base64) != Some(Ok(root)) {
        return Err("the checkpoint is for another tree than the proof".into());
    }
    let signed = format!("{text}\n");
    let verified = sigs.lines().any(|line| {
        line.strip_prefix("\u{2014} ")
            .and_then(|l| l.rsplit_once(' '))
            .and_then(|(_, sig)| base64(sig).ok())
            .is_some_and(|sig| sig.len() > 4 && log.key.verifies(signed.as_bytes(), &sig[4..]))
    });
    if !verified {
        return Err("the checkpoint is not signed by the log".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf(n: u8) -> [u8; 32] {
        let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
        ctx.update(&[0, n]);
        ctx.finish().as_ref().try_into().expect("fixture")
    }

    /// The root of leaves `lo..hi` (RFC 9162's MTH).
    fn mth(leaves: &[[u8; 32]]) -> [u8; 32] {
        if leaves.len() == 1 {
            return leaves[0];
        }
        let k = leaves.len().next_power_of_two() / 2;
        node(&mth(&leaves[..k]), &mth(&leaves[k..]))
    }

    fn path(leaves: &[[u8; 32]], m: usize) -> Vec<[u8; 32]> {
        if leaves.len() == 1 {
            return vec![];
        }
        let k = leaves.len().next_power_of_two() / 2;
        if m < k {
            let mut p = path(&leaves[..k], m);
            p.push(mth(&leaves[k..]));
            p
        } else {
            let mut p = path(&leaves[k..], m - k);
            p.push(mth(&leaves[..k]));
            p
        }
    }

    #[test]
    fn every_leaf_of_every_small_tree_proves_and_nothing_else_does() {
        for size in 1..=17u8 {
            let leaves: Vec<[u8; 32]> = (0..size).map(leaf).collect();
            let root = mth(&leaves);
            for m in 0..size as usize {
                let p = path(&leaves, m);
                assert_eq!(
                    proof_root(m as u64, size as u64, leaves[m], &p),
                    Some(root),
                    "leaf {m} of {size}"
                );
                assert_ne!(proof_root(m as u64, size as u64, leaf(200), &p), Some(root));
                if size > 1 {
                    assert_eq!(proof_root(m as u64, size as u64, leaves[m], &p[1..]), None);
                }
            }
            assert_eq!(proof_root(size as u64, size as u64, leaves[0], &[]), None);
        }
    }
}
