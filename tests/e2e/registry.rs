//! Plugins from an OCI registry: the CNCF distribution registry (Debian's
//! `docker-registry`) started on a loopback port with its own storage,
//! `portcullis push` and `pull`, and `check` with `source = "oci://…"`.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Repo, Run};

/// A registry with its storage in a temporary directory, stopped on drop.
pub struct Registry {
    child: Option<Child>,
    /// `127.0.0.1:<port>`.
    pub host: String,
    dir: tempfile::TempDir,
}

impl Registry {
    /// A registry anyone may push to.
    pub fn start() -> Registry {
        Registry::launch("")
    }

    /// A registry that takes `user`/`password` only (htpasswd, bcrypt, as
    /// `htpasswd -B` writes it).
    pub fn with_basic_auth(user: &str, password: &str) -> Registry {
        let htpasswd = Path::new("/usr/bin/htpasswd");
        assert!(
            htpasswd.exists(),
            "/usr/bin/htpasswd is missing: run scripts/test-tools (it installs Debian's apache2-utils)"
        );
        let out = Command::new(htpasswd)
            .args(["-Bbn", user, password])
            .output()
            .expect("htpasswd");
        assert!(out.status.success(), "htpasswd failed");
        Registry::launch_with(|dir| {
            let file = dir.join("htpasswd");
            std::fs::write(&file, &out.stdout).expect("write htpasswd");
            format!(
                "auth:\n  htpasswd:\n    realm: portcullis-test\n    path: {}\n",
                file.display()
            )
        })
    }

    fn launch(extra: &str) -> Registry {
        Registry::launch_with(|_| extra.to_string())
    }

    /// A registry whose configuration ends with what `extra` gives for its
    /// directory.
    fn launch_with(extra: impl FnOnce(&Path) -> String) -> Registry {
        let bin = Path::new("/usr/bin/docker-registry");
        assert!(
            bin.exists(),
            "{} is missing: run scripts/test-tools (it installs Debian's docker-registry)",
            bin.display()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let extra = extra(dir.path());
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n{extra}",
                dir.path().join("data").display()
            ),
        )
        .expect("config");
        let log = std::fs::File::create(dir.path().join("registry.log")).expect("log");
        let child = Command::new(bin)
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start docker-registry");
        let registry = Registry {
            child: Some(child),
            host,
            dir,
        };
        registry.wait_ready();
        registry
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(mut s) = std::net::TcpStream::connect(&self.host) {
                let _ = write!(s, "GET /v2/ HTTP/1.0\r\n\r\n");
                let mut answer = String::new();
                let _ = s.read_to_string(&mut answer);
                // 200, or 401 when it asks for credentials.
                if answer.starts_with("HTTP/1.0 200")
                    || answer.starts_with("HTTP/1.1 200")
                    || answer.starts_with("HTTP/1.1 401")
                    || answer.starts_with("HTTP/1.0 401")
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let log = std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default();
        panic!("docker-registry did not become ready in 30 s: {log}");
    }

    /// `oci://<host>/<path>`.
    pub fn oci(&self, path: &str) -> String {
        format!("oci://{}/{path}", self.host)
    }

    /// Where the registry keeps the blob `digest` (`sha256:<hex>`).
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").expect("sha256");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Stop the server (it is not restarted).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A server on a loopback port that answers every request with 401 and a
/// Basic challenge, as a registry wanting credentials does, and keeps each
/// request's head: what a client would send a registry it does not trust.
fn listener_that_asks_for_credentials() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let keep = heard.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
                match stream.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            keep.lock()
                .expect("requests")
                .push(String::from_utf8_lossy(&head).into_owned());
            let body =
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"spy\"\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (host, heard)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A built-in plugin's component, written to a file (as a team would have
/// built its own).
pub(crate) fn plugin_file(dir: &Path, name: &str) -> PathBuf {
    let (bytes, _) = portcullis::builtins::get(name).expect("built in");
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).expect("write wasm");
    path
}

/// The pinned reference `push`/`pull` print on their first line.
pub(crate) fn pinned(run: &Run) -> String {
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let first = run.stdout.lines().next().expect("a line").to_string();
    assert!(first.contains("@sha256:"), "{first}");
    first
}

