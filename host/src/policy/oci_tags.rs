//! OCI tags in a policy, and `portcullis.lock`.
//!
//! An `oci://` source or `extends` is pinned by digest. A policy file that
//! sets `allow-oci-tags = true` may name a tag instead; then each tag
//! stands for a digest:
//! - the one `portcullis.lock` (beside the top policy file, written by
//!   `portcullis lock`) pins for it. With a lock file, every tag the
//!   policy names must be pinned there, and everything pinned there must
//!   still be named: a lock that does not match the policy is an error
//!   (run `portcullis lock` again), never a silent fetch;
//! - without a lock file, the digest the registry gives for the tag now,
//!   reported so it can be pinned.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::oci::{self, OciRef};

/// The lock file's name, beside the top policy file.
pub const LOCK_FILE: &str = "portcullis.lock";
const MAX_LOCK_BYTES: u64 = 1 << 20;

/// The tags read while reading one policy, and how they are pinned.
#[derive(Default)]
pub struct Tags {
    /// The lock file (its path, for messages) and its pins.
    lock: Option<(PathBuf, BTreeMap<String, String>)>,
    /// Ask the registry even when a lock pins the tag (`portcullis lock`).
    refresh: bool,
    /// Each tag read, by its reference, and the digest it stood for.
    pub resolved: BTreeMap<String, String>,
}

impl Tags {
    /// The tags of the policy file `policy`: pinned by the lock file beside
    /// it when there is one.
    pub fn beside(policy: &Path) -> Result<Tags, String> {
        let path = policy
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .join(LOCK_FILE);
        let text = match crate::files::read_to_string(&path, MAX_LOCK_BYTES) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Tags::default()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let pins = parse_lock(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(Tags {
            lock: Some((path, pins)),
            ..Tags::default()
        })
    }

    /// Tags resolved at the registry whatever a lock says, to write one.
    pub fn refreshing() -> Tags {
        Tags {
            refresh: true,
            ..Tags::default()
        }
    }

    /// `r` (a tag) pinned: by the lock, else by asking the registry for
    /// the artifact of `kind` (which is then in the cache).
    pub fn pin(&mut self, r: &OciRef, kind: oci::Kind) -> Result<OciRef, String> {
        let key = r.to_string();
        if let Some(digest) = self.resolved.get(&key) {
            return Ok(r.pinned(digest));
        }
        let digest = match &self.lock {
            Some((path, pins)) if !self.refresh => pins.get(&key).cloned().ok_or_else(|| {
                format!(
                    "`{key}` is not pinned in {}: run `portcullis lock` to pin it",
                    path.display()
                )
            })?,
            _ => oci::pull(r, crate::cache::dir(None).as_deref(), Some(kind))?.digest,
        };
        self.resolved.insert(key, digest.clone());
        Ok(r.pinned(&digest))
    }

    /// What the lock pins that the policy no longer names.
    pub fn unused(&self) -> Vec<String> {
        match &self.lock {
            Some((path, pins)) if !self.refresh => pins
                .keys()
                .filter(|k| !self.resolved.contains_key(*k))
                .map(|k| {
                    format!(
                        "{} pins `{k}`, which the policy no longer names: run `portcullis lock`",
                        path.display()
                    )
                })
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the tags came from a lock file.
    pub fn locked(&self) -> bool {
        self.lock.is_some() && !self.refresh
    }
}

/// Why the tag `text` is refused in a file that does not allow tags.
pub fn unpinned(text: &str) -> String {
    format!(
        "`{text}` is a tag, which can move: pin the manifest's digest (`{text}@sha256:…`; `portcullis pull {text}` prints it), or set `allow-oci-tags = true` and pin it in {LOCK_FILE} with `portcullis lock`"
    )
}

/// The lock file's text for `pins` (reference → digest).
pub fn render_lock(pins: &BTreeMap<String, String>) -> String {
    let mut out = String::from(
        "# The digests this policy's OCI tags stand for, written by `portcullis lock`.\n\
         # `portcullis check` uses them and refuses a policy that no longer matches.\n\
         version = 1\n\n[pins]\n",
    );
    for (r, d) in pins {
        out.push_str(&format!("\"{r}\" = \"{d}\"\n"));
    }
    out
}

fn parse_lock(text: &str) -> Result<BTreeMap<String, String>, String> {
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Lock {
        version: u32,
        #[serde(default)]
        pins: BTreeMap<String, String>,
    }
    let lock: Lock = toml::from_str(text).map_err(|e| e.to_string().replace('\n', " "))?;
    if lock.version != 1 {
        return Err(format!(
            "version {} is not one this portcullis reads (1)",
            lock.version
        ));
    }
    let mut pins = BTreeMap::new();
    for (r, d) in lock.pins {
        let parsed = OciRef::parse(&r)?;
        if parsed.digest.is_some() || parsed.tag.is_none() {
            return Err(format!("`{r}`: a lock pins tags, without a digest"));
        }
        let digest = crate::oci::reference::parse_digest(&d).map_err(|e| format!("`{r}`: {e}"))?;
        pins.insert(parsed.to_string(), digest);
    }
    Ok(pins)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn a_lock_round_trips_and_pins_what_it_holds() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pins = BTreeMap::from([("oci://r.example/team/lint:1.4".to_string(), D.to_string())]);
        std::fs::write(dir.path().join(LOCK_FILE), render_lock(&pins)).expect("write");
        let mut tags = Tags::beside(&dir.path().join("portcullis.toml")).expect("lock");
        assert!(tags.locked());
        let r = OciRef::parse("oci://r.example/team/lint:1.4").expect("ref");
        assert_eq!(
            tags.pin(&r, oci::PLUGIN).expect("pinned").digest.as_deref(),
            Some(D)
        );
        assert!(tags.unused().is_empty());
        // A tag the lock does not pin is an error, not a fetch.
        let other = OciRef::parse("oci://r.example/team/lint:1.5").expect("ref");
        let e = tags.pin(&other, oci::PLUGIN).expect_err("not pinned");
        assert!(
            e.contains("is not pinned in") && e.contains("portcullis lock"),
            "{e}"
        );
        // A pin the policy no longer uses is reported.
        let fresh = Tags::beside(&dir.path().join("portcullis.toml")).expect("lock");
        assert_eq!(fresh.unused().len(), 1);
        assert!(fresh.unused()[0].contains("no longer names"));
    }

    #[test]
    fn a_lock_file_that_is_not_one_says_why() {
        for (text, why) in [
            ("version = 2\n", "version 2"),
            (
                "version = 1\n[pins]\n\"oci://r.io/a:1\" = \"sha256:12\"\n",
                "is not sha256:",
            ),
            (
                &format!("version = 1\n[pins]\n\"oci://r.io/a:1@{D}\" = \"{D}\"\n"),
                "without a digest",
            ),
            ("version = 1\nextra = 1\n", "unknown field"),
            ("not toml", ""),
        ] {
            let e = parse_lock(text).expect_err(text);
            assert!(e.contains(why), "{text}: {e}");
        }
    }
}
