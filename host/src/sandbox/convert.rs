//! WIT records ↔ the host's types. Everything a plugin returns is checked
//! on the way in (declared-twice rules, severity range, empty names).

use super::GUEST_ROOT;
use super::bindings::portcullis::plugin::types as wit;
use crate::diag::{Level, one_line};
use crate::evidence::{self, Evidence, Kind};
use crate::finding::{Location, PluginInfo, RawEvaluation, RawFinding, Region, RuleInfo};
use crate::policy::ReportFormat;

fn level(l: wit::Level) -> Level {
    match l {
        wit::Level::Note => Level::Note,
        wit::Level::Warning => Level::Warning,
        wit::Level::Error => Level::Error,
    }
}

fn rule_info(r: wit::Rule) -> Result<RuleInfo, String> {
    crate::finding::check_rule_id(&r.id)?;
    crate::finding::check_rule_text(
        &r.id,
        &[
            &r.name,
            &r.short_description,
            &r.full_description,
            &r.help_markdown,
        ],
    )?;
    if let Some(s) = r.security_severity
        && !(0.0..=10.0).contains(&s)
    {
        return Err(format!(
            "rule `{}`: security-severity {s} is outside 0.0–10.0",
            r.id
        ));
    }
    Ok(RuleInfo {
        id: r.id,
        name: r.name,
        short_description: r.short_description,
        full_description: r.full_description,
        help_markdown: r.help_markdown,
        default_level: level(r.default_level),
        tags: r.tags,
        security_severity: r.security_severity,
    })
}

pub(super) fn plugin_info(i: wit::PluginInfo) -> Result<PluginInfo, String> {
    if i.rules.len() > crate::finding::MAX_RULES {
        return Err(format!(
            "declares {} rules, over the limit of {}",
            i.rules.len(),
            crate::finding::MAX_RULES
        ));
    }
    let mut rules = Vec::with_capacity(i.rules.len());
    let mut ids = std::collections::HashSet::new();
    for r in i.rules {
        if !ids.insert(r.id.clone()) {
            return Err(format!("rule `{}` is declared twice", r.id));
        }
        rules.push(rule_info(r)?);
    }
    if i.name.trim().is_empty() {
        return Err("plugin name is empty".into());
    }
    let reads = i
        .reads
        .into_iter()
        .map(|k| match k {
            wit::EvidenceKind::Files => Kind::Files,
            wit::EvidenceKind::CargoMetadata => Kind::CargoMetadata,
            wit::EvidenceKind::Reports => Kind::Reports,
        })
        .collect();
    Ok(PluginInfo {
        name: one_line(&i.name, 100),
        version: one_line(&i.version, 100),
        rules,
        reads,
        has_tests: i.has_tests,
    })
}

/// `asks_for_files`: the plugin called `file-list` during `describe`, so
/// `files` is left empty (it asks when it needs the list).
pub(super) fn to_wit_evidence(
    ev: &Evidence,
    reads: &[Kind],
    reports_from: Option<&[String]>,
    asks_for_files: bool,
) -> wit::Evidence {
    let files = if reads.contains(&Kind::Files) && !asks_for_files {
        ev.files
            .iter()
            .map(|f| wit::FileEntry {
                path: f.path.clone(),
                size: f.size,
                kind: file_kind(&f.kind),
                link_target: f.link_target.clone(),
                link_resolves: f.link_resolves,
            })
            .collect()
    } else {
        Vec::new()
    };
    let reports = if reads.contains(&Kind::Reports) {
        ev.reports
            .iter()
            .filter(|r| reports_from.is_none_or(|from| from.contains(&r.defined_in)))
            .map(|r| wit::Report {
                name: r.name.clone(),
                format: match r.format {
                    ReportFormat::ClippyJson => wit::ReportFormat::ClippyJson,
                    ReportFormat::Sarif => wit::ReportFormat::Sarif,
                    ReportFormat::PrContext => wit::ReportFormat::PrContext,
                    ReportFormat::GithubEvent => wit::ReportFormat::GithubEvent,
                    ReportFormat::GhPr => wit::ReportFormat::GhPr,
                },
                path: r.path.clone(),
                content: r.content.clone(),
            })
            .collect()
    } else {
        Vec::new()
    };
    wit::Evidence {
        root: GUEST_ROOT.to_string(),
        host_root: ev.root.to_string_lossy().into_owned(),
        files,
        cargo_metadata: if reads.contains(&Kind::CargoMetadata) {
            ev.cargo_metadata.clone()
        } else {
            None
        },
        reports,
        mounts: Vec::new(),
    }
}