/// No docker config of the machine's: an empty DOCKER_CONFIG.
pub(crate) fn no_docker_config(dir: &Path) -> (String, String) {
    let d = dir.join("docker-none");
    std::fs::create_dir_all(&d).expect("mkdir");
    ("DOCKER_CONFIG".into(), d.display().to_string())
}

pub(crate) fn env(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// A repository with a committed AWS key the secrets plugin finds, gated
/// by that plugin from `source`.
pub(crate) fn repo_with_secret(source: &str) -> Repo {
    let repo = Repo::new();
    repo.write(
        "config/deploy.env",
        // Put together here, so this file holds no key itself.
        format!("AWS_ACCESS_KEY_ID={}{}\n", "AKIA", "Z5XQ7PLM3RTW2YUV"),
    );
    repo.write(
        "portcullis.toml",
        format!("[plugins.scan]\nsource = \"{source}\"\nread = [\".\"]\n"),
    );
    repo
}

#[test]
fn a_plugin_pushed_to_a_registry_gates_by_digest_and_runs_offline_once_cached() {
    let mut registry = Registry::start();
    let work = tempfile::tempdir().expect("tempdir");
    let docker = [no_docker_config(work.path())];
    let secrets = plugin_file(work.path(), "secrets");
    let tag = registry.oci("team/secrets:1.0");
    let pusher = Repo::new();
    let push = pusher.run_env(
        &["push", &secrets.display().to_string(), &tag],
        &env(&docker),
    );
    let source = pinned(&push);
    assert!(source.starts_with(&format!("{tag}@sha256:")), "{source}");
    let component_sha = portcullis::digest::sha256_hex(&std::fs::read(&secrets).expect("read"));
    assert!(push.stdout.contains(&component_sha), "{}", push.stdout);

    // Pulled, run, and the finding is the plugin's.
    let repo = repo_with_secret(&source);
    let run = repo.run_env(&["check", ".", "--format", "json"], &env(&docker));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let ids = crate::common::finding_ids(&doc);
    assert!(ids.contains(&"scan/aws-access-key-id"), "{ids:?}");
    let text = doc.to_string();
    assert!(
        text.contains(&source),
        "the report names the source: {text}"
    );
    assert!(text.contains(&component_sha), "and the component's digest");

    // `pull -o` gives back the very bytes pushed.
    let out = work.path().join("pulled.wasm");
    let pull = repo.run_env(
        &["pull", &source, "--output", &out.display().to_string()],
        &env(&docker),
    );
    assert_eq!(pinned(&pull), source);
    assert!(pull.stdout.contains("(from the cache)"), "{}", pull.stdout);
    assert_eq!(
        std::fs::read(&out).expect("pulled"),
        std::fs::read(&secrets).expect("pushed")
    );

    // The tag moves to other content; the digest pin holds, even with a
    // cold cache, and `pull` of the tag shows where it went.
    let lint = plugin_file(work.path(), "lint");
    let moved =
        pinned(&pusher.run_env(&["push", &lint.display().to_string(), &tag], &env(&docker)));
    assert_ne!(moved, source);
    let cold = repo_with_secret(&source);
    let run = cold.run_env(&["check", ".", "--format", "json"], &env(&docker));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(crate::common::finding_ids(&run.json()).contains(&"scan/aws-access-key-id"));
    let pull = cold.run_env(&["pull", &tag], &env(&docker));
    assert_eq!(pinned(&pull), moved, "the tag now names the other plugin");

    // The registry gone: the warm cache still resolves the pin, offline;
    // a cold cache cannot, and says which source and why.
    registry.stop();
    let run = repo.run_env(&["check", ".", "--format", "json"], &env(&docker));
    assert_eq!(run.code, 1, "warm cache, registry stopped: {}", run.stderr);
    let cold = repo_with_secret(&source);
    let run = cold.run_env(&["check", "."], &env(&docker));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(&source), "{}", run.stderr);
    assert!(run.stderr.contains("Connection refused"), "{}", run.stderr);

    // What is in the cache is checked on every read: a component changed
    // there is not run (and with the registry gone, nothing is).
    let cached = repo
        .cache_dir()
        .join("oci/blobs/sha256")
        .join(&component_sha);
    let mut bytes = std::fs::read(&cached).expect("cached component");
    let n = bytes.len() / 3;
    bytes[n] ^= 1;
    std::fs::write(&cached, &bytes).expect("tamper");
    let run = repo.run_env(&["check", "."], &env(&docker));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("Connection refused"), "{}", run.stderr);
}

