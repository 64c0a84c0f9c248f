//! Hygiene rules. Each rule is one module that declares (and documents) the
//! rule with `declare_rule!`; [`RULES`] lists them once.

pub mod broken_symlink;
pub mod case_collision;
pub mod large_file;
pub mod max_warnings;
pub mod merge_conflict;
pub mod syntax;

use portcullis_sdk::{Context, Evaluation, FileKind, RuleDecl, memo, text::looks_binary};

use crate::config::{Config, Scope};

/// Every declared rule of the plugin, in the order `portcullis rules` lists
/// them. Imported reports add rules of their own at run time (`imports`).
pub const RULES: &[&RuleDecl] = &[
    &large_file::LARGE_FILE,
    &merge_conflict::MERGE_CONFLICT,
    &syntax::INVALID_JSON,
    &syntax::INVALID_TOML,
    &syntax::INVALID_YAML,
    &case_collision::PATH_CASE_COLLISION,
    &broken_symlink::BROKEN_SYMLINK,
    &max_warnings::MAX_WARNINGS,
];

/// Bytes of file content read per host call.
const BATCH_BYTES: u64 = 32 << 20;

/// Run the hygiene rules over the repository's file list.
pub fn hygiene(
    ctx: &Context,
    config: &Config,
    scope: &Scope,
    out: &mut Evaluation,
) -> Result<(), String> {
    let max_bytes = config.max_file_kb * 1024;
    let max_scan = config.max_scan_mb * 1024 * 1024;
    // The whole tree's names (a changed file can collide with any other),
    // without an entry made for each.
    case_collision::check(ctx.paths().filter(|p| scope.includes(p)), out);
    // Rules about each file: only where findings count.
    let mut to_scan = Vec::new();
    for file in ctx.files_to_read() {
        if !scope.includes(&file.path) {
            continue;
        }
        if file.kind == FileKind::Symlink {
            broken_symlink::check(file, out);
            continue;
        }
        if file.size > max_bytes {
            large_file::report(file, max_bytes, out);
        }
        if file.size > 0 && file.size <= max_scan {
            to_scan.push(file);
        }
    }
    // A Helm chart's templates: the `templates/` directory beside a
    // `Chart.yaml`.
    let charts: Vec<String> = ctx
        .paths()
        .filter(|p| p.ends_with("Chart.yaml"))
        .filter_map(|p| match p.rsplit_once('/') {
            Some((dir, "Chart.yaml")) => Some(format!("{dir}/templates/")),
            None if p == "Chart.yaml" => Some("templates/".into()),
            _ => None,
        })
        .collect();
    // Content rules, over files read in batches by the host. A file's
    // findings depend on its path, its content, the config and where the
    // charts are: kept between runs for content already checked.
    let salt = format!("{}\n{}", ctx.config_json(), charts.join("\n"));
    let checked = memo::per_file(
        ctx,
        "content",
        &salt,
        &to_scan,
        BATCH_BYTES.max(max_scan),
        |file, content| {
            let bytes = content.map_err(|e| Context::cannot_read("lint", &file.path, &e))?;
            let mut found = Evaluation::default();
            let mut template = false;
            if !looks_binary(&bytes) {
                merge_conflict::check(&file.path, &bytes, &mut found);
                let in_chart = charts.iter().any(|c| file.path.starts_with(c.as_str()));
                template = syntax::check(&file.path, &bytes, in_chart, &mut found)
                    == syntax::Checked::Template;
            }
            Ok((memo::Findings(found.findings), template))
        },
    )?;
    let mut templates: Vec<&str> = Vec::new();
    for (file, (memo::Findings(found), template)) in to_scan.iter().zip(checked) {
        out.findings.extend(found);
        if template {
            templates.push(&file.path);
        }
    }
    if let Some(first) = templates.first() {
        portcullis_sdk::log(
            portcullis_sdk::LogLevel::Warn,
            &format!(
                "{} templated YAML file(s) not checked as YAML (a Helm chart's templates/, or Go-template or Jinja syntax: YAML only once rendered), {first} first",
                templates.len()
            ),
        );
    }
    Ok(())
}
