//! Plugins from OCI registries: `source = "oci://registry/repo:tag@sha256:…"`.
//!
//! A plugin is pushed as an OCI 1.1 artifact: an image manifest whose
//! `artifactType` is [`PLUGIN_ARTIFACT`], with the empty config and one
//! layer, the component ([`PLUGIN_LAYER`]). A source is pinned by the
//! manifest's digest; the manifest names the layer by its digest, so the
//! pin covers the component's bytes.
//!
//! What is pulled is checked against its digest before it is used or kept,
//! and kept in a content-addressed store in the cache directory
//! (`oci/blobs/sha256/<hex>`), read back only when its bytes still hash to
//! their name. A pinned source whose manifest and component are in the
//! store is resolved without the network.
//!
//! The registry is spoken to with [`oci_client`] (the Distribution API and
//! its token authentication), over HTTPS, or plain HTTP for a registry on
//! this machine (`localhost`, `127.0.0.0/8`, `[::1]`), as docker does.
//! Credentials come from [`auth`].

pub mod auth;
pub mod bundle;
pub mod keyless;
pub mod reference;
pub mod signatures;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::{Client, RegistryOperation};
use serde::{Deserialize, Serialize};

pub use reference::OciRef;

use crate::digest::sha256_hex;

/// The `artifactType` of a plugin's manifest.
pub const PLUGIN_ARTIFACT: &str = "application/vnd.portcullis.plugin.v1+wasm";
/// The media type of a plugin's one layer: a WebAssembly component.
pub const PLUGIN_LAYER: &str = "application/vnd.portcullis.plugin.component.v1+wasm";
/// The `artifactType` of a policy bundle's manifest.
pub const POLICY_ARTIFACT: &str = "application/vnd.portcullis.policy.v1";
/// The media type of a policy bundle's one layer: a gzip tar.
pub const POLICY_LAYER: &str = "application/vnd.portcullis.policy.layer.v1.tar+gzip";

/// What an artifact is: its type, its one layer's media type, how large
/// that layer may be, and what it is called in messages.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Kind {
    artifact: &'static str,
    layer: &'static str,
    max: usize,
    noun: &'static str,
}

/// A plugin: one component.
pub const PLUGIN: Kind = Kind {
    artifact: PLUGIN_ARTIFACT,
    layer: PLUGIN_LAYER,
    max: crate::sandbox::compile::MAX_COMPONENT_BYTES,
    noun: "plugin",
};

/// A policy bundle: a directory as a gzip tar ([`bundle`]).
pub const POLICY: Kind = Kind {
    artifact: POLICY_ARTIFACT,
    layer: POLICY_LAYER,
    max: bundle::MAX_BYTES as usize,
    noun: "policy bundle",
};

/// OCI 1.1's empty config, for artifacts that have none.
const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";
const EMPTY_CONFIG_BYTES: &[u8] = b"{}";
const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Docker's image manifest, which older cosign releases sign with.
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// The largest manifest read (the distribution spec's limit for pushes).
pub(crate) const MAX_MANIFEST_BYTES: usize = 4 << 20;
/// How long one pull or push may take in all.
const DEADLINE: Duration = Duration::from_secs(300);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// An artifact's one layer (a plugin's component, a bundle's tar), from
/// the store or the registry.
pub struct Pulled {
    /// The manifest's digest (the pin).
    pub digest: String,
    /// The layer's bytes, checked against its digest.
    pub layer: Vec<u8>,
    /// The layer's digest.
    pub layer_digest: String,
    /// A plugin or a policy bundle.
    pub kind: Kind,
    /// True when the registry was not asked.
    pub cached: bool,
}

/// An image manifest, as much of it as is checked.
#[derive(Serialize, Deserialize)]
struct Manifest {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    #[serde(
        rename = "artifactType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    artifact_type: Option<String>,
    config: Descriptor,
    layers: Vec<Descriptor>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

#[derive(Serialize, Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType")]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
}