#[test]
fn content_that_does_not_match_its_digest_is_refused() {
    let registry = Registry::start();
    let work = tempfile::tempdir().expect("tempdir");
    let docker = [no_docker_config(work.path())];
    let secrets = plugin_file(work.path(), "secrets");
    let pusher = Repo::new();
    let source = pinned(&pusher.run_env(
        &[
            "push",
            &secrets.display().to_string(),
            &registry.oci("team/secrets:1.0"),
        ],
        &env(&docker),
    ));

    // A digest the registry does not have.
    let other = format!(
        "{}@sha256:{}",
        source.split('@').next().expect("name"),
        "0".repeat(64)
    );
    let run = repo_with_secret(&other).run_env(&["check", "."], &env(&docker));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("manifest unknown"), "{}", run.stderr);

    // The component's blob corrupted in the registry's storage (one byte
    // flipped, same length): the registry serves it under its digest.
    let layer = format!(
        "sha256:{}",
        portcullis::digest::sha256_hex(&std::fs::read(&secrets).expect("read"))
    );
    let blob = registry.blob_file(&layer);
    let mut bytes = std::fs::read(&blob).expect("blob");
    let n = bytes.len() / 2;
    bytes[n] ^= 0xff;
    std::fs::write(&blob, &bytes).expect("corrupt");
    let run = repo_with_secret(&source).run_env(&["check", "."], &env(&docker));
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains(&source), "{}", run.stderr);
    assert!(run.stderr.contains("digest mismatch"), "{}", run.stderr);

    // The manifest corrupted: refused against the pin.
    let manifest = source.split('@').nth(1).expect("digest");
    let file = registry.blob_file(manifest);
    let text = std::fs::read_to_string(&file).expect("manifest");
    std::fs::write(&file, text.replace("secrets.wasm", "secrets.wasn")).expect("corrupt");
    let run = repo_with_secret(&source).run_env(&["check", "."], &env(&docker));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("digest mismatch"), "{}", run.stderr);
}

