//! What the checks read from cargo metadata and Cargo.lock, kept between
//! runs in the plugin's store: parsing 1.4 MB of cargo metadata and the
//! lockfile took most of a warm run, and both change only when a Cargo
//! manifest, the lockfile or the toolchain does.
//!
//! The facts are kept under the host's own key for its cached cargo
//! metadata (the contract's `cargo-metadata-key`: the repository's path,
//! every manifest and lockfile, the toolchain), and only when the host
//! gives one (it does not for a snapshot, a symlinked manifest or
//! lockfile, no root lockfile, or with the cache off). They are kept only
//! after cargo metadata ran with `--locked` on those inputs (so the
//! lockfile matched the manifests), when the lockfile is the root's and
//! every workspace package's manifest is in the repository. Findings are
//! never kept: the advisory checks depend on the database and the date.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::lockfile::{Lockfile, Package};

const KEY: &str = "facts/v2";

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
    /// The host's key for the metadata they come from.
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
