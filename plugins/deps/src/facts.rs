//! What the checks read from cargo metadata and Cargo.lock, kept between
//! runs in the plugin's store: parsing 1.4 MB of cargo metadata and the
//! lockfile took most of a warm run, and both change only when a Cargo
//! manifest, the lockfile or Cargo's configuration does.
//!
//! The facts are keyed by the digests (the contract's `file-digests`) of
//! every such file in the repository, as the host keys its own cache of
//! `cargo metadata`. They are only kept after cargo metadata ran with
//! `--locked` on those files (so the lockfile matched the manifests) and
//! when no workspace package lives outside the repository (its manifest
//! would not be in the key). Findings are never kept: the advisory checks
//! depend on the database and the date.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use portcullis_sdk::{Context, FileKind};

use crate::lockfile::{Lockfile, Package};

const KEY: &str = "facts/v1";

/// The files whose content decides cargo metadata and the lockfile.
fn is_input(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        "Cargo.toml" | "Cargo.lock" | "rust-toolchain" | "rust-toolchain.toml"
    ) || path.ends_with(".cargo/config.toml")
        || path.ends_with(".cargo/config")
}

/// The parsed inputs of the checks.
pub struct Facts {
    /// Cargo metadata with only what the checks read (see
    /// [`crate::metadata::reduce`]); `None`: no root Cargo.toml.
    pub metadata: Option<String>,
    /// `None`: no lockfile and no root Cargo.toml: not a Rust project.
    pub lock: Option<Lockfile>,
}

#[derive(Serialize, Deserialize)]
struct Stored<'a> {
    /// `path digest` of each input, one per line.
    inputs: String,
    /// Kept as JSON in the JSON: not escaped into a string, so it is not
    /// unescaped again.
    #[serde(borrow)]
    metadata: Option<&'a RawValue>,
    lock: Option<StoredLock>,
}

#[derive(Serialize, Deserialize)]
struct StoredLock {
    path: String,
    /// Name, version, source and line of each package.
    packages: Vec<(String, String, Option<String>, u32)>,
}

/// The store's key for this repository's inputs: `None` when the store is
/// off or a digest could not be had (then nothing is kept).
pub fn inputs(ctx: &Context) -> Option<String> {
    if !portcullis_sdk::cache::enabled() {
        return None;
    }
    let paths: Vec<String> = ctx
        .files()
        .iter()
        .filter(|f| f.kind == FileKind::File && is_input(&f.path))
        .map(|f| f.path.clone())
        .collect();
    let digests = ctx.digests(&paths);
    let mut key = String::new();
    for (path, digest) in paths.iter().zip(digests) {
        key.push_str(path);
        key.push(' ');
        key.push_str(&digest.ok()?);
        key.push('\n');
    }
    Some(key)
}

/// The facts kept for exactly these inputs.
pub fn get(inputs: &str) -> Option<Facts> {
    let bytes = portcullis_sdk::cache::get(KEY)?;
    let stored: Stored = serde_json::from_slice(&bytes).ok()?;
    if stored.inputs != inputs {
        return None;
    }
    let lock = match stored.lock {
        Some(l) => {
            let mut packages = Vec::with_capacity(l.packages.len());
            for (name, version, source, line) in l.packages {
                packages.push(Package {
                    name,
                    version: semver::Version::parse(&version).ok()?,
                    source,
                    line,
                });
            }
            Some(Lockfile {
                path: l.path,
                packages,
            })
        }
        None => None,
    };
    Some(Facts {
        metadata: stored.metadata.map(|m| m.get().to_string()),
        lock,
    })
}

/// Keep `facts` for these inputs.
pub fn put(inputs: &str, facts: &Facts) {
    let metadata = match facts.metadata.clone().map(RawValue::from_string) {
        Some(Ok(raw)) => Some(raw),
        Some(Err(_)) => return,
        None => None,
    };
    let stored = Stored {
        inputs: inputs.to_string(),
        metadata: metadata.as_deref(),
        lock: facts.lock.as_ref().map(|l| StoredLock {
            path: l.path.clone(),
            packages: l
                .packages
                .iter()
                .map(|p| {
                    (
                        p.name.clone(),
                        p.version.to_string(),
                        p.source.clone(),
                        p.line,
                    )
                })
                .collect(),
        }),
    };
    if let Ok(bytes) = serde_json::to_vec(&stored) {
        portcullis_sdk::cache::put(KEY, &bytes);
    }
}