#[test]
fn a_registry_that_wants_credentials_takes_them_from_the_docker_config() {
    let registry = Registry::with_basic_auth("ci", "s3cret");
    let work = tempfile::tempdir().expect("tempdir");
    let secrets = plugin_file(work.path(), "secrets");
    let tag = registry.oci("team/secrets:2.0");
    let repo = Repo::new();
    let wasm = secrets.display().to_string();

    // Without credentials: refused, saying what was used.
    let none = [no_docker_config(work.path())];
    let run = repo.run_env(&["push", &wasm, &tag], &env(&none));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("no credentials"), "{}", run.stderr);

    // `docker login` writes `auths` with base64 user:password.
    let config_dir = work.path().join("docker");
    std::fs::create_dir_all(&config_dir).expect("mkdir");
    let auth = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode("ci:s3cret")
    };
    std::fs::write(
        config_dir.join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, registry.host),
    )
    .expect("config.json");
    let docker = [(
        "DOCKER_CONFIG".to_string(),
        config_dir.display().to_string(),
    )];
    let source = pinned(&repo.run_env(&["push", &wasm, &tag], &env(&docker)));

    let gated = repo_with_secret(&source);
    let run = gated.run_env(&["check", "."], &env(&none));
    assert_eq!(run.code, 2, "no credentials, cold cache: {}", run.stderr);
    assert!(
        run.stderr.contains("refused the credentials"),
        "{}",
        run.stderr
    );
    let run = gated.run_env(&["check", ".", "--format", "json"], &env(&docker));
    assert_eq!(run.code, 1, "{}", run.stderr);

    // Environment credentials, as a CI job sets them, come first; wrong
    // ones are refused.
    let cold = repo_with_secret(&source);
    let mut wrong = env(&docker);
    wrong.extend([
        ("PORTCULLIS_REGISTRY", registry.host.as_str()),
        ("PORTCULLIS_REGISTRY_USERNAME", "ci"),
        ("PORTCULLIS_REGISTRY_PASSWORD", "wrong"),
    ]);
    let run = cold.run_env(&["check", "."], &wrong);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("refused the credentials (PORTCULLIS_REGISTRY_* for"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("wrong"),
        "never the secret: {}",
        run.stderr
    );
    let mut right = env(&none);
    right.extend([
        ("PORTCULLIS_REGISTRY", registry.host.as_str()),
        ("PORTCULLIS_REGISTRY_USERNAME", "ci"),
        ("PORTCULLIS_REGISTRY_PASSWORD", "s3cret"),
    ]);
    let run = cold.run_env(&["check", "."], &right);
    assert_eq!(run.code, 1, "{}", run.stderr);

    // Environment credentials are for the registry they name only: a
    // policy naming another registry does not get them (it is asked with
    // none), and without PORTCULLIS_REGISTRY they are not used at all.
    let (spy, heard) = listener_that_asks_for_credentials();
    let elsewhere = repo_with_secret(&source.replace(&registry.host, &spy));
    let mut other = env(&none);
    other.extend([
        ("PORTCULLIS_REGISTRY", registry.host.as_str()),
        ("PORTCULLIS_REGISTRY_USERNAME", "ci"),
        ("PORTCULLIS_REGISTRY_PASSWORD", "s3cret"),
    ]);
    let run = elsewhere.run_env(&["check", "."], &other);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let heard = heard.lock().expect("requests").join("\n");
    assert!(
        heard.contains("GET /v2/"),
        "the other registry was asked: {heard}"
    );
    assert!(
        !heard.to_ascii_lowercase().contains("authorization:"),
        "no credentials went to it: {heard}"
    );
    let mut unscoped = env(&none);
    unscoped.extend([
        ("PORTCULLIS_REGISTRY_USERNAME", "ci"),
        ("PORTCULLIS_REGISTRY_PASSWORD", "s3cret"),
    ]);
    let run = repo_with_secret(&source).run_env(&["check", "."], &unscoped);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("without PORTCULLIS_REGISTRY"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_source_that_is_not_pinned_or_not_a_plugin_is_refused() {
    let registry = Registry::start();
    let work = tempfile::tempdir().expect("tempdir");
    let docker = [no_docker_config(work.path())];
    let tag = registry.oci("team/secrets:1.0");
    let repo = repo_with_secret(&tag);
    let run = repo.run_env(&["check", "."], &env(&docker));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("portcullis.toml:2"), "{}", run.stderr);
    assert!(
        run.stderr.contains("is a tag, which can move"),
        "{}",
        run.stderr
    );

    // A file that is not a component is not pushed.
    let not = work.path().join("notes.wasm");
    std::fs::write(&not, b"\0asm\x01\0\0\0").expect("core module");
    let run = repo.run_env(&["push", &not.display().to_string(), &tag], &env(&docker));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("not a WebAssembly component"),
        "{}",
        run.stderr
    );
}

/// The shipped Rego example (`policies/rego.toml` and its `rego/`
/// directory) as a bundle directory: `portcullis.toml` beside `rego/`.
fn rego_bundle(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies");
    let bundle = dir.join("org-policy");
    crate::common::copy_dir(&root.join("rego"), &bundle.join("rego"));
    std::fs::copy(root.join("rego.toml"), bundle.join("portcullis.toml")).expect("policy");
    bundle
}