/// The content-addressed store: `<cache>/oci/blobs/sha256/<hex>`.
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// The store in `cache` (the cache directory), created when missing.
    pub fn open(cache: &Path) -> std::io::Result<Store> {
        let dir = cache.join("oci").join("blobs").join("sha256");
        std::fs::create_dir_all(&dir)?;
        Ok(Store { dir })
    }

    fn path(&self, digest: &str) -> Option<PathBuf> {
        let hex = digest.strip_prefix("sha256:")?;
        (hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then(|| self.dir.join(hex))
    }

    /// The bytes stored under `digest`, when they still hash to it and are
    /// at most `max` long. An entry that does not is removed.
    pub fn get(&self, digest: &str, max: usize) -> Option<Vec<u8>> {
        let path = self.path(digest)?;
        // Over `max` is an error of the read, a miss here.
        let bytes = crate::files::read(&path, max as u64).ok()?;
        if format!("sha256:{}", sha256_hex(&bytes)) != digest {
            let _ = std::fs::remove_file(&path);
            return None;
        }
        Some(bytes)
    }

    /// Keep `bytes` under their digest.
    fn put(&self, bytes: &[u8]) -> std::io::Result<String> {
        let digest = format!("sha256:{}", sha256_hex(bytes));
        if let Some(path) = self.path(&digest) {
            crate::cache::replace(&path, &[bytes], false)?;
        }
        Ok(digest)
    }
}

/// The plugin `r` names (pinned or not), from the store in `cache` when it
/// is there, else from the registry (then kept in the store).
pub fn pull_plugin(r: &OciRef, cache: Option<&Path>) -> Result<Pulled, String> {
    pull(r, cache, Some(PLUGIN))
}

/// The policy bundle `r` names, unpacked in the cache: the directory its
/// `portcullis.toml` is in. A bundle needs the cache.
pub fn pull_policy(r: &OciRef, cache: Option<&Path>) -> Result<PathBuf, String> {
    let Some(cache) = cache else {
        return Err(format!(
            "{r}: a policy bundle is unpacked in the cache directory, and caching is off (PORTCULLIS_CACHE_DIR=off, or the directory is not private)"
        ));
    };
    let pulled = pull(r, Some(cache), Some(POLICY))?;
    unpack(r, cache, &pulled)
}

/// The policy bundle `pulled` (from `r`), unpacked in the cache.
pub fn unpack(r: &OciRef, cache: &Path, pulled: &Pulled) -> Result<PathBuf, String> {
    let hex = &pulled.layer_digest["sha256:".len()..];
    bundle::tree(&cache.join("oci").join("trees"), hex, &pulled.layer)
        .map_err(|e| format!("{r}: {e}"))
}

