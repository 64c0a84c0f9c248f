//! The credentials for a registry, from where people already keep them:
//!
//! 1. `PORTCULLIS_REGISTRY_USERNAME` and `PORTCULLIS_REGISTRY_PASSWORD`
//!    (basic), or `PORTCULLIS_REGISTRY_TOKEN` (a bearer token), as CI jobs
//!    set them from their secrets, for the one registry
//!    `PORTCULLIS_REGISTRY` names (required with them): a policy the change
//!    under review can edit may name any registry, and must not be able to
//!    send the job's secrets to one of its choosing;
//! 2. docker's `config.json` (in `$DOCKER_CONFIG`, else `~/.docker`), as
//!    `docker login` writes it: the registry's credential helper
//!    (`credHelpers`), else its `auths` entry, else the default store
//!    (`credsStore`);
//! 3. otherwise none (anonymous, or the anonymous token the registry's
//!    challenge grants).

use std::path::{Path, PathBuf};
use std::time::Duration;

use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

use crate::files;

/// How large a docker `config.json` may be.
const MAX_CONFIG_BYTES: u64 = 1 << 20;
/// How long a credential helper may take.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Deserialize, Default)]
struct DockerConfig {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: std::collections::BTreeMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Deserialize, Default)]
struct AuthEntry {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    identitytoken: Option<String>,
    registrytoken: Option<String>,
}

/// What a credential helper prints for `get`.
#[derive(Deserialize)]
struct HelperAnswer {
    #[serde(rename = "Username")]
    username: String,
    #[serde(rename = "Secret")]
    secret: String,
}

/// The credentials for `registry` (`host[:port]`), and where they came
/// from (for messages; never the secret).
pub fn for_registry(registry: &str) -> Result<(RegistryAuth, String), String> {
    if let Some(env) = from_env(registry, |k| {
        std::env::var(k).ok().filter(|v| !v.is_empty())
    })? {
        return Ok(env);
    }
    let Some(path) = config_path() else {
        return Ok((RegistryAuth::Anonymous, "no credentials".into()));
    };
    from_config(&path, registry, None)
}

/// The environment's credentials when they are for `registry`.
fn from_env(
    registry: &str,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Option<(RegistryAuth, String)>, String> {
    let token = env("PORTCULLIS_REGISTRY_TOKEN");
    let user = env("PORTCULLIS_REGISTRY_USERNAME");
    let password = env("PORTCULLIS_REGISTRY_PASSWORD");
    if token.is_none() && user.is_none() && password.is_none() {
        return Ok(None);
    }
    let Some(host) = env("PORTCULLIS_REGISTRY") else {
        return Err(
            "PORTCULLIS_REGISTRY_TOKEN/USERNAME/PASSWORD are set without PORTCULLIS_REGISTRY, the registry they are for (such as ghcr.io)"
                .into(),
        );
    };
    if !same_registry(&host, registry) {
        return Ok(None);
    }
    let from = format!("PORTCULLIS_REGISTRY_* for {host}");
    match (token, user, password) {
        (Some(t), None, None) => Ok(Some((RegistryAuth::Bearer(t), from))),
        (None, Some(u), Some(p)) => Ok(Some((RegistryAuth::Basic(u, p), from))),
        _ => Err(
            "set PORTCULLIS_REGISTRY_TOKEN alone, or PORTCULLIS_REGISTRY_USERNAME with PORTCULLIS_REGISTRY_PASSWORD"
                .into(),
        ),
    }
}

/// Docker Hub goes by several names; docker keeps its credentials under
/// `https://index.docker.io/v1/`.
const DOCKER_HUB: [&str; 4] = [
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "https://index.docker.io/v1/",
];

fn is_docker_hub(host: &str) -> bool {
    DOCKER_HUB.contains(&host)
}

/// Whether two registry names (or `auths` keys) are the same registry.
fn same_registry(a: &str, b: &str) -> bool {
    let (a, b) = (auths_key_host(a), auths_key_host(b));
    a == b || (is_docker_hub(a) && is_docker_hub(b))
}

/// What docker's credential helpers are asked for `registry`.
fn helper_server(registry: &str) -> &str {
    if is_docker_hub(registry) {
        "https://index.docker.io/v1/"
    } else {
        registry
    }
}

fn config_path() -> Option<PathBuf> {
    match std::env::var_os("DOCKER_CONFIG") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d).join("config.json")),
        _ => Some(
            PathBuf::from(std::env::var_os("HOME")?)
                .join(".docker")
                .join("config.json"),
        ),
    }
}

