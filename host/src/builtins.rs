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
        }
    }
}