/// The artifact `r` names: of `kind`, or of either kind when `None`.
pub fn pull(r: &OciRef, cache: Option<&Path>, kind: Option<Kind>) -> Result<Pulled, String> {
    let store = cache.and_then(|c| Store::open(c).ok());
    if let (Some(store), Some(digest)) = (&store, &r.digest)
        && let Some(manifest) = store.get(digest, MAX_MANIFEST_BYTES)
        && let Ok((layer, kind)) = only_layer(r, &manifest, kind)
        && let Some(bytes) = store.get(&layer.digest, layer.size as usize)
    {
        return Ok(Pulled {
            digest: digest.clone(),
            layer: bytes,
            layer_digest: layer.digest,
            kind,
            cached: true,
        });
    }
    let (digest, manifest, content, layer, kind) = run(r, async |client, image, access| {
        let (auth, describe) = (&access.auth, |e| access.describe(e));
        let bytes = read_manifest(client, image, auth, &[MANIFEST], r, describe).await?;
        let digest = format!("sha256:{}", sha256_hex(&bytes));
        if let Some(pinned) = &r.digest
            && *pinned != digest
        {
            return Err(format!(
                "{r}: digest mismatch: the registry's manifest hashes to {digest}"
            ));
        }
        let (layer, kind) = only_layer(r, &bytes, kind)?;
        let size = layer.size as usize;
        if let Some(content) = store.as_ref().and_then(|s| s.get(&layer.digest, size)) {
            return Ok((digest, bytes.to_vec(), content, layer, kind));
        }
        // No more than the manifest says (itself within the kind's limit).
        let content = read_blob(client, image, &layer.digest, size)
            .await
            .map_err(|e| match e {
                None => format!(
                    "{r}: the registry sent more than the {size} bytes the manifest gives for the {}",
                    kind.noun
                ),
                Some(e) => describe(e),
            })?;
        let actual = format!("sha256:{}", sha256_hex(&content));
        if actual != layer.digest || content.len() != size {
            return Err(format!(
                "{r}: digest mismatch: the layer should be {} ({size} bytes), the registry sent {actual} ({} bytes)",
                layer.digest,
                content.len()
            ));
        }
        Ok((digest, bytes.to_vec(), content, layer, kind))
    })?;
    if let Some(store) = &store {
        // A store that cannot be written to is only a miss next time.
        let _ = store.put(&content);
        let _ = store.put(&manifest);
    }
    Ok(Pulled {
        digest,
        layer: content,
        layer_digest: layer.digest,
        kind,
        cached: false,
    })
}

/// Push `wasm` (a component) to `r` (a tag) as a plugin artifact; `title`
/// names the file. Returns the manifest's digest.
pub fn push_plugin(r: &OciRef, wasm: &[u8], title: &str) -> Result<String, String> {
    if !is_component(wasm) {
        return Err(format!("{title} is not a WebAssembly component"));
    }
    push(r, wasm, title, PLUGIN)
}

/// Push the directory `dir` (holding `portcullis.toml`) to `r` (a tag) as
/// a policy bundle. Returns the manifest's digest.
pub fn push_policy(r: &OciRef, dir: &Path) -> Result<String, String> {
    let layer = bundle::pack(dir)?;
    let title = dir
        .canonicalize()
        .ok()
        .and_then(|d| d.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "policy".into());
    push(r, &layer, &format!("{title}.tar.gz"), POLICY)
}

fn push(r: &OciRef, content: &[u8], title: &str, kind: Kind) -> Result<String, String> {
    if r.tag.is_none() || r.digest.is_some() {
        return Err(format!(
            "{r}: push to a tag (oci://<registry>/<repository>:<tag>); the digest is printed after"
        ));
    }
    let layer_digest = format!("sha256:{}", sha256_hex(content));
    let config_digest = format!("sha256:{}", sha256_hex(EMPTY_CONFIG_BYTES));
    let manifest = Manifest {
        schema_version: 2,
        media_type: Some(MANIFEST.into()),
        artifact_type: Some(kind.artifact.into()),
        config: Descriptor {
            media_type: EMPTY_CONFIG.into(),
            digest: config_digest.clone(),
            size: EMPTY_CONFIG_BYTES.len() as u64,
            annotations: BTreeMap::new(),
        },
        layers: vec![Descriptor {
            media_type: kind.layer.into(),
            digest: layer_digest.clone(),
            size: content.len() as u64,
            annotations: BTreeMap::from([(
                "org.opencontainers.image.title".to_string(),
                title.to_string(),
            )]),
        }],
        annotations: BTreeMap::from([(
            "org.opencontainers.image.title".to_string(),
            title.to_string(),
        )]),
    };
    let bytes = serde_json::to_vec(&manifest).map_err(|e| e.to_string())?;
    let digest = format!("sha256:{}", sha256_hex(&bytes));
    run(r, async |client, image, access| {
        let (auth, describe) = (&access.auth, |e| access.describe(e));
        client
            .auth(image, auth, RegistryOperation::Push)
            .await
            .map_err(describe)?;
        for (blob, d) in [
            (EMPTY_CONFIG_BYTES, &config_digest),
            (content, &layer_digest),
        ] {
            let there = client.blob_exists(image, d).await.unwrap_or(false);
            if !there {
                client
                    .push_blob(image, blob.to_vec(), d)
                    .await
                    .map_err(describe)?;
            }
        }
        client
            .push_manifest_raw(
                image,
                bytes.clone(),
                ::http::HeaderValue::from_static(MANIFEST),
            )
            .await
            .map_err(describe)?;
        Ok(())
    })?;
    Ok(digest)
}

