//! `cargo metadata --format-version 1` for the repository, through the
//! `cargo_metadata` crate. Only run when a plugin reads it: before the
//! plugins run for those that list `cargo-metadata` in their `reads`, or
//! when a plugin first asks through the contract's `cargo-metadata`
//! ([`OnDemand`]), with or without `--no-deps`.
//!
//! Nothing the repository controls is executed, and nothing is written to
//! it. Cargo and rustup read their settings from the working directory
//! upwards (`.cargo/config.toml` with `build.rustc-wrapper`, `build.rustc`,
//! `[env]`, `[target.*]`; a `rust-toolchain.toml` naming a toolchain
//! `path`), so cargo runs in `/` with `--manifest-path`, and the settings
//! that name a program are overridden on the command line as well:
//! `cargo metadata --format-version 1 --manifest-path <root>/Cargo.toml
//! --locked --config build.rustc-wrapper="" --config
//! build.rustc-workspace-wrapper=""` (plus `--no-deps` when the repository
//! has no `Cargo.lock`, as cargo would otherwise write one into the tree,
//! and when a plugin asks for the workspace's own packages only).
//! `--locked` makes a lockfile that does not match the manifests an error
//! rather than something cargo quietly rewrites (`--no-deps` resolves
//! nothing, so it checks no lockfile). Cargo then runs only
//! `rustc -vV` and `rustc --print=cfg` of the toolchain the environment
//! chose. `cargo metadata` builds nothing: no build script or proc-macro of
//! the repository runs.
//!
//! `cargo metadata` takes hundreds of milliseconds on a real workspace, too
//! slow for a pre-push hook, so its output is cached under the cache
//! directory, keyed by the repository's path, the content of every Cargo
//! manifest and lockfile in it, and the toolchain variables (`CARGO`,
//! `RUSTUP_TOOLCHAIN`, `CARGO_HOME`). Output that depends on a manifest
//! outside the repository (a `path` dependency on a sibling checkout), on a
//! symlinked manifest or lockfile, or on inputs that changed while cargo
//! ran is never cached.

use std::path::Path;
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::diag::Error;
use crate::evidence::{FileEntry, FileKind, tree};

/// How long `cargo metadata` may take (it may download the crates the
/// lockfile names).
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(300);

/// Files whose content decides what `cargo metadata` prints.
fn is_input(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(name, "Cargo.toml" | "Cargo.lock")
}

/// `cargo metadata` asked for by plugins while they run, collected once per
/// run for each of its two forms and shared by every plugin that asks.
#[derive(Debug, Default)]
pub struct OnDemand {
    /// `None` (the default): no repository, no metadata.
    root: Option<std::path::PathBuf>,
    /// The repository's Cargo manifests and lockfile from the walk (the
    /// cache key), when the run listed files.
    inputs: Option<Vec<FileEntry>>,
    cache: Option<std::path::PathBuf>,
    workspace: OnceLock<Result<Option<String>, String>>,
    full: OnceLock<Result<Option<String>, String>>,
}

impl OnDemand {
    /// `full`: the evidence already collected (or its error) for plugins
    /// that read it, which is also the answer with dependencies.
    pub fn new(
        root: &Path,
        files: Option<&[FileEntry]>,
        cache: Option<&Path>,
        full: Option<Result<Option<String>, String>>,
    ) -> Self {
        let on_demand = OnDemand {
            root: Some(root.to_path_buf()),
            // Symlinked ones too: `cache_path` refuses to key those.
            inputs: files.map(|f| f.iter().filter(|f| is_input(&f.path)).cloned().collect()),
            cache: cache.map(Path::to_path_buf),
            ..Default::default()
        };
        if let Some(answer) = full {
            let _ = on_demand.full.set(answer);
        }
        on_demand
    }

    /// The metadata with every dependency, or only the workspace's own
    /// packages (`--no-deps`), when it has already been collected.
    pub fn ready(&self, dependencies: bool) -> Option<Result<Option<String>, String>> {
        self.cell(dependencies).get().cloned()
    }

    /// The metadata with every dependency, or only the workspace's own
    /// packages (`--no-deps`); the first call for each runs cargo, and
    /// calls meanwhile wait for it.
    pub fn get(&self, dependencies: bool) -> Result<Option<String>, String> {
        let Some(root) = &self.root else {
            return Ok(None);
        };
        self.cell(dependencies)
            .get_or_init(|| {
                collect(
                    root,
                    self.inputs.as_deref(),
                    self.cache.as_deref(),
                    !dependencies,
                )
                .map_err(|e| e.to_string())
            })
            .clone()
    }

    /// The key `get(true)` is cached under, when it would be cached (see
    /// the contract's `cargo-metadata-key`).
    pub fn key(&self) -> Option<String> {
        let root = self.root.as_ref()?;
        if !root.join("Cargo.toml").is_file() || !root.join("Cargo.lock").is_file() {
            return None;
        }
        let path = cache_path(root, self.inputs.as_deref(), self.cache.as_deref()?, false)?;
        Some(path.file_stem()?.to_string_lossy().into_owned())
    }

