//! Where plugins come from: the components embedded in the binary, a
//! `.wasm` file named in the policy and pinned by its sha256, or an OCI
//! registry, pinned by the manifest's digest ([`crate::oci`]).

use std::borrow::Cow;

use crate::digest::sha256_hex;
use crate::failure::PluginFailure;
use crate::policy::{PluginSpec, Source};

/// A plugin's component bytes and their digest.
pub struct Binary {
    pub bytes: Cow<'static, [u8]>,
    /// Lowercase hex sha256 of `bytes`.
    pub sha256: String,
    /// `builtin:lint`, the file's path or the `oci://` reference, for
    /// messages.
    pub origin: String,
}

/// Read a plugin's bytes and check its pin; OCI sources are kept in (and
/// read from) the store in `cache` (the cache directory).
pub fn resolve(
    spec: &PluginSpec,
    cache: Option<&std::path::Path>,
) -> Result<Binary, PluginFailure> {
    // Built-in digests are computed at build time.
    let (bytes, origin, sha256): (Cow<'static, [u8]>, String, String) = match &spec.source {
        Source::Builtin(name) => {
            let (bytes, sha) = crate::builtins::get(name)
                .ok_or_else(|| PluginFailure::Resolve(format!("no built-in plugin `{name}`")))?;
            (
                Cow::Borrowed(bytes),
                format!("builtin:{name}"),
                sha.to_string(),
            )
        }
        // Already resolved against the directory of the policy file that
        // names it (see `policy`).
        Source::File(path) => {
            let limit = crate::sandbox::compile::MAX_COMPONENT_BYTES as u64;
            let bytes = crate::files::read(path, limit).map_err(|e| {
                PluginFailure::Resolve(format!("cannot read {}: {e}", path.display()))
            })?;
            let sha = sha256_hex(&bytes);
            (Cow::Owned(bytes), path.display().to_string(), sha)
        }
        Source::Oci(r) => {
            let got = crate::oci::pull_plugin(r, cache).map_err(PluginFailure::Resolve)?;
            let sha = sha256_hex(&got.layer);
            (Cow::Owned(got.layer), r.to_string(), sha)
        }
    };
    if let Some(expected) = &spec.sha256
        && *expected != sha256
    {
        return Err(PluginFailure::Resolve(format!(
            "sha256 mismatch for {origin}: policy pins {expected}, file has {sha256} ({})",
            spec.at
        )));
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
    fn a_builtin_can_be_pinned() {
        let name = crate::builtins::names()[0];
        let (_, sha) = crate::builtins::get(name).expect("embedded");
        let text = format!("[plugins.l]\nsource = \"builtin:{name}\"\nsha256 = \"{sha}\"\n");
        let policy = Policy::parse(&text, "p.toml", None).expect("valid");
        assert_eq!(
            resolve(&policy.plugins[0], None).expect("pinned").sha256,
            sha
        );
        let wrong = text.replace(sha, &"1".repeat(64));
        let policy = Policy::parse(&wrong, "p.toml", None).expect("valid");
        let err = resolve(&policy.plugins[0], None)
            .err()
            .expect("mismatch")
            .to_string();
        assert!(
            err.contains(&format!("policy pins {}, file has {sha}", "1".repeat(64))),
            "{err}"
        );
    }
}