/// The one layer of the manifest `bytes` and the kind of artifact it is,
/// or why it is not of `kind` (when given) or of either kind.
fn only_layer(r: &OciRef, bytes: &[u8], kind: Option<Kind>) -> Result<(Descriptor, Kind), String> {
    let manifest: Manifest = serde_json::from_slice(bytes)
        .map_err(|e| format!("{r}: not an OCI image manifest: {e}"))?;
    if manifest.schema_version != 2
        || manifest
            .media_type
            .as_deref()
            .is_some_and(|m| m != MANIFEST)
    {
        return Err(format!(
            "{r}: not an OCI image manifest (schema {}, media type {})",
            manifest.schema_version,
            manifest.media_type.as_deref().unwrap_or("none")
        ));
    }
    let is = manifest
        .artifact_type
        .as_deref()
        .unwrap_or(&manifest.config.media_type);
    let found = [PLUGIN, POLICY].into_iter().find(|k| k.artifact == is);
    let kind = match (kind, found) {
        (Some(want), Some(got)) if want == got => want,
        (None, Some(got)) => got,
        (want, found) => {
            let what = match found {
                Some(k) => format!("it is a {}", k.noun),
                None => format!("its artifact type is {is}"),
            };
            let wanted = want.map_or("plugin or policy bundle", |k| k.noun);
            return Err(format!("{r} is not a portcullis {wanted} ({what})"));
        }
    };
    let mut layers = manifest.layers.into_iter();
    match (layers.next(), layers.next()) {
        (Some(layer), None)
            if layer.media_type == kind.layer
                && reference::parse_digest(&layer.digest).as_deref() == Ok(&layer.digest) =>
        {
            if layer.size > kind.max as u64 {
                return Err(format!(
                    "{r}: the layer is {} bytes, over the {} a {} may be",
                    layer.size, kind.max, kind.noun
                ));
            }
            Ok((layer, kind))
        }
        _ => Err(format!(
            "{r} is not a well-formed portcullis {}: it should have one {} layer",
            kind.noun, kind.layer
        )),
    }
}

/// The manifest `r` names (by tag or digest), as the registry sends it,
/// checked against `r`'s digest when it has one.
pub(crate) fn fetch_manifest(r: &OciRef) -> Result<Vec<u8>, String> {
    run(r, async |client, image, access| {
        let (auth, describe) = (&access.auth, |e| access.describe(e));
        let bytes = read_manifest(
            client,
            image,
            auth,
            &[MANIFEST, DOCKER_MANIFEST],
            r,
            describe,
        );
        Ok(bytes.await?.to_vec())
    })
}

/// The blob `digest` of `r`'s repository, at most `size` bytes, checked
/// against its digest.
pub(crate) fn fetch_blob(r: &OciRef, digest: &str, size: usize) -> Result<Vec<u8>, String> {
    run(r, async |client, image, access| {
        let bytes = read_blob(client, image, digest, size)
            .await
            .map_err(|e| match e {
                None => format!("{r}: {digest} is over {size} bytes"),
                Some(e) => access.describe(e),
            })?;
        if format!("sha256:{}", sha256_hex(&bytes)) != digest {
            return Err(format!("{r}: digest mismatch for {digest}"));
        }
        Ok(bytes)
    })
}

