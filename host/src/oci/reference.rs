//! `oci://registry/repository[:tag][@sha256:<hex>]`: where an artifact
//! lives in a registry, and the digest that pins its content.

use std::fmt;

/// A parsed `oci://` reference. The registry is always written out: a
/// name without one is refused rather than taken to mean Docker Hub.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OciRef {
    /// `host` or `host:port`.
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:<64 lowercase hex>`: the manifest's digest.
    pub digest: Option<String>,
}

pub const SCHEME: &str = "oci://";

impl OciRef {
    /// Parse `text`, which starts with `oci://`.
    pub fn parse(text: &str) -> Result<OciRef, String> {
        let rest = text
            .strip_prefix(SCHEME)
            .ok_or_else(|| format!("`{text}` does not start with {SCHEME}"))?;
        let (name, digest) = match rest.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (rest, None),
        };
        let digest = match digest {
            Some(d) => Some(parse_digest(d).map_err(|e| format!("`{text}`: {e}"))?),
            None => None,
        };
        let (registry, path) = name.split_once('/').ok_or_else(|| {
            format!("`{text}` names no repository: write oci://<registry>/<repository>[:tag]")
        })?;
        if !is_registry(registry) {
            return Err(format!(
                "`{text}`: `{registry}` is not a registry host (write it out, e.g. ghcr.io or localhost:5000)"
            ));
        }
        // The tag is after the last `:` of the path's last component.
        let last = path.rsplit('/').next().unwrap_or(path);
        let (repository, tag) = match last.rsplit_once(':') {
            Some((_, tag)) => (&path[..path.len() - tag.len() - 1], Some(tag.to_string())),
            None => (path, None),
        };
        if !is_repository(repository) {
            return Err(format!(
                "`{text}`: `{repository}` is not a repository name (lowercase letters, digits and . _ - separated by /)"
            ));
        }
        if let Some(tag) = &tag
            && !is_tag(tag)
        {
            return Err(format!("`{text}`: `{tag}` is not a tag"));
        }
        if tag.is_none() && digest.is_none() {
            return Err(format!("`{text}` names neither a tag nor a digest"));
        }
        Ok(OciRef {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag,
            digest,
        })
    }

    /// The same artifact pinned to `digest`.
    pub fn pinned(&self, digest: &str) -> OciRef {
        OciRef {
            digest: Some(digest.to_string()),
            ..self.clone()
        }
    }

    /// The client's reference: by digest when pinned, else by tag.
    pub(crate) fn client_ref(&self) -> oci_client::Reference {
        match (&self.digest, &self.tag) {
            (Some(d), _) => oci_client::Reference::with_digest(
                self.registry.clone(),
                self.repository.clone(),
                d.clone(),
            ),
            (None, Some(t)) => oci_client::Reference::with_tag(
                self.registry.clone(),
                self.repository.clone(),
                t.clone(),
            ),
            (None, None) => unreachable!("parse refuses a reference without tag and digest"),
        }
    }

    /// Whether the registry is this machine's (spoken to over plain HTTP,
    /// as docker does).
    pub fn is_loopback(&self) -> bool {
        is_loopback_host(&self.registry)
    }
}

impl fmt::Display for OciRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{SCHEME}{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

/// `sha256:<64 lowercase hex>`, the only digest accepted.
pub fn parse_digest(text: &str) -> Result<String, String> {
    let hex = text
        .strip_prefix("sha256:")
        .ok_or_else(|| format!("digest `{text}` is not sha256:<64 hexadecimal digits>"))?;
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "digest `{text}` is not sha256:<64 hexadecimal digits>"
        ));
    }
    Ok(format!("sha256:{}", hex.to_ascii_lowercase()))
}

/// `host` or `host:port`, with a dot, a port or `localhost` so it cannot
/// be mistaken for a path component.
fn is_registry(r: &str) -> bool {
    let Some((host, port)) = host_port(r) else {
        return false;
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        v6.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        !host.is_empty()
            && host.len() <= 253
            && host
                .split('.')
                .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
            && (host.contains('.') || host == "localhost" || port.is_some())
    };
    port_ok && host_ok
}

/// `registry` split into its host (IPv6 in brackets) and port.
fn host_port(r: &str) -> Option<(&str, Option<&str>)> {
    if r.starts_with('[') {
        let end = r.find(']')?;
        let rest = &r[end + 1..];
        match rest.strip_prefix(':') {
            Some(port) => Some((&r[..=end], Some(port))),
            None if rest.is_empty() => Some((r, None)),
            None => None,
        }
    } else {
        Some(match r.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (r, None),
        })
    }
}

fn is_loopback_host(registry: &str) -> bool {
    let Some((host, _)) = host_port(registry) else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The distribution spec's repository name: path components of
/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`, joined by `/`.
fn is_repository(r: &str) -> bool {
    !r.is_empty()
        && r.len() <= 255
        && r.split('/').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_lowercase() | b[0].is_ascii_digit()
                && b[b.len() - 1].is_ascii_lowercase() | b[b.len() - 1].is_ascii_digit()
                && b.iter()
                    .all(|&x| x.is_ascii_lowercase() || x.is_ascii_digit() || b"._-".contains(&x))
                && !c.contains("..")
                && !c.contains("___")
        })
}

/// `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
fn is_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|&x| x.is_ascii_alphanumeric() || b"._-".contains(&x))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn references_parse_and_print_back() {
        for text in [
            format!("oci://ghcr.io/acme/lint:1.4@{D}"),
            format!("oci://localhost:5000/plugins/lint@{D}"),
            "oci://127.0.0.1:5000/a/b/c:v1.0_rc-2".to_string(),
            format!("oci://[::1]:5000/x@{D}"),
        ] {
            let r = OciRef::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(r.to_string(), text);
        }
        let r = OciRef::parse(&format!("oci://registry.example:443/team/plugin:1.4@{D}"))
            .expect("valid");
        assert_eq!(r.registry, "registry.example:443");
        assert_eq!(r.repository, "team/plugin");
        assert_eq!(r.tag.as_deref(), Some("1.4"));
        assert_eq!(r.digest.as_deref(), Some(D));
        assert!(!r.is_loopback());
        assert!(
            OciRef::parse("oci://localhost:5000/a:b")
                .expect("valid")
                .is_loopback()
        );
        assert!(
            OciRef::parse("oci://[::1]:5000/a:b")
                .expect("valid")
                .is_loopback()
        );
        let upper = OciRef::parse(&format!(
            "oci://r.io/a@{}",
            D.to_uppercase().replace("SHA256", "sha256")
        ))
        .expect("valid");
        assert_eq!(upper.digest.as_deref(), Some(D));
    }

    #[test]
    fn what_is_refused_says_why() {
        for (text, why) in [
            ("ghcr.io/a:b", "does not start with oci://"),
            ("oci://ghcr.io", "names no repository"),
            ("oci://library/alpine:3", "not a registry host"),
            ("oci://ghcr.io/Acme/lint:1", "not a repository name"),
            ("oci://ghcr.io/acme/lint", "neither a tag nor a digest"),
            ("oci://ghcr.io/acme/lint:-x", "is not a tag"),
            ("oci://ghcr.io/acme/lint@sha512:00", "is not sha256:"),
            ("oci://ghcr.io/acme/lint@sha256:0123", "is not sha256:"),
            ("oci://ghcr.io/acme/../lint:1", "not a repository name"),
            ("oci://gh cr.io/acme/lint:1", "not a registry host"),
        ] {
            let err = OciRef::parse(text).expect_err(text);
            assert!(err.contains(why), "{text}: {err}");
        }
    }
}
