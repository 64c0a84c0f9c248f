//! A test plugin that reports the evidence it received, so tests can check
//! what the host collects: one `saw` finding per kind of evidence.

use portcullis_sdk::{
    Context, Evaluation, EvidenceKind, LogLevel, Plugin, PluginInfo, declare_rule, export_plugin,
    log,
};

pub struct Probe;

declare_rule! {
    /// What evidence the plugin received, one finding per kind.
    pub SAW = "saw" {
        name: "Saw",
        level: Note,
        short: "Evidence the plugin received.",
        tags: [],
    }
}

impl Plugin for Probe {
    fn describe() -> PluginInfo {
        PluginInfo::new("probe", env!("CARGO_PKG_VERSION"))
            .rules(&[&SAW])
            .reads(EvidenceKind::Files)
            .reads(EvidenceKind::CargoMetadata)
            .reads(EvidenceKind::Reports)
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        log(LogLevel::Info, "probe evaluating");
        let mut out = Evaluation::default();
        // Asked before the whole list, so only these entries are fetched
        // when the gate is narrowed. No location: counted whatever changed.
        let to_read: Vec<&str> = ctx
            .files_to_read()
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        out.push(SAW.finding(format!("to read: {}", to_read.join(","))));
        let files: Vec<&str> = ctx.files().iter().map(|f| f.path.as_str()).collect();
        out.push(
            SAW.finding(format!("files: {}", files.join(",")))
                .in_file("Cargo.toml"),
        );
        let packages = match ctx.cargo_metadata() {
            Some(json) => package_names(json)?,
            None => "none".into(),
        };
        out.push(
            SAW.finding(format!("packages: {packages}"))
                .in_file("Cargo.toml"),
        );
        let reports: Vec<String> = ctx
            .reports()
            .iter()
            .map(|r| format!("{}={}", r.name, r.content.len()))
            .collect();
        out.push(
            SAW.finding(format!("reports: {}", reports.join(",")))
                .in_file("Cargo.toml"),
        );
        let config = ctx.raw_config().to_string();
        out.push(
            SAW.finding(format!("config: {config}"))
                .in_file("Cargo.toml"),
        );
        // No location: counted whatever changed.
        let changed = match ctx.changed_files() {
            Some(c) => {
                let mut c: Vec<&str> = c.iter().map(String::as_str).collect();
                c.sort_unstable();
                c.join(",")
            }
            None => "all".into(),
        };
        out.push(SAW.finding(format!("changed: {changed}")));
        // `"ask-cargo-metadata": true|false`: the contract's `cargo-metadata`
        // with or without dependencies, asked of the host.
        if let Some(dependencies) = ctx.raw_config()["ask-cargo-metadata"].as_bool() {
            let asked = match portcullis_sdk::cargo_metadata(dependencies)? {
                Some(json) => package_names(&json)?,
                None => "none".into(),
            };
            out.push(SAW.finding(format!("asked (dependencies: {dependencies}): {asked}")));
        }
        Ok(out)
    }
}

/// The sorted package names of `cargo metadata` output, comma-separated.
fn package_names(json: &str) -> Result<String, String> {
    let v: serde_json::Value =
        serde_json::from_str(json).map_err(|e| format!("cargo metadata: {e}"))?;
    let mut names: Vec<String> = v["packages"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    Ok(names.join(","))
}

export_plugin!(Probe);