/// The most referrers of one artifact that are read.
pub(crate) const MAX_REFERRERS: usize = 64;

/// The Sigstore bundles attached to `r` (pinned) as referrers: listed by
/// the registry's referrers API, or by the referrers tag (`sha256-<hex>`)
/// of a registry without one (that answers the API with 404). Each
/// referrer's manifest (refused over [`MAX_MANIFEST_BYTES`] once read) and
/// bundle (read no further than its size) is checked against its digest,
/// all within one [`DEADLINE`]. Referrers listed as Sigstore
/// bundles are read first (cosign lists its own under the empty type);
/// one that cannot be read is one fewer candidate.
pub(crate) fn fetch_bundles(r: &OciRef, max_bundle: usize) -> Result<Vec<Vec<u8>>, String> {
    run(r, async |client, image, access| {
        let (auth, describe) = (&access.auth, |e| access.describe(e));
        let index = client.pull_referrers(image, None).await.map_err(describe)?;
        let mut listed = index.manifests;
        listed.sort_by_key(|m| {
            !m.artifact_type
                .as_deref()
                .is_some_and(|t| t.starts_with(keyless::BUNDLE_MEDIA_PREFIX))
        });
        let listed = listed
            .iter()
            .filter(|m| reference::parse_digest(&m.digest).as_deref() == Ok(m.digest.as_str()));
        let mut bundles = Vec::new();
        for m in listed.take(MAX_REFERRERS) {
            let one = r.pinned(&m.digest);
            let Ok(bytes) = read_manifest(
                client,
                &one.client_ref(),
                auth,
                &[MANIFEST],
                &one,
                &describe,
            )
            .await
            else {
                continue;
            };
            if format!("sha256:{}", sha256_hex(&bytes)) != m.digest {
                continue;
            }
            let Ok(manifest) = serde_json::from_slice::<Manifest>(&bytes) else {
                continue;
            };
            let layer = manifest.layers.iter().find(|l| {
                l.media_type.starts_with(keyless::BUNDLE_MEDIA_PREFIX)
                    && l.size <= max_bundle as u64
                    && reference::parse_digest(&l.digest).as_deref() == Ok(l.digest.as_str())
            });
            let Some(layer) = layer else {
                continue;
            };
            if let Ok(bundle) = read_blob(client, image, &layer.digest, layer.size as usize).await
                && format!("sha256:{}", sha256_hex(&bundle)) == layer.digest
            {
                bundles.push(bundle);
            }
        }
        Ok(bundles)
    })
}

/// The manifest `image` names, of one of `types`, refused over
/// [`MAX_MANIFEST_BYTES`].
async fn read_manifest(
    client: &Client,
    image: &oci_client::Reference,
    auth: &oci_client::secrets::RegistryAuth,
    types: &[&str],
    r: &OciRef,
    describe: impl Fn(oci_client::errors::OciDistributionError) -> String,
) -> Result<bytes::Bytes, String> {
    let (bytes, _) = client
        .pull_manifest_raw(image, auth, types)
        .await
        .map_err(describe)?;
    if bytes.len() > MAX_MANIFEST_BYTES {
        return Err(format!(
            "{r}: the manifest is over {MAX_MANIFEST_BYTES} bytes"
        ));
    }
    Ok(bytes)
}

/// The blob `digest`, read no further than `size` bytes: `Err(None)` when
/// the registry sends more, else the client's error.
async fn read_blob(
    client: &Client,
    image: &oci_client::Reference,
    digest: &str,
    size: usize,
) -> Result<Vec<u8>, Option<oci_client::errors::OciDistributionError>> {
    let mut out = Bounded::new(size);
    match client.pull_blob(image, digest, &mut out).await {
        Ok(()) => Ok(out.buf),
        Err(_) if out.over => Err(None),
        Err(e) => Err(Some(e)),
    }
}