/// The credentials `path` (a docker `config.json`) holds for `registry`;
/// credential helpers are looked up on `helper_path` when given, else on
/// PATH.
fn from_config(
    path: &Path,
    registry: &str,
    helper_path: Option<&std::ffi::OsStr>,
) -> Result<(RegistryAuth, String), String> {
    let shown = path.display();
    let text = match files::read_to_string(path, MAX_CONFIG_BYTES) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok((RegistryAuth::Anonymous, "no credentials".into()));
        }
        Err(e) => return Err(format!("{shown}: {e}")),
    };
    let config: DockerConfig = serde_json::from_str(&text).map_err(|e| format!("{shown}: {e}"))?;
    let helper = config
        .cred_helpers
        .iter()
        .find(|(key, _)| same_registry(key, registry))
        .map(|(_, h)| h);
    if let Some(helper) = helper {
        return helper_get(helper, registry, helper_path)
            .map(|a| (a, format!("docker-credential-{helper}")));
    }
    let entry = config
        .auths
        .iter()
        .find(|(key, _)| same_registry(key, registry))
        .map(|(_, e)| e);
    if let Some(entry) = entry {
        let from = format!("{shown} (auths.{registry})");
        if let Some(token) = &entry.registrytoken {
            return Ok((RegistryAuth::Bearer(token.clone()), from));
        }
        if entry.identitytoken.is_some() {
            return Err(format!(
                "{shown}: the entry for {registry} holds an identity token (an OAuth refresh token), which is not supported: log in with a password or token instead"
            ));
        }
        if let (Some(u), Some(p)) = (&entry.username, &entry.password) {
            return Ok((RegistryAuth::Basic(u.clone(), p.clone()), from));
        }
        if let Some(auth) = &entry.auth {
            let (u, p) = decode_auth(auth).ok_or_else(|| {
                format!("{shown}: auths.{registry}.auth is not base64 of user:password")
            })?;
            return Ok((RegistryAuth::Basic(u, p), from));
        }
    }
    if let Some(store) = &config.creds_store {
        // The default store may hold nothing for this registry.
        return match helper_get(store, registry, helper_path) {
            Ok(a) => Ok((a, format!("docker-credential-{store}"))),
            Err(e) if e.contains("credentials not found") => {
                Ok((RegistryAuth::Anonymous, "no credentials".into()))
            }
            Err(e) => Err(e),
        };
    }
    Ok((RegistryAuth::Anonymous, "no credentials".into()))
}