#[test]
fn a_policy_bundle_from_a_registry_is_extended_with_its_rego_and_locks() {
    let mut registry = Registry::start();
    let work = tempfile::tempdir().expect("tempdir");
    let docker = [no_docker_config(work.path())];
    let bundle = rego_bundle(work.path());
    // The org's policy locks a rule, so a repository cannot lower it.
    let mut text = std::fs::read_to_string(bundle.join("portcullis.toml")).expect("policy");
    text.push_str(
        "\n[rules.\"rego/kubernetes/deny_privileged\"]\nlevel = \"error\"\nlocked = true\n",
    );
    std::fs::write(bundle.join("portcullis.toml"), text).expect("write");
    let tag = registry.oci("org/policy:2026-11");
    let pusher = Repo::new();
    let push = pusher.run_env(
        &["push", &bundle.display().to_string(), &tag],
        &env(&docker),
    );
    let source = pinned(&push);
    // Pushing the same directory again gives the same digest.
    let again = pusher.run_env(
        &["push", &bundle.display().to_string(), &tag],
        &env(&docker),
    );
    assert_eq!(pinned(&again), source, "a bundle packs reproducibly");

    let repo = Repo::new();
    crate::common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/policy-tests/kubernetes/repo"),
        repo.path(),
    );
    repo.write("portcullis.toml", format!("extends = [\"{source}\"]\n"));
    let run = repo.run_env(&["check", ".", "--format", "json"], &env(&docker));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let doc = run.json();
    let ids = crate::common::finding_ids(&doc);
    for rule in [
        "rego/kubernetes/deny_no_limits",
        "rego/kubernetes/deny_privileged",
        "rego/kubernetes/warn_capabilities",
    ] {
        assert!(ids.contains(&rule), "{rule} in {ids:?}");
    }

    // `pull` says it is a bundle and where it is unpacked.
    let pull = repo.run_env(&["pull", &source], &env(&docker));
    assert_eq!(pinned(&pull), source);
    assert!(
        pull.stdout.contains("policy bundle unpacked in"),
        "{}",
        pull.stdout
    );

    // The lock holds from the registry's copy.
    repo.write(
        "portcullis.toml",
        format!("extends = [\"{source}\"]\n[rules.\"rego/kubernetes/deny_privileged\"]\nlevel = \"off\"\n"),
    );
    let run = repo.run_env(&["check", "."], &env(&docker));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("lowers rule `rego/kubernetes/deny_privileged`, locked at"),
        "{}",
        run.stderr
    );

    // Offline with the cache warm, even when the unpacked copy was
    // tampered with (it is unpacked again from the checked layer).
    registry.stop();
    repo.write("portcullis.toml", format!("extends = [\"{source}\"]\n"));
    let unpacked = std::fs::read_dir(repo.cache_dir().join("oci/trees"))
        .expect("trees")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.join("portcullis.toml").exists())
        .expect("an unpacked bundle");
    let rego = unpacked.join("rego/kubernetes/kubernetes.rego");
    std::fs::write(&rego, "package kubernetes\n").expect("tamper");
    let run = repo.run_env(&["check", ".", "--format", "json"], &env(&docker));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(crate::common::finding_ids(&run.json()).contains(&"rego/kubernetes/deny_privileged"));
    assert_ne!(
        std::fs::read_to_string(&rego).expect("rego"),
        "package kubernetes\n"
    );

    // A bundle is pinned whole: it may not follow tags, nor name files
    // outside itself through a relative path.
    registry_bundle_refusals(work.path(), &docker);

    // A plugin is not a policy, nor a tag a pin.
    let cold = Repo::new();
    cold.write("portcullis.toml", format!("extends = [\"{tag}\"]\n"));
    let run = cold.run_env(&["check", "."], &env(&docker));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("portcullis.toml:1"), "{}", run.stderr);
    assert!(
        run.stderr.contains("is a tag, which can move"),
        "{}",
        run.stderr
    );
}

/// Bundles that set `allow-oci-tags`, or reach out of themselves with
/// `..`, pushed to a registry of their own and extended: exit 2, saying so.
fn registry_bundle_refusals(work: &Path, docker: &[(String, String)]) {
    let registry = Registry::start();
    let pusher = Repo::new();
    for (name, policy, why) in [
        (
            "tags",
            "allow-oci-tags = true\n[plugins.lint]\nsource = \"builtin:lint\"\n",
            "a policy bundle may not set allow-oci-tags",
        ),
        (
            "escape",
            "[plugins.rego]\nsource = \"builtin:rego\"\n[plugins.rego.mounts]\npolicies = \"../..\"\n",
            "outside the bundle",
        ),
    ] {
        let dir = work.join(format!("bundle-{name}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("portcullis.toml"), policy).expect("policy");
        let source = pinned(&pusher.run_env(
            &[
                "push",
                &dir.display().to_string(),
                &registry.oci(&format!("org/{name}:1")),
            ],
            &env(docker),
        ));
        let repo = Repo::new();
        repo.write("portcullis.toml", format!("extends = [\"{source}\"]\n"));
        let run = repo.run_env(&["check", "."], &env(docker));
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(run.stderr.contains(why), "{name}: {}", run.stderr);
    }
}

#[test]
fn a_plugin_is_not_taken_for_a_policy_nor_a_policy_for_a_plugin() {
    let registry = Registry::start();
    let work = tempfile::tempdir().expect("tempdir");
    let docker = [no_docker_config(work.path())];
    let pusher = Repo::new();
    let plugin = pinned(&pusher.run_env(
        &[
            "push",
            &plugin_file(work.path(), "secrets").display().to_string(),
            &registry.oci("p/secrets:1"),
        ],
        &env(&docker),
    ));
    let policy = pinned(&pusher.run_env(
        &[
            "push",
            &rego_bundle(work.path()).display().to_string(),
            &registry.oci("p/policy:1"),
        ],
        &env(&docker),
    ));
    let repo = Repo::new();
    repo.write("portcullis.toml", format!("extends = [\"{plugin}\"]\n"));
    let run = repo.run_env(&["check", "."], &env(&docker));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is not a portcullis policy bundle (it is a plugin)"),
        "{}",
        run.stderr
    );
    let run = repo_with_secret(&policy).run_env(&["check", "."], &env(&docker));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("is not a portcullis plugin (it is a policy bundle)"),
        "{}",
        run.stderr
    );
}