/// The credentials a client uses for one source, where they came from,
/// and how its errors are told.
struct Access {
    r: OciRef,
    auth: oci_client::secrets::RegistryAuth,
    /// Where the credentials came from.
    from: String,
}

impl Access {
    fn describe(&self, e: oci_client::errors::OciDistributionError) -> String {
        describe(&self.r, e, &self.from)
    }
}

/// Run `op` with a client for `r`'s registry, holding the credentials for
/// it, on a runtime of its own, within [`DEADLINE`].
fn run<T>(
    r: &OciRef,
    op: impl AsyncFnOnce(&Client, &oci_client::Reference, &Access) -> Result<T, String>,
) -> Result<T, String> {
    let (auth, from) =
        auth::for_registry(&r.registry).map_err(|e| format!("{r}: credentials: {e}"))?;
    let access = Access {
        r: r.clone(),
        auth,
        from,
    };
    // reqwest's TLS asks for the process's provider; ring is the one the
    // metrics client already links. Installed once; a second call fails
    // harmlessly.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("{r}: cannot start the network runtime: {e}"))?;
    let protocol = if r.is_loopback() {
        ClientProtocol::HttpsExcept(vec![r.registry.clone()])
    } else {
        ClientProtocol::Https
    };
    let config = ClientConfig {
        protocol,
        platform_resolver: None,
        connect_timeout: Some(CONNECT_TIMEOUT),
        read_timeout: Some(READ_TIMEOUT),
        user_agent: concat!("portcullis/", env!("CARGO_PKG_VERSION")),
        ..ClientConfig::default()
    };
    let client = Client::new(config);
    let image = r.client_ref();
    runtime.block_on(async {
        client
            .store_auth_if_needed(image.resolve_registry(), &access.auth)
            .await;
        match tokio::time::timeout(DEADLINE, op(&client, &image, &access)).await {
            Ok(result) => result,
            Err(_) => Err(format!(
                "{r}: the registry did not finish in {} s",
                DEADLINE.as_secs()
            )),
        }
    })
}

/// One line for a client error, naming the source, and for a refusal the
/// credentials that were refused (`from`: where they came from).
fn describe(r: &OciRef, e: oci_client::errors::OciDistributionError, from: &str) -> String {
    let mut text = e.to_string();
    // The client's words for content that does not hash to its digest.
    if let Some(rest) = text.strip_prefix("Digest error: Invalid digest. ") {
        text = format!(
            "digest mismatch: {}",
            rest.replacen("Expected", "expected", 1)
        );
    }
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        let said = s.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = s.source();
    }
    if text.starts_with("Not authorized")
        || text.contains("code: 401")
        || text.contains("code: 403")
    {
        text = format!(
            "the registry refused the credentials ({from}; see `docker login`, DOCKER_CONFIG, or PORTCULLIS_REGISTRY with PORTCULLIS_REGISTRY_USERNAME/PASSWORD or _TOKEN): {text}"
        );
    }
    // A registry's error body is its own text: one bounded line.
    format!(
        "{r}: {}",
        crate::diag::one_line(&crate::diag::without_errno(&text), 600)
    )
}

/// Whether `wasm` starts as a WebAssembly component does (the preamble
/// with the component layer), rather than a core module or anything else.
fn is_component(wasm: &[u8]) -> bool {
    wasm.len() >= 8 && wasm[..4] == *b"\0asm" && wasm[6..8] == [1, 0]
}

/// A buffer that refuses to grow past `max` (a registry that sends more
/// than the manifest said, or than a plugin may be).
struct Bounded {
    buf: Vec<u8>,
    max: usize,
    over: bool,
}

impl Bounded {
    fn new(max: usize) -> Bounded {
        Bounded {
            buf: Vec::new(),
            max,
            over: false,
        }
    }
}