pub(super) fn from_wit_evaluation(e: wit::Evaluation) -> Result<RawEvaluation, String> {
    Ok(RawEvaluation {
        findings: e
            .findings
            .into_iter()
            .map(|f| RawFinding {
                rule_id: f.rule_id,
                level: f.level.map(level),
                message: f.message,
                locations: f
                    .locations
                    .into_iter()
                    .map(|l| Location {
                        path: l.path,
                        region: l.region.map(|r| Region {
                            start_line: r.start_line,
                            start_column: r.start_column,
                            end_line: r.end_line,
                            end_column: r.end_column,
                        }),
                    })
                    .collect(),
                fingerprint: f.fingerprint,
                properties: f.properties,
            })
            .collect(),
        rules: e
            .rules
            .into_iter()
            .map(rule_info)
            .collect::<Result<_, _>>()?,
    })
}

/// A `run-tests` result in the host's types; paths and messages are
/// neutralised like any plugin output.
pub(super) fn from_wit_test_run(r: wit::TestRun) -> crate::plugin_tests::TestRun {
    use crate::plugin_tests::{FileCoverage, TestResult, TestRun, TestStatus};
    TestRun {
        tests: r
            .tests
            .into_iter()
            .map(|t| TestResult {
                name: one_line(&t.name, 500),
                file: one_line(&t.file, 500),
                line: t.line,
                status: match t.status {
                    wit::TestStatus::Pass => TestStatus::Pass,
                    wit::TestStatus::Fail => TestStatus::Fail,
                    wit::TestStatus::Error => TestStatus::Error,
                    wit::TestStatus::Skip => TestStatus::Skip,
                },
                message: one_line(&t.message, 2_000),
            })
            .collect(),
        coverage: r
            .coverage
            .into_iter()
            .map(|c| FileCoverage {
                file: one_line(&c.file, 500),
                covered: c.covered,
                not_covered: c.not_covered,
            })
            .collect(),
    }
}

fn file_kind(kind: &evidence::FileKind) -> wit::FileKind {
    match kind {
        evidence::FileKind::File => wit::FileKind::File,
        evidence::FileKind::Symlink => wit::FileKind::Symlink,
    }
}

/// Entries of the file list in the contract's columns (`file-list`).
pub(super) fn to_wit_columns<'a>(
    entries: impl Iterator<Item = &'a evidence::FileEntry>,
) -> wit::FileColumns {
    let mut columns = wit::FileColumns {
        paths: String::new(),
        sizes: Vec::new(),
        kinds: Vec::new(),
        links: Vec::new(),
    };
    for f in entries {
        columns.paths.push_str(&f.path);
        columns.paths.push('\0');
        columns.sizes.push(f.size);
        columns.kinds.push(file_kind(&f.kind));
        if f.kind == evidence::FileKind::Symlink {
            columns
                .links
                .push((f.link_target.clone().unwrap_or_default(), f.link_resolves));
        }
    }
    columns
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: evidence::FileKind, link: Option<&str>) -> evidence::FileEntry {
        evidence::FileEntry {
            path: path.into(),
            size: path.len() as u64,
            kind,
            link_target: link.map(str::to_string),
            link_resolves: link.is_some(),
        }
    }

    #[test]
    fn the_list_is_given_whole_unless_the_plugin_asks_for_it() {
        use evidence::FileKind::{File, Symlink};
        let ev = Evidence {
            files: vec![
                entry("a", File, None),
                entry("b/l", Symlink, Some("../a")),
                entry("c", File, None),
            ]
            .into(),
            ..Default::default()
        };
        let given = to_wit_evidence(&ev, &[Kind::Files], None, false);
        assert_eq!(given.files.len(), 3);
        assert!(
            to_wit_evidence(&ev, &[Kind::Files], None, true)
                .files
                .is_empty()
        );
        assert!(to_wit_evidence(&ev, &[], None, false).files.is_empty());
        let columns = to_wit_columns(ev.files.iter());
        assert_eq!(columns.paths, "a\0b/l\0c\0");
        assert_eq!(columns.sizes, [1, 3, 1]);
        assert_eq!(columns.links, [("../a".to_string(), true)]);
    }
}