#[test]
fn tags_are_taken_only_when_allowed_and_a_lock_pins_them() {
    let mut registry = Registry::start();
    let work = tempfile::tempdir().expect("tempdir");
    let docker = [no_docker_config(work.path())];
    let tag = registry.oci("team/scan:stable");
    let pusher = Repo::new();
    let secrets = pinned(&pusher.run_env(
        &[
            "push",
            &plugin_file(work.path(), "secrets").display().to_string(),
            &tag,
        ],
        &env(&docker),
    ));
    let secrets_digest = secrets.split('@').nth(1).expect("digest").to_string();
    let repo = repo_with_secret(&tag);
    let policy =
        format!("allow-oci-tags = true\n[plugins.scan]\nsource = \"{tag}\"\nread = [\".\"]\n");
    repo.write("portcullis.toml", &policy);

    // No lock: the tag is resolved now, and the digest is said.
    let run = repo.run_env(&["check", "."], &env(&docker));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("note: {tag} is {secrets_digest} now")),
        "{}",
        run.stderr
    );

    // `lock` pins it; then the tag may move and the run does not follow.
    let lock = repo.run_env(&["lock"], &env(&docker));
    assert_eq!(lock.code, 0, "{}", lock.stderr);
    let text = std::fs::read_to_string(repo.path().join("portcullis.lock")).expect("lock file");
    assert!(
        text.contains(&format!("\"{tag}\" = \"{secrets_digest}\"")),
        "{text}"
    );
    let lint = pinned(&pusher.run_env(
        &[
            "push",
            &plugin_file(work.path(), "lint").display().to_string(),
            &tag,
        ],
        &env(&docker),
    ));
    let run = repo.run_env(&["check", ".", "--format", "json"], &env(&docker));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.contains("note:"), "{}", run.stderr);
    assert!(crate::common::finding_ids(&run.json()).contains(&"scan/aws-access-key-id"));

    // A policy that no longer matches its lock is refused, either way.
    let other = registry.oci("team/other:1");
    repo.write(
        "portcullis.toml",
        format!("{policy}[plugins.more]\nsource = \"{other}\"\n"),
    );
    let run = repo.run_env(&["check", "."], &env(&docker));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("`{other}` is not pinned in")),
        "{}",
        run.stderr
    );
    repo.write(
        "portcullis.toml",
        format!("[plugins.scan]\nsource = \"{secrets}\"\nread = [\".\"]\n"),
    );
    let run = repo.run_env(&["check", "."], &env(&docker));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("which the policy no longer names"),
        "{}",
        run.stderr
    );

    // Locking again follows the tag to where it is now.
    repo.write("portcullis.toml", &policy);
    let lock = repo.run_env(&["lock"], &env(&docker));
    assert_eq!(lock.code, 0, "{}", lock.stderr);
    let lint_digest = lint.split('@').nth(1).expect("digest");
    assert!(lock.stdout.contains(lint_digest), "{}", lock.stdout);

    // `lock PATH` locks the policy found from PATH, beside it.
    repo.write("svc/portcullis.toml", &policy);
    let lock = repo.run_env(&["lock", "svc"], &env(&docker));
    assert_eq!(lock.code, 0, "{}", lock.stderr);
    assert!(repo.path().join("svc/portcullis.lock").is_file());

    // And with the registry gone, the locked tag runs from the cache.
    registry.stop();
    let run = repo.run_env(&["check", ".", "--format", "json"], &env(&docker));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        !crate::common::finding_ids(&run.json()).contains(&"scan/aws-access-key-id"),
        "the lint plugin runs now"
    );
}

