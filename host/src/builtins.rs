//! The plugins embedded in the binary: their names, component bytes and
//! build-time digests. A leaf module: the policy checks `builtin:<name>`
//! against it and `plugins` loads from it.

include!(concat!(env!("OUT_DIR"), "/builtins.rs"));

/// The id of the host's own rules (`portcullis/waiver-unused`); no plugin
/// may take it.
pub const HOST_ID: &str = "portcullis";

/// The embedded component named `name`: (bytes, sha256 hex).
pub fn get(name: &str) -> Option<(&'static [u8], &'static str)> {
    EMBEDDED
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, bytes, sha)| (*bytes, *sha))
}

pub fn is_builtin(name: &str) -> bool {
    get(name).is_some()
}

/// A built-in plugin's crate version.
pub fn version(name: &str) -> Option<&'static str> {
    VERSIONS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// `--version`'s long text: this binary's version, the engine's, and
/// each built-in plugin's version and digest (what a policy pins with
/// `sha256`).
pub fn long_version() -> String {
    let mut out = format!(
        "{}\nwasmtime {WASMTIME_VERSION}\nbuilt-in plugins:",
        env!("CARGO_PKG_VERSION")
    );
    for (name, _, sha) in EMBEDDED {
        out.push_str(&format!(
            "\n  builtin:{name:<10} {:<8} sha256:{sha}",
            version(name).unwrap_or("?")
        ));
    }
    out
}

/// Every built-in plugin's name, in build order.
pub fn names() -> Vec<&'static str> {
    EMBEDDED.iter().map(|(n, _, _)| *n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_time_digests_match_the_embedded_bytes() {
        assert!(!EMBEDDED.is_empty());
        for (name, bytes, sha) in EMBEDDED {
            assert_eq!(crate::digest::sha256_hex(bytes), *sha, "builtin:{name}");
            assert!(
                version(name).is_some_and(|v| v.contains('.')),
                "builtin:{name} has a version"
            );
        }
        assert!(WASMTIME_VERSION.starts_with(|c: char| c.is_ascii_digit()));
    }
}
