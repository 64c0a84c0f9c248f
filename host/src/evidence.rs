//! Evidence: what plugins read. Each kind is collected once per run, and
//! only when some plugin in the policy reads it.

pub mod cargo_metadata;
pub mod changed_lines;
pub mod git;
pub mod index;
pub mod metrics;
pub mod reports;
pub mod snapshot;
pub mod tree;
pub mod work_tree;

use std::path::{Path, PathBuf};

use crate::diag::Error;
use crate::policy::{Policy, ReportFormat};

/// A kind of evidence (mirrors the plugin contract's `evidence-kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Files,
    CargoMetadata,
    Reports,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Files => "files",
            Kind::CargoMetadata => "cargo-metadata",
            Kind::Reports => "reports",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    File,
    Symlink,
}

/// One entry of the repository's file list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub path: String,
    pub size: u64,
    pub kind: FileKind,
    pub link_target: Option<String>,
    pub link_resolves: bool,
}

/// A report file's content.
#[derive(Debug, Clone)]
pub struct Report {
    pub name: String,
    /// The policy file whose `[reports.<name>]` defined it.
    pub defined_in: String,
    pub format: ReportFormat,
    pub path: String,
    pub content: String,
}

/// Everything collected for this run.
#[derive(Debug, Default)]
pub struct Evidence {
    /// The repository's canonical absolute path.
    pub root: PathBuf,
    /// Sorted by path; shared with every plugin call of the run.
    pub files: std::sync::Arc<Vec<FileEntry>>,
    pub cargo_metadata: Option<String>,
    pub reports: Vec<Report>,
    /// Optional evidence that was absent, for the run's notifications.
    pub skipped: Vec<String>,
    /// The files the change adds or modifies, sorted, when findings count
    /// only there (the contract's `changed-files`); `None`: every file.
    pub changed: Option<Vec<String>>,
    /// `cargo metadata` for plugins that ask while they run.
    pub cargo_on_demand: std::sync::Arc<cargo_metadata::OnDemand>,
    /// The lines the change adds or modifies, for plugins that ask (the
    /// contract's `changed-lines`).
    pub changed_lines: std::sync::Arc<changed_lines::OnDemand>,
    /// When the metrics' analysis window ends (and starts, if given).
    pub clock: metrics::Clock,
    /// File digests computed for the contract's `file-digests` during this
    /// run, shared by the plugins that ask.
    pub digests: std::sync::Arc<Digests>,
}

/// File content digests (BLAKE3, hex) by repository-relative path, for one
/// run, each with the stamp of the file it was taken from (see
/// [`crate::files::stamp`]): a plugin asking for a file another has had
/// hashed gets the digest without a read while the file's stamp is the
/// same; a file changed since (or changed too recently to tell) is hashed
/// again, so the answer is always of the file as it is.
#[derive(Debug, Default)]
pub struct Digests(std::sync::Mutex<std::collections::HashMap<String, (String, String)>>);

impl Digests {
    /// The digest taken of `path` when its stamp was `stamp`.
    pub fn get(&self, path: &str, stamp: &str) -> Option<String> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let (seen, digest) = map.get(path)?;
        (seen == stamp).then(|| digest.clone())
    }

    pub fn insert(&self, path: &str, stamp: String, digest: &str) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.to_string(), (stamp, digest.to_string()));
    }
}

/// What the checked directory is.
#[derive(Debug, Clone, Default)]
pub enum Checked {
    /// A work tree: ignore files apply.
    #[default]
    WorkTree,
    /// A [`snapshot`] of a commit or the index: every file in it is
    /// tracked. `files`: a kept snapshot's file list (its directory stays
    /// the same between runs, so evidence is cached under it); `None` for
    /// a temporary one.
    Snapshot {
        files: Option<std::sync::Arc<Vec<FileEntry>>>,
    },
}

impl Checked {
    pub fn is_snapshot(&self) -> bool {
        matches!(self, Checked::Snapshot { .. })
    }

    /// Whether evidence may be cached under the checked directory's path
    /// (a temporary snapshot's is new every run).
    fn cacheable(&self) -> bool {
        !matches!(self, Checked::Snapshot { files: None })
    }
}

/// Collect the evidence `kinds` for the repository at `root`, each kind
/// once. A kind that cannot be collected is left empty and returned with
/// its error, so only the plugins that read it fail. `cache` is the cache
/// directory (cargo metadata is cached there by the content of the
/// manifests and lockfile). `checked`: what `root` is. `listed`: the file
/// list, when already known (a walk that told the changed files, or a kept
/// snapshot's).
pub fn collect(
    root: &Path,
    policy: &Policy,
    kinds: &[Kind],
    cache: Option<&Path>,
    checked: &Checked,
    listed: Option<std::sync::Arc<Vec<FileEntry>>>,
) -> (Evidence, Vec<(Kind, Error)>) {
    let snapshot = checked.is_snapshot();
    let cache = cache.filter(|_| checked.cacheable());
    // A kept snapshot's list also keys cached evidence when no plugin
    // reads the list (a walk of the snapshot would apply its ignore files).
    let kept = match checked {
        Checked::Snapshot { files } => files.clone(),
        Checked::WorkTree => None,
    };
    let mut listed = listed.or_else(|| kept.clone());
    let known = |ev: &Evidence| -> Option<std::sync::Arc<Vec<FileEntry>>> {
        if ev.files.is_empty() {
            kept.clone()
        } else {
            Some(ev.files.clone())
        }
    };
    let mut ev = Evidence {
        root: root.to_path_buf(),
        ..Default::default()
    };
    let mut errors = Vec::new();
    for &kind in kinds {
        let result = match kind {
            Kind::Files => match listed.take() {
                Some(files) => {
                    ev.files = files;
                    Ok(())
                }
                None => tree::list(root, snapshot).map(|files| ev.files = files.into()),
            },
            // Files sort first, so the list is there when it was asked for.
            Kind::CargoMetadata => {
                let listed = known(&ev);
                // No root Cargo.toml: not a Rust project, nothing to collect.
                cargo_metadata::collect(root, listed.as_deref().map(Vec::as_slice), cache, false)
                    .map(|m| ev.cargo_metadata = m)
            }
            Kind::Reports => reports::read(root, policy).map(|(reports, skipped)| {
                ev.reports = reports;
                ev.skipped.extend(skipped);
            }),
        };
        if let Err(e) = result {
            errors.push((kind, e));
        }
    }
    let listed = known(&ev);
    let listed = listed.as_deref().map(Vec::as_slice);
    // The evidence, or its error, answers plugins that ask again.
    let collected = kinds.contains(&Kind::CargoMetadata).then(|| {
        match errors.iter().find(|(k, _)| *k == Kind::CargoMetadata) {
            Some((_, e)) => Err(e.to_string()),
            None => Ok(ev.cargo_metadata.clone()),
        }
    });
    ev.cargo_on_demand = std::sync::Arc::new(cargo_metadata::OnDemand::new(
        root, listed, cache, collected,
    ));
    (ev, errors)
}