/// openssl with `args`: its output, or the test fails with its error.
pub(crate) fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl (scripts/test-tools installs it)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub(crate) fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// `message` signed with `key` (ECDSA, SHA-256) by openssl, through a
/// file in `dir`.
pub(crate) fn sign(dir: &Path, key: &Path, message: &[u8]) -> Vec<u8> {
    let file = dir.join("message");
    std::fs::write(&file, message).expect("message");
    openssl(&["dgst", "-sha256", "-sign", path(key), path(&file)])
}

/// A key pair made by openssl as cosign's are (ECDSA P-256): the private
/// key (PEM) and the public key (PEM `PUBLIC KEY`, as `cosign.pub`).
pub(crate) fn key_pair(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let private = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    openssl(&[
        "ecparam",
        "-genkey",
        "-name",
        "prime256v1",
        "-noout",
        "-out",
        path(&private),
    ]);
    openssl(&[
        "ec",
        "-pubout",
        "-in",
        path(&private),
        "-out",
        path(&public),
    ]);
    (private, public)
}

/// Sign `digest` in `repo` as `cosign sign --key` does: a simple-signing
/// payload naming `names` (normally `digest` itself), signed by openssl
/// with `key`, pushed as the image manifest tagged `sha256-<hex>.sig`.
fn cosign_sign(registry: &Registry, repo: &str, digest: &str, names: &str, key: &Path) {
    use base64::Engine;
    let payload = format!(
        r#"{{"critical":{{"identity":{{"docker-reference":"{}/{repo}"}},"image":{{"docker-manifest-digest":"{names}"}},"type":"cosign container image signature"}},"optional":null}}"#,
        registry.host
    );
    let work = tempfile::tempdir().expect("tempdir");
    let signature = base64::engine::general_purpose::STANDARD.encode(sign(
        work.path(),
        key,
        payload.as_bytes(),
    ));
    let payload_digest = format!(
        "sha256:{}",
        portcullis::digest::sha256_hex(payload.as_bytes())
    );
    let config = format!(
        r#"{{"architecture":"","created":"0001-01-01T00:00:00Z","history":[{{"created":"0001-01-01T00:00:00Z"}}],"os":"","rootfs":{{"type":"layers","diff_ids":["{payload_digest}"]}},"config":{{}}}}"#
    );
    let config_digest = format!(
        "sha256:{}",
        portcullis::digest::sha256_hex(config.as_bytes())
    );
    upload_blob(registry, repo, payload.as_bytes());
    upload_blob(registry, repo, config.as_bytes());
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","size":{},"digest":"{config_digest}"}},"layers":[{{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","size":{},"digest":"{payload_digest}","annotations":{{"dev.cosignproject.cosign/signature":"{signature}"}}}}]}}"#,
        config.len(),
        payload.len()
    );
    let hex = digest.strip_prefix("sha256:").expect("digest");
    put_manifest(
        registry,
        repo,
        &format!("sha256-{hex}.sig"),
        "application/vnd.oci.image.manifest.v1+json",
        manifest.as_bytes(),
    );
}

/// Upload `bytes` as a blob of `repo`, as a client does (a monolithic
/// upload); its digest.
pub(crate) fn upload_blob(registry: &Registry, repo: &str, bytes: &[u8]) -> String {
    let digest = format!("sha256:{}", portcullis::digest::sha256_hex(bytes));
    let started = ureq::post(format!("http://{}/v2/{repo}/blobs/uploads/", registry.host))
        .send_empty()
        .expect("start upload");
    let location = started
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .expect("upload location")
        .to_string();
    let url = if location.starts_with("http") {
        location
    } else {
        format!("http://{}{location}", registry.host)
    };
    let sep = if url.contains('?') { '&' } else { '?' };
    ureq::put(format!("{url}{sep}digest={digest}"))
        .header("Content-Type", "application/octet-stream")
        .send(bytes)
        .expect("upload");
    digest
}

/// Put a manifest of `repo` under `reference` (a tag or its digest).
pub(crate) fn put_manifest(
    registry: &Registry,
    repo: &str,
    reference: &str,
    media_type: &str,
    bytes: &[u8],
) {
    ureq::put(format!(
        "http://{}/v2/{repo}/manifests/{reference}",
        registry.host
    ))
    .header("Content-Type", media_type)
    .send(bytes)
    .expect("push manifest");
}