/// The host an `auths` key names: `ghcr.io`, `https://ghcr.io`,
/// `https://index.docker.io/v1/` all occur.
fn auths_key_host(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

fn decode_auth(auth: &str) -> Option<(String, String)> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Ask `docker-credential-<helper>` (on PATH) for `registry`'s
/// credentials, as docker does: `get`, with the server on stdin.
fn helper_get(
    helper: &str,
    registry: &str,
    helper_path: Option<&std::ffi::OsStr>,
) -> Result<RegistryAuth, String> {
    if helper.is_empty()
        || !helper
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        return Err(format!("credential helper `{helper}` is not a helper name"));
    }
    let program = format!("docker-credential-{helper}");
    let mut command = std::process::Command::new(&program);
    command.arg("get");
    if let Some(p) = helper_path {
        command.env("PATH", p);
    }
    let server = helper_server(registry);
    let out = crate::process::output_with_input(
        &mut command,
        &program,
        server.as_bytes(),
        HELPER_TIMEOUT,
    )
    .map_err(|e| format!("{program} get ({registry}): {e}"))?;
    if !out.status.success() {
        let said = String::from_utf8_lossy(&out.stdout);
        let said = said.trim();
        let said = if said.is_empty() {
            String::from_utf8_lossy(&out.stderr).trim().to_string()
        } else {
            said.to_string()
        };
        // The helper's own words, on one bounded line.
        let said = crate::diag::one_line(&said, 300);
        return Err(format!("{program} get ({registry}): {said}"));
    }
    let answer: HelperAnswer = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("{program} get ({registry}): {e}"))?;
    Ok(if answer.username == "<token>" {
        RegistryAuth::Bearer(answer.secret)
    } else {
        RegistryAuth::Basic(answer.username, answer.secret)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("config.json");
        std::fs::write(&p, text).expect("write");
        p
    }

    #[test]
    fn docker_config_entries_are_found_by_host() {
        let dir = tempfile::tempdir().expect("tempdir");
        // `docker login localhost:5000` with user `ci`, password `s3cret`.
        let p = write(
            dir.path(),
            r#"{"auths":{"localhost:5000":{"auth":"Y2k6czNjcmV0"},"https://ghcr.io":{"username":"u","password":"p"},"r.example":{"registrytoken":"t"}}}"#,
        );
        let basic = |u: &str, p: &str| format!("{:?}", RegistryAuth::Basic(u.into(), p.into()));
        let (a, from) = from_config(&p, "localhost:5000", None).expect("found");
        assert_eq!(format!("{a:?}"), basic("ci", "s3cret"));
        assert!(from.contains("auths.localhost:5000"), "{from}");
        let (a, _) = from_config(&p, "ghcr.io", None).expect("found");
        assert_eq!(format!("{a:?}"), basic("u", "p"));
        let (a, _) = from_config(&p, "r.example", None).expect("found");
        assert!(matches!(a, RegistryAuth::Bearer(t) if t == "t"));
        let (a, from) = from_config(&p, "other.example", None).expect("none");
        assert!(matches!(a, RegistryAuth::Anonymous), "{from}");
        let (a, _) = from_config(&dir.path().join("absent.json"), "x.io", None).expect("none");
        assert!(matches!(a, RegistryAuth::Anonymous));
    }

    #[test]
    fn environment_credentials_go_to_the_registry_they_name_only() {
        let vars = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let basic = vars(&[
            ("PORTCULLIS_REGISTRY", "ghcr.io"),
            ("PORTCULLIS_REGISTRY_USERNAME", "bot"),
            ("PORTCULLIS_REGISTRY_PASSWORD", "pw"),
        ]);
        let (a, from) = from_env("ghcr.io", basic)
            .expect("ok")
            .expect("for ghcr.io");
        assert!(matches!(a, RegistryAuth::Basic(u, p) if u == "bot" && p == "pw"));
        assert!(from.contains("ghcr.io") && !from.contains("pw"), "{from}");
        // Another registry (such as one a pull request's policy names)
        // does not get them.
        assert!(from_env("evil.example", basic).expect("ok").is_none());
        let unscoped = vars(&[("PORTCULLIS_REGISTRY_TOKEN", "t")]);
        let e = from_env("ghcr.io", unscoped).expect_err("no host");
        assert!(e.contains("without PORTCULLIS_REGISTRY"), "{e}");
        let half = vars(&[
            ("PORTCULLIS_REGISTRY", "ghcr.io"),
            ("PORTCULLIS_REGISTRY_USERNAME", "u"),
        ]);
        assert!(from_env("ghcr.io", half).is_err());
        let hub = vars(&[
            ("PORTCULLIS_REGISTRY", "docker.io"),
            ("PORTCULLIS_REGISTRY_TOKEN", "t"),
        ]);
        assert!(from_env("index.docker.io", hub).expect("ok").is_some());
        assert!(from_env("ghcr.io", vars(&[])).expect("ok").is_none());
    }

    #[test]
    fn docker_hub_credentials_are_found_under_the_key_docker_login_writes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(
            dir.path(),
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"Y2k6czNjcmV0"}}}"#,
        );
        for name in ["docker.io", "index.docker.io", "registry-1.docker.io"] {
            let (a, _) = from_config(&p, name, None).expect("found");
            assert!(
                matches!(a, RegistryAuth::Basic(u, _) if u == "ci"),
                "{name}"
            );
        }
        assert_eq!(helper_server("docker.io"), "https://index.docker.io/v1/");
        assert_eq!(helper_server("ghcr.io"), "ghcr.io");
    }

    #[test]
    fn a_config_that_cannot_be_used_is_an_error_naming_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = write(dir.path(), "{not json");
        assert!(
            from_config(&p, "x.io", None)
                .expect_err("bad")
                .contains("config.json")
        );
        let p = write(
            dir.path(),
            r#"{"auths":{"x.io":{"auth":"bm90LWEtcGFpcg=="}}}"#,
        );
        let e = from_config(&p, "x.io", None).expect_err("no colon");
        assert!(e.contains("not base64 of user:password"), "{e}");
        let p = write(dir.path(), r#"{"auths":{"x.io":{"identitytoken":"r"}}}"#);
        assert!(
            from_config(&p, "x.io", None)
                .expect_err("idtoken")
                .contains("identity token")
        );
        let p = write(dir.path(), r#"{"credHelpers":{"x.io":"../evil"}}"#);
        assert!(
            from_config(&p, "x.io", None)
                .expect_err("helper")
                .contains("not a helper name")
        );
        let p = write(
            dir.path(),
            r#"{"credHelpers":{"x.io":"portcullis-absent-helper"}}"#,
        );
        let e = from_config(&p, "x.io", None).expect_err("missing helper");
        assert!(
            e.contains("docker-credential-portcullis-absent-helper get (x.io)"),
            "{e}"
        );
    }

    #[test]
    fn a_credential_helper_is_asked_as_docker_asks_it() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let bin = dir.path().join("docker-credential-fake");
        // Answers for the server it reads on stdin, as helpers do.
        std::fs::write(
            &bin,
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nread server\nif [ \"$server\" = tok.example ]; then echo '{\"ServerURL\":\"tok.example\",\"Username\":\"<token>\",\"Secret\":\"abc\"}'; exit 0; fi\nif [ \"$server\" = x.io ]; then echo '{\"ServerURL\":\"x.io\",\"Username\":\"bob\",\"Secret\":\"pw\"}'; exit 0; fi\necho 'credentials not found in native keychain'; exit 1\n",
        )
        .expect("helper");
        std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        let path = std::env::var("PATH").unwrap_or_default();
        let p = write(
            dir.path(),
            r#"{"credHelpers":{"x.io":"fake","tok.example":"fake"},"credsStore":"fake"}"#,
        );
        let search = std::ffi::OsString::from(format!("{}:{path}", dir.path().display()));
        let with_path = |registry: &str| from_config(&p, registry, Some(&search));
        let (a, from) = with_path("x.io").expect("helper");
        assert_eq!(
            format!("{a:?}"),
            format!("{:?}", RegistryAuth::Basic("bob".into(), "pw".into()))
        );
        assert_eq!(from, "docker-credential-fake");
        let (a, _) = with_path("tok.example").expect("helper");
        assert!(matches!(a, RegistryAuth::Bearer(t) if t == "abc"));
        // The default store knows nothing of this one: anonymous.
        let (a, _) = with_path("none.example").expect("store");
        assert!(matches!(a, RegistryAuth::Anonymous));
    }
}
