//! Import diagnostics from reports named in the policy, as
//! `<tool>/<code>` findings with their locations.

mod clippy;
mod sarif;

use std::collections::BTreeMap;

use portcullis_sdk::{
    Context, Discovered, Evaluation, Finding, Level, LogLevel, ReportFormat, Rule, log,
};

/// Totals across imported reports.
#[derive(Default)]
pub struct Imported {
    pub warnings: u64,
}

/// Collects imported findings and the rules they reference, once each.
pub struct Sink<'a> {
    out: &'a mut Evaluation,
    rules: BTreeMap<String, Discovered>,
    seen: std::collections::HashSet<String>,
    totals: Imported,
    /// `checkout-roots` from the config, without a trailing `/`.
    roots: Vec<String>,
    /// Findings of the current report none of whose places could be
    /// mapped, and the first such place.
    unmapped: usize,
    first_unmapped: Option<String>,
}

impl Sink<'_> {
    /// A path a report names, repository-relative: relative paths as they
    /// are, absolute ones under the repository's root or one of the
    /// `checkout-roots`. `None` when it lies elsewhere.
    pub fn place(&self, ctx: &Context, path: &str) -> Option<String> {
        if let Some(p) = ctx.repo_relative(path) {
            return Some(p);
        }
        let path = path
            .strip_prefix("file://")
            .unwrap_or(path)
            .replace('\\', "/");
        // `file:///C:/…` names `C:/…`.
        let path = match path.strip_prefix('/') {
            Some(rest) if rest.get(1..3) == Some(":/") => rest.to_string(),
            _ => path,
        };
        self.roots.iter().find_map(|root| {
            let rest = path.strip_prefix(root.as_str())?.strip_prefix('/')?;
            ctx.repo_relative(rest)
        })
    }

    /// The finding, at the report when none of its places (`originals`)
    /// lies in the repository: then the originals are kept in its
    /// `original-uris` property and counted for the report's notice.
    pub fn locate(&mut self, finding: Finding, report: &str, originals: Vec<String>) -> Finding {
        if !finding.locations.is_empty() {
            return finding;
        }
        let finding = finding.in_file(report);
        if originals.is_empty() {
            return finding;
        }
        self.unmapped += 1;
        if self.first_unmapped.is_none() {
            self.first_unmapped = originals.first().cloned();
        }
        finding.properties(serde_json::json!({ "original-uris": originals }))
    }

    /// Say how many findings of `report` could not be placed (a notice
    /// the gate shows), and start counting afresh.
    fn notice_unmapped(&mut self, report: &str) {
        if let Some(first) = self.first_unmapped.take() {
            log(
                LogLevel::Warn,
                &format!(
                    "{report}: {} findings name places outside the repository (the first: `{first}`); \
                     they are shown at the report, their places kept in `original-uris`; a report \
                     written in another checkout maps with the lint plugin's `checkout-roots`",
                    self.unmapped
                ),
            );
        }
        self.unmapped = 0;
    }

    /// The discovered rule `id`, registered in the evaluation with the rule
    /// `make` builds the first time it is seen.
    pub fn rule(&mut self, id: &str, make: impl FnOnce() -> Rule) -> Discovered {
        if let Some(known) = self.rules.get(id) {
            return known.clone();
        }
        let rule = self.out.discover(make());
        self.rules.insert(id.to_string(), rule.clone());
        rule
    }

    /// Add a finding; identical ones (same rule, place and message) count once.
    pub fn push(&mut self, finding: Finding, level: Level) {
        let key = format!(
            "{}|{:?}|{}",
            finding.rule_id,
            location_key(&finding),
            finding.message
        );
        if !self.seen.insert(key) {
            return;
        }
        if level == Level::Warning {
            self.totals.warnings += 1;
        }
        self.out.push(finding.level(level));
    }
}

fn location_key(f: &Finding) -> Vec<(String, u32, u32)> {
    f.locations
        .iter()
        .map(|l| {
            let r = l.region.as_ref();
            (
                l.path.clone(),
                r.map_or(0, |r| r.start_line),
                r.and_then(|r| r.start_column).unwrap_or(0),
            )
        })
        .collect()
}

pub fn import_all(
    ctx: &Context,
    checkout_roots: &[String],
    out: &mut Evaluation,
) -> Result<Imported, String> {
    let first_rule = out.rules.len();
    let mut sink = Sink {
        out,
        rules: BTreeMap::new(),
        seen: Default::default(),
        totals: Imported::default(),
        roots: checkout_roots
            .iter()
            .map(|r| r.replace('\\', "/").trim_end_matches('/').to_string())
            .collect(),
        unmapped: 0,
        first_unmapped: None,
    };
    for report in ctx.reports() {
        match report.format {
            ReportFormat::ClippyJson => clippy::import(ctx, report, &mut sink)?,
            ReportFormat::Sarif => sarif::import(ctx, report, &mut sink)?,
            // Pull-request context is for the approvals plugin.
            ReportFormat::PrContext | ReportFormat::GithubEvent | ReportFormat::GhPr => {}
        }
        sink.notice_unmapped(&report.path);
    }
    let Sink { out, totals, .. } = sink;
    // Imported rules are listed by id, whatever order the reports hold.
    out.rules[first_rule..].sort_by(|a, b| a.id.cmp(&b.id));
    Ok(totals)
}

/// A tool or rule name made safe for a rule id: lowercase, no whitespace.
pub fn slug(name: &str) -> String {
    let s: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | ':') {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if s.is_empty() { "unknown".into() } else { s }
}