#[test]
fn signatures_a_policy_requires_are_checked_against_its_keys() {
    let mut registry = Registry::start();
    let work = tempfile::tempdir().expect("tempdir");
    let docker = [no_docker_config(work.path())];
    let (team_key, team_pub) = key_pair(work.path(), "team");
    let (other_key, _) = key_pair(work.path(), "other");
    let pusher = Repo::new();
    let source = pinned(&pusher.run_env(
        &[
            "push",
            &plugin_file(work.path(), "secrets").display().to_string(),
            &registry.oci("team/secrets:1"),
        ],
        &env(&docker),
    ));
    let digest = source.split('@').nth(1).expect("digest").to_string();
    let lint = pinned(&pusher.run_env(
        &[
            "push",
            &plugin_file(work.path(), "lint").display().to_string(),
            &registry.oci("team/lint:1"),
        ],
        &env(&docker),
    ));
    let lint_digest = lint.split('@').nth(1).expect("digest").to_string();

    let repo = repo_with_secret(&source);
    std::fs::copy(&team_pub, repo.path().join("team.pub")).expect("key");
    repo.write(
        "portcullis.toml",
        format!("[signatures]\nkeys = [\"team.pub\"]\n[plugins.scan]\nsource = \"{source}\"\nread = [\".\"]\n"),
    );
    let check = |repo: &Repo| repo.run_env(&["check", ".", "--format", "json"], &env(&docker));

    // Unsigned: refused, naming the source and the key wanted.
    let run = check(&repo);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{source} is not signed")),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("team.pub"), "{}", run.stderr);

    // Signed by another key: refused.
    cosign_sign(&registry, "team/secrets", &digest, &digest, &other_key);
    let run = check(&repo);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("{source} is not signed by the key")),
        "{}",
        run.stderr
    );

    // The team's signature of another artifact, copied under this one's
    // signature tag: refused (the payload names the digest signed).
    cosign_sign(&registry, "team/secrets", &digest, &lint_digest, &team_key);
    let run = check(&repo);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("is not signed by the key"),
        "{}",
        run.stderr
    );

    // Signed by the team: evaluated.
    cosign_sign(&registry, "team/secrets", &digest, &digest, &team_key);
    let run = check(&repo);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(crate::common::finding_ids(&run.json()).contains(&"scan/aws-access-key-id"));

    // A policy bundle that requires the team's signature binds what
    // extends it: the repository's own plugin must be signed too.
    let bundle = work.path().join("org");
    std::fs::create_dir_all(&bundle).expect("mkdir");
    std::fs::copy(&team_pub, bundle.join("team.pub")).expect("key");
    std::fs::write(
        bundle.join("portcullis.toml"),
        "[signatures]\nkeys = [\"team.pub\"]\n[plugins.secrets]\nsource = \"builtin:secrets\"\nread = [\".\"]\n",
    )
    .expect("policy");
    let org = pinned(&pusher.run_env(
        &[
            "push",
            &bundle.display().to_string(),
            &registry.oci("org/policy:1"),
        ],
        &env(&docker),
    ));
    let org_digest = org.split('@').nth(1).expect("digest").to_string();
    cosign_sign(&registry, "org/policy", &org_digest, &org_digest, &team_key);
    let extending = repo_with_secret(&lint);
    extending.write(
        "portcullis.toml",
        format!("extends = [\"{org}\"]\n[plugins.style]\nsource = \"{lint}\"\nread = [\".\"]\n"),
    );
    let run = check(&extending);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(&format!("{lint} is not signed")),
        "{}",
        run.stderr
    );
    cosign_sign(
        &registry,
        "team/lint",
        &lint_digest,
        &lint_digest,
        &team_key,
    );
    let run = check(&extending);
    assert_eq!(run.code, 1, "{}", run.stderr);

    // Offline: the signatures kept in the cache verify; a cold cache
    // cannot read them.
    registry.stop();
    let run = check(&repo);
    assert_eq!(run.code, 1, "warm, registry stopped: {}", run.stderr);
    let cold = repo_with_secret(&source);
    std::fs::copy(&team_pub, cold.path().join("team.pub")).expect("key");
    cold.write(
        "portcullis.toml",
        format!("[signatures]\nkeys = [\"team.pub\"]\n[plugins.scan]\nsource = \"{source}\"\nread = [\".\"]\n"),
    );
    let run = check(&cold);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot read its signatures"),
        "{}",
        run.stderr
    );
}
