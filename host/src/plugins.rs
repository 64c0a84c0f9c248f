//! Where plugins come from: the components embedded in the binary, or a
//! `.wasm` file named in the policy and pinned by its sha256.

use std::borrow::Cow;

use sha2::{Digest, Sha256};

use crate::diag::Error;
use crate::policy::{PluginSpec, Source};

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

pub fn is_builtin(name: &str) -> bool {
    EMBEDDED.iter().any(|(n, _, _)| *n == name)
}

pub fn builtin_names() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(n, _, _)| *n).collect()
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
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of a digest.
pub fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Read a plugin's bytes and check its pin.
pub fn resolve(spec: &PluginSpec) -> Result<Binary, Error> {
    // Built-in digests are computed at build time.
    let (bytes, origin, sha256): (Cow<'static, [u8]>, String, String) = match &spec.source {
        Source::Builtin(name) => {
            let (_, bytes, sha) = EMBEDDED
                .iter()
                .find(|(n, _, _)| n == name)
                .ok_or_else(|| Error::plugin(&spec.id, format!("no built-in plugin `{name}`")))?;
            (
                Cow::Borrowed(*bytes),
                format!("builtin:{name}"),
                sha.to_string(),
            )
        }
        // Already resolved against the directory of the policy file that
        // names it (see `policy`).
        Source::File(path) => {
            let bytes = std::fs::read(path).map_err(|e| {
                Error::plugin(&spec.id, format!("cannot read {}: {e}", path.display()))
            })?;
            let sha = sha256_hex(&bytes);
            (Cow::Owned(bytes), path.display().to_string(), sha)
        }
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    #[test]
    fn build_time_digests_match_the_embedded_bytes() {
        assert!(!EMBEDDED.is_empty());
        for (name, bytes, sha) in EMBEDDED {
            assert_eq!(sha256_hex(bytes), *sha, "builtin:{name}");
        }
    }

    #[test]
    fn a_builtin_can_be_pinned() {
        let (_, _, sha) = EMBEDDED[0];
        let text = format!(
            "[plugins.l]\nsource = \"builtin:{}\"\nsha256 = \"{sha}\"\n",
            EMBEDDED[0].0
        );
        let policy = Policy::parse(&text, "p.toml", None).expect("valid");
        assert_eq!(resolve(&policy.plugins[0]).expect("pinned").sha256, sha);
        let wrong = text.replace(sha, &"1".repeat(64));
        let policy = Policy::parse(&wrong, "p.toml", None).expect("valid");
        let err = resolve(&policy.plugins[0])
            .err()
            .expect("mismatch")
            .to_string();
        assert!(
            err.contains(&format!("policy pins {}, file has {sha}", "1".repeat(64))),
            "{err}"
        );
    }
}
