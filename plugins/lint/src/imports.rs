//! Import diagnostics from reports named in the policy, as
//! `<tool>/<code>` findings with their locations.

mod clippy;
mod sarif;

use std::collections::BTreeMap;

use portcullis_sdk::{Context, Discovered, Evaluation, Finding, Level, ReportFormat, Rule};

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
}

impl Sink<'_> {
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

pub fn import_all(ctx: &Context, out: &mut Evaluation) -> Result<Imported, String> {
    let first_rule = out.rules.len();
    let mut sink = Sink {
        out,
        rules: BTreeMap::new(),
        seen: Default::default(),
        totals: Imported::default(),
    };
    for report in ctx.reports() {
        match report.format {
            ReportFormat::ClippyJson => clippy::import(ctx, report, &mut sink)?,
            ReportFormat::Sarif => sarif::import(ctx, report, &mut sink)?,
            // Pull-request context is for the approvals plugin.
            ReportFormat::PrContext | ReportFormat::GithubEvent | ReportFormat::GhPr => {}
        }
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
