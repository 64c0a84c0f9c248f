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
        let files: Vec<&str> = ctx.files().iter().map(|f| f.path.as_str()).collect();
        out.push(
            SAW.finding(format!("files: {}", files.join(",")))
                .in_file("Cargo.toml"),
        );
        let packages = match ctx.cargo_metadata() {
            Some(json) => {
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
                names.join(",")
            }
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
        Ok(out)
    }
}

export_plugin!(Probe);