impl tokio::io::AsyncWrite for Bounded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.buf.len() + data.len() > self.max {
            self.over = true;
            return Poll::Ready(Err(std::io::Error::other("over the limit")));
        }
        self.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> OciRef {
        OciRef::parse("oci://localhost:5000/p:1").expect("valid")
    }

    fn manifest(artifact: &str, layers: &[(&str, &str, u64)]) -> Vec<u8> {
        let layers: Vec<_> = layers
            .iter()
            .map(|(m, d, s)| serde_json::json!({"mediaType": m, "digest": d, "size": s}))
            .collect();
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "artifactType": artifact,
            "config": {"mediaType": EMPTY_CONFIG, "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2},
            "layers": layers,
        }))
        .expect("json")
    }

    #[test]
    fn only_a_well_formed_artifact_of_the_kind_asked_gives_a_layer() {
        let d = format!("sha256:{}", "a".repeat(64));
        let ok = manifest(PLUGIN_ARTIFACT, &[(PLUGIN_LAYER, &d, 10)]);
        let (layer, kind) = only_layer(&r(), &ok, Some(PLUGIN)).expect("plugin");
        assert_eq!((layer.digest.as_str(), kind), (d.as_str(), PLUGIN));
        assert_eq!(only_layer(&r(), &ok, None).expect("either").1, PLUGIN);
        let bundle = manifest(POLICY_ARTIFACT, &[(POLICY_LAYER, &d, 10)]);
        assert_eq!(only_layer(&r(), &bundle, None).expect("either").1, POLICY);
        let malformed = "is not a well-formed portcullis plugin";
        for (bytes, want, why) in [
            (
                manifest(
                    "application/vnd.oci.image.config.v1+json",
                    &[(PLUGIN_LAYER, &d, 10)],
                ),
                Some(PLUGIN),
                "its artifact type is application/vnd.oci.image.config.v1+json",
            ),
            (
                bundle.clone(),
                Some(PLUGIN),
                "is not a portcullis plugin (it is a policy bundle)",
            ),
            (
                ok.clone(),
                Some(POLICY),
                "is not a portcullis policy bundle (it is a plugin)",
            ),
            (
                manifest("x", &[]),
                None,
                "is not a portcullis plugin or policy bundle",
            ),
            (
                manifest(
                    PLUGIN_ARTIFACT,
                    &[(PLUGIN_LAYER, &d, 10), (PLUGIN_LAYER, &d, 10)],
                ),
                Some(PLUGIN),
                malformed,
            ),
            (manifest(PLUGIN_ARTIFACT, &[]), Some(PLUGIN), malformed),
            (
                manifest(PLUGIN_ARTIFACT, &[("application/wasm", &d, 10)]),
                Some(PLUGIN),
                malformed,
            ),
            (
                manifest(PLUGIN_ARTIFACT, &[(PLUGIN_LAYER, "sha256:../../x", 10)]),
                Some(PLUGIN),
                malformed,
            ),
            (
                manifest(PLUGIN_ARTIFACT, &[(PLUGIN_LAYER, &d, 1 << 40)]),
                Some(PLUGIN),
                "over the",
            ),
            (b"[]".to_vec(), Some(PLUGIN), "not an OCI image manifest"),
        ] {
            let e = only_layer(&r(), &bytes, want).err().expect(why);
            assert!(e.contains(why), "{why}: {e}");
        }
    }

    #[test]
    fn the_store_gives_back_only_what_hashes_to_its_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let digest = store.put(b"component").expect("put");
        assert_eq!(store.get(&digest, 100).as_deref(), Some(&b"component"[..]));
        assert_eq!(store.get(&digest, 3), None, "over the limit");
        let path = store.path(&digest).expect("path");
        std::fs::write(&path, b"tampered").expect("tamper");
        assert_eq!(store.get(&digest, 100), None);
        assert!(!path.exists(), "a bad entry is removed");
        assert_eq!(store.get("sha256:../../etc/passwd", 100), None);
        assert_eq!(store.get(&digest.to_uppercase(), 100), None);
    }
}
