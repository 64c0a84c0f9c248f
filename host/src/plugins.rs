//! Where plugins come from: the components embedded in the binary, or a
//! `.wasm` file named in the policy and pinned by its sha256.

use std::borrow::Cow;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::diag::Error;
use crate::policy::{PluginSpec, Policy, Source};

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

pub fn is_builtin(name: &str) -> bool {
    EMBEDDED.iter().any(|(n, _)| *n == name)
}

pub fn builtin_names() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(n, _)| *n).collect()
}

/// A plugin's component bytes and their digest.
pub struct Binary {
    pub bytes: Cow<'static, [u8]>,
    /// Lowercase hex sha256 of `bytes`.
    pub sha256: String,
    /// `builtin:lint` or the file's path, for messages.
    pub origin: String,
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Read a plugin's bytes and check its pin.
pub fn resolve(policy: &Policy, spec: &PluginSpec) -> Result<Binary, Error> {
    let (bytes, origin): (Cow<'static, [u8]>, String) = match &spec.source {
        Source::Builtin(name) => {
            let bytes = EMBEDDED
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, b)| *b)
                .ok_or_else(|| Error::plugin(&spec.id, format!("no built-in plugin `{name}`")))?;
            (Cow::Borrowed(bytes), format!("builtin:{name}"))
        }
        Source::File(path) => {
            let full: PathBuf = match &policy.dir {
                Some(dir) if path.is_relative() => dir.join(path),
                _ => path.clone(),
            };
            let bytes = std::fs::read(&full).map_err(|e| {
                Error::plugin(&spec.id, format!("cannot read {}: {e}", full.display()))
            })?;
            (Cow::Owned(bytes), full.display().to_string())
        }
    };
    let sha256 = sha256_hex(&bytes);
    if let Some(expected) = &spec.sha256
        && *expected != sha256
    {
        return Err(Error::plugin(
            &spec.id,
            format!(
                "sha256 mismatch for {origin}: policy pins {expected}, file has {sha256} ({})",
                spec.at
            ),
        ));
    }
    Ok(Binary {
        bytes,
        sha256,
        origin,
    })
}
