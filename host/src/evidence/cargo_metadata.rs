//! `cargo metadata --format-version 1` for the repository, through the
//! `cargo_metadata` crate. Only run when a plugin reads it.

use std::path::Path;

use crate::diag::Error;

pub fn collect(root: &Path) -> Result<String, Error> {
    let manifest = root.join("Cargo.toml");
    if !manifest.is_file() {
        return Err(Error::Evidence {
            what: "cargo-metadata".into(),
            message: format!(
                "{} does not exist; a plugin in the policy reads cargo metadata",
                manifest.display()
            ),
        });
    }
    let metadata = ::cargo_metadata::MetadataCommand::new()
        .manifest_path(&manifest)
        .exec()
        .map_err(|e| Error::Evidence {
            what: "cargo-metadata".into(),
            message: e
                .to_string()
                .lines()
                .filter(|l| !l.trim().is_empty())
                .collect::<Vec<_>>()
                .join(" "),
        })?;
    serde_json::to_string(&metadata).map_err(|e| Error::Evidence {
        what: "cargo-metadata".into(),
        message: e.to_string(),
    })
}