    fn cell(&self, dependencies: bool) -> &OnceLock<Result<Option<String>, String>> {
        if dependencies {
            &self.full
        } else {
            &self.workspace
        }
    }
}

/// The metadata, or `None` when the repository has no root Cargo.toml.
/// `no_deps`: only the workspace's own packages (`--no-deps`).
pub fn collect(
    root: &Path,
    files: Option<&[FileEntry]>,
    cache: Option<&Path>,
    no_deps: bool,
) -> Result<Option<String>, Error> {
    let manifest = root.join("Cargo.toml");
    if !manifest.is_file() {
        return Ok(None);
    }
    let err = |message: String| Error::Evidence {
        what: "cargo-metadata".into(),
        message,
    };
    let key = || cache.and_then(|dir| cache_path(root, files, dir, no_deps));
    let cached = key();
    if let Some(path) = &cached
        && let Ok(json) = crate::files::read_to_string(path, crate::files::MAX_DATA_BYTES)
    {
        return Ok(Some(json));
    }
    // In `/`, so neither cargo nor rustup finds the repository's (or a
    // shared temporary directory's) configuration or toolchain files.
    let options: Vec<String> = [
        "--locked",
        "--config",
        "build.rustc-wrapper=\"\"",
        "--config",
        "build.rustc-workspace-wrapper=\"\"",
    ]
    .map(String::from)
    .to_vec();
    let locked = root.join("Cargo.lock").is_file();
    let mut command = ::cargo_metadata::MetadataCommand::new();
    if !locked || no_deps {
        command.no_deps();
    }
    let mut cargo = command
        .manifest_path(&manifest)
        .current_dir("/")
        .other_options(options)
        .cargo_command();
    let out = crate::process::output(&mut cargo, "cargo metadata", TIMEOUT)
        .map_err(|e| err(format!("cannot run cargo: {e}")))?;
    let one_line = |text: &[u8]| {
        String::from_utf8_lossy(text)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    if !out.status.success() {
        return Err(err(format!(
            "`cargo metadata` exited with an error: {}",
            one_line(&out.stderr)
        )));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let json_line = stdout
        .lines()
        .find(|l| l.starts_with('{'))
        .unwrap_or_default();
    let metadata = ::cargo_metadata::MetadataCommand::parse(json_line)
        .map_err(|e| err(one_line(e.to_string().as_bytes())))?;
    let json = serde_json::to_string(&metadata).map_err(|e| err(e.to_string()))?;
    let self_contained = metadata
        .packages
        .iter()
        .filter(|p| p.source.is_none())
        .all(|p| p.manifest_path.starts_with(root));
    // Keyed by the inputs as they were before cargo ran: cached only if
    // they still are.
    if let Some(path) = cached
        && self_contained
        && locked
        && key().as_ref() == Some(&path)
    {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = crate::cache::write_atomic(&path, &[json.as_bytes()]);
    }
    Ok(Some(json))
}

/// Where the metadata for the repository's current inputs is cached.
fn cache_path(
    root: &Path,
    files: Option<&[FileEntry]>,
    dir: &Path,
    no_deps: bool,
) -> Option<std::path::PathBuf> {
    let listed;
    let files = match files {
        Some(f) => f,
        None => {
            listed = tree::list(root, false).ok()?;
            &listed
        }
    };
    let mut h = Sha256::new();
    h.update(b"portcullis cargo-metadata v4\0");
    if no_deps {
        h.update(b"--no-deps\0");
    }
    h.update(root.as_os_str().as_encoded_bytes());
    h.update(b"\0");
    // The toolchain cargo runs with.
    for var in ["CARGO", "RUSTUP_TOOLCHAIN", "CARGO_HOME"] {
        h.update(std::env::var_os(var).unwrap_or_default().as_encoded_bytes());
        h.update(b"\0");
    }
    // A symlinked manifest or lockfile: what it names is not keyed here,
    // so nothing is cached.
    let linked = |rel: &str| {
        std::fs::symlink_metadata(root.join(rel)).is_ok_and(|m| m.file_type().is_symlink())
    };
    if files
        .iter()
        .any(|f| f.kind == FileKind::Symlink && is_input(&f.path))
        || linked("Cargo.toml")
        || linked("Cargo.lock")
    {
        return None;
    }
    let mut inputs: Vec<&FileEntry> = files
        .iter()
        .filter(|f| f.kind == FileKind::File && is_input(&f.path))
        .collect();
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    for f in inputs {
        let content = std::fs::read(root.join(&f.path)).ok()?;
        h.update(f.path.as_bytes());
        h.update(b"\0");
        h.update((content.len() as u64).to_le_bytes());
        h.update(&content);
    }
    // Also when .gitignore hides it from the file list (libraries often do).
    if !files.iter().any(|f| f.path == "Cargo.lock") {
        h.update(b"Cargo.lock (root)\0");
        h.update(std::fs::read(root.join("Cargo.lock")).unwrap_or_default());
    }
    let key = crate::digest::hex(&h.finalize());
    Some(dir.join("cargo-metadata").join(format!("{key}.json")))
}
