//! A test plugin that reports the evidence it received, so tests can check
//! what the host collects: one `saw` finding per kind of evidence.

use portcullis_sdk::{
    Context, Evaluation, EvidenceKind, Finding, Level, LogLevel, Plugin, PluginInfo, Rule,
    export_plugin, log,
};

pub struct Probe;

impl Plugin for Probe {
    fn describe() -> PluginInfo {
        PluginInfo::new("probe", env!("CARGO_PKG_VERSION"))
            .rule(Rule::new(
                "saw",
                "Saw",
                Level::Note,
                "Evidence the plugin received.",
            ))
            .reads(EvidenceKind::Files)
            .reads(EvidenceKind::CargoMetadata)
            .reads(EvidenceKind::Reports)
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        log(LogLevel::Info, "probe evaluating");
        let mut out = Evaluation::default();
        let files: Vec<&str> = ctx.files().iter().map(|f| f.path.as_str()).collect();
        out.push(Finding::new("saw", format!("files: {}", files.join(","))).in_file("Cargo.toml"));
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
        out.push(Finding::new("saw", format!("packages: {packages}")).in_file("Cargo.toml"));
        let reports: Vec<String> = ctx
            .reports()
            .iter()
            .map(|r| format!("{}={}", r.name, r.content.len()))
            .collect();
        out.push(
            Finding::new("saw", format!("reports: {}", reports.join(","))).in_file("Cargo.toml"),
        );
        let config = ctx.raw_config().to_string();
        out.push(Finding::new("saw", format!("config: {config}")).in_file("Cargo.toml"));
        Ok(out)
    }
}

export_plugin!(Probe);
