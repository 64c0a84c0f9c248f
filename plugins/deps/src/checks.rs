//! The four checks — advisories, licenses, bans, sources — over the lockfile
//! and cargo metadata.

use std::collections::{BTreeMap, HashMap, HashSet};

use portcullis_sdk::{Context, Evaluation, Level, Location, Region, RuleDecl};

use crate::advisories::{self, Kind};
use crate::config::{self, Ban, Config};
use crate::facts::{self, Facts};
use crate::lockfile::{Lockfile, Package};
use crate::metadata::{self, Metadata};
use crate::rules::{
    ADVISORY, ADVISORY_DB, BANNED, DUPLICATE, LICENSE, NOTICE, SOURCE, UNLICENSED, UNMAINTAINED,
    UNSOUND, UNUSED_IGNORE, WILDCARD,
};

pub fn run(ctx: &Context, config: &Config) -> Result<Evaluation, String> {
    let inputs = ctx.cargo_metadata_key();
    let facts = match inputs.as_deref().and_then(facts::get) {
        Some(kept) => kept,
        None => {
            let collected = collect(ctx)?;
            // Kept under the key the inputs had before and still have: an
            // input changed meanwhile would make it another run's key.
            if let Some(inputs) = &inputs
                && kept_whole(ctx, &collected)?
                && ctx.cargo_metadata_key().as_ref() == Some(inputs)
            {
                facts::put(inputs, &collected);
            }
            collected
        }
    };
    let Some(lock) = &facts.lock else {
        // Not a Rust project: nothing to check.
        return Ok(Evaluation::default());
    };
    let meta = facts.metadata.as_deref().map(metadata::parse).transpose()?;
    let mut out = Evaluation::default();
    advisories(ctx, config, lock, &mut out)?;
    if let Some(licenses) = &config.licenses {
        let meta = meta.as_ref().ok_or(
            "licenses are read from cargo metadata, which the host did not collect (no Cargo.toml at the repository root)",
        )?;
        check_licenses(licenses, meta, lock, &mut out)?;
    }
    bans(ctx, config, meta.as_ref(), lock, &mut out)?;
    sources(config, lock, &mut out);
    Ok(out)
}

/// Cargo metadata (asked of the host, which runs it with `--locked`) and
/// the lockfile, parsed.
fn collect(ctx: &Context) -> Result<Facts, String> {
    let metadata = ctx
        .cargo_metadata_on_demand(true)?
        .map(metadata::reduce)
        .transpose()?;
    let meta = metadata.as_deref().map(metadata::parse).transpose()?;
    let lock_path = match &meta {
        Some(m) => match ctx.repo_relative(&m.workspace_root) {
            Some(ws) => format!("{ws}/Cargo.lock"),
            None => "Cargo.lock".to_string(),
        },
        None => "Cargo.lock".to_string(),
    };
    let text = match ctx.read_to_string(&lock_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && meta.is_none() => {
            return Ok(Facts {
                metadata: None,
                lock: None,
            });
        }
        Err(e) => {
            return Err(format!(
                "cannot read {lock_path}: {e} (commit Cargo.lock, or run `cargo generate-lockfile` before the gate)"
            ));
        }
    };
    let lock = Lockfile::parse(&lock_path, &text)?;
    drop(meta);
    Ok(Facts {
        metadata,
        lock: Some(lock),
    })
}

/// Whether the facts' key covers all that decided them: metadata and the
/// root's lockfile were read, and every package of the workspace (no
/// source) has its manifest in the repository.
fn kept_whole(ctx: &Context, facts: &Facts) -> Result<bool, String> {
    let (Some(json), Some(lock)) = (&facts.metadata, &facts.lock) else {
        return Ok(false);
    };
    if lock.path != "Cargo.lock" {
        return Ok(false);
    }
    let meta = metadata::parse(json)?;
    // A workspace rooted above the repository has inputs outside it.
    if std::path::Path::new(meta.workspace_root.as_ref()) != std::path::Path::new(ctx.host_root()) {
        return Ok(false);
    }
    Ok(meta
        .packages
        .iter()
        .filter(|p| p.source.is_none())
        .all(|p| ctx.repo_relative(&p.manifest_path).is_some()))
}

fn at(lock: &Lockfile, p: &Package) -> Location {
    Location::at(&lock.path, Region::line(p.line))
}

fn advisories(
    ctx: &Context,
    config: &Config,
    lock: &Lockfile,
    out: &mut Evaluation,
) -> Result<(), String> {
    let cfg = &config.advisories;
    for i in &cfg.ignore {
        if i.reason.trim().is_empty() {
            return Err(format!(
                "config.advisories.ignore: `{}` needs a reason",
                i.id
            ));
        }
    }
    let fetch = "fetch it with `git clone https://github.com/rustsec/advisory-db ~/.cargo/advisory-db` (or `cargo audit fetch`)";
    let (db, mount) = match ctx.mount(&cfg.mount) {
        Some((path, m)) if m.present => (path, m),
        found => {
            let problem = match found {
                Some((_, m)) => format!("no advisory database at {}", m.host_path),
                None => format!(
                    "the policy mounts no `{}` for the advisory database (add `[plugins.<id>.mounts] {} = \"~/.cargo/advisory-db\"`)",
                    cfg.mount, cfg.mount
                ),
            };
            if cfg.optional {
                out.push(
                    ADVISORY_DB
                        .finding(format!("{problem}: advisories were not checked; {fetch}"))
                        .level(Level::Note)
                        .in_file(&lock.path),
                );
                return Ok(());
            }
            return Err(format!(
                "{problem}; {fetch}, or set `advisories.optional = true` in the plugin's config"
            ));
        }
    };
    let all = advisories::load(&db, &lock.packages)
        .map_err(|e| format!("advisory database {}: {e}", mount.host_path))?;
    if cfg.max_age_days > 0
        && let Some(age) = advisories::age(&db)
    {
        let days = age.as_secs() / 86_400;
        if days > cfg.max_age_days {
            out.push(
                ADVISORY_DB
                    .finding(format!(
                        "the advisory database at {} was last fetched {days} days ago (advisories.max-age-days is {}); refresh it with `git -C {} pull`",
                        mount.host_path, cfg.max_age_days, mount.host_path
                    ))
                    .in_file(&lock.path),
            );
        }
    }
    let mut used: HashSet<&str> = HashSet::new();
    for adv in &all {
        if adv.advisory.withdrawn {
            continue;
        }
        // RustSec covers crates.io crates; a path or git crate of the same
        // name is another crate.
        let from_crates_io = |p: &&Package| p.source.as_deref().is_some_and(is_crates_io);
        for p in lock
            .packages
            .iter()
            .filter(|p| p.name == adv.advisory.package)
            .filter(from_crates_io)
        {
            if !adv
                .affects(&p.version)
                .map_err(|e| format!("advisory database {}: {e}", mount.host_path))?
            {
                continue;
            }
            let ignored = cfg
                .ignore
                .iter()
                .find(|i| i.id == adv.advisory.id || adv.advisory.aliases.contains(&i.id));
            if let Some(i) = ignored {
                used.insert(i.id.as_str());
                continue;
            }
            let rule: &RuleDecl = match adv.kind() {
                Kind::Vulnerability => &ADVISORY,
                Kind::Unmaintained => &UNMAINTAINED,
                Kind::Unsound => &UNSOUND,
                Kind::Notice => &NOTICE,
            };
            let patched = if adv.versions.patched.is_empty() {
                "no patched version".to_string()
            } else {
                format!("patched: {}", adv.versions.patched.join(", "))
            };
            let score = adv
                .advisory
                .cvss
                .as_deref()
                .and_then(advisories::cvss_score);
            let mut props = serde_json::json!({
                "advisory-id": adv.advisory.id,
                "package": p.name,
                "version": p.version.to_string(),
                "aliases": adv.advisory.aliases,
                "patched": adv.versions.patched,
            });
            if let Some(url) = &adv.advisory.url {
                props["url"] = url.clone().into();
            }
            if let Some(cvss) = &adv.advisory.cvss {
                props["cvss"] = cvss.clone().into();
            }
            if let Some(score) = score {
                props["security-severity"] = format!("{score:.1}").into();
            }
            out.push(
                rule.finding(format!(
                    "{} {}: {} {} ({patched})",
                    p.name, p.version, adv.advisory.id, adv.title
                ))
                .location(at(lock, p))
                .fingerprint(format!("deps/{}/{}@{}", adv.advisory.id, p.name, p.version))
                .properties(props),
            );
        }
    }
    for i in &cfg.ignore {
        if !used.contains(i.id.as_str()) {
            out.push(
                UNUSED_IGNORE
                    .finding(format!(
                        "advisory {} is ignored in the plugin's config but affects no dependency in {}",
                        i.id, lock.path
                    ))
                    .in_file(&lock.path),
            );
        }
    }
    Ok(())
}

fn licensees(key: &str, list: &[String]) -> Result<Vec<spdx::Licensee>, String> {
    list.iter()
        .map(|l| {
            spdx::Licensee::parse(l)
                .map_err(|e| format!("config.licenses.{key}: `{l}` is not an SPDX license id: {e}"))
        })
        .collect()
}

fn check_licenses(
    cfg: &config::Licenses,
    meta: &Metadata,
    lock: &Lockfile,
    out: &mut Evaluation,
) -> Result<(), String> {
    let allow = licensees("allow", &cfg.allow)?;
    let deny = licensees("deny", &cfg.deny)?;
    let mut clarify = Vec::new();
    for c in &cfg.clarify {
        let req = c
            .version
            .as_deref()
            .map(|v| config::req("licenses.clarify.version", v))
            .transpose()?;
        spdx::Expression::parse(&c.expression).map_err(|e| {
            format!(
                "config.licenses.clarify: `{}` for {} is not an SPDX expression: {e}",
                c.expression, c.krate
            )
        })?;
        clarify.push((c, req));
    }
    let lines: HashMap<(&str, String), &Package> = lock
        .packages
        .iter()
        .map(|p| ((p.name.as_str(), p.version.to_string()), p))
        .collect();
    for p in &meta.packages {
        if p.source.is_none() && !cfg.include_workspace {
            continue;
        }
        let Ok(version) = semver::Version::parse(&p.version) else {
            continue;
        };
        let location = match lines.get(&(p.name.as_ref(), p.version.to_string())) {
            Some(lp) => at(lock, lp),
            None => Location::file(&lock.path),
        };
        let clarified = clarify.iter().find(|(c, req)| {
            c.krate.as_str() == p.name && req.as_ref().is_none_or(|r| r.matches(&version))
        });
        let expr_text = match (clarified, &p.license) {
            (Some((c, _)), _) => c.expression.clone(),
            (None, Some(l)) => l.to_string(),
            (None, None) => {
                let file = p
                    .license_file
                    .as_deref()
                    .map(|f| format!(" (only a license file, {f})"))
                    .unwrap_or_default();
                out.push(
                    UNLICENSED
                        .finding(format!(
                            "{} {} declares no SPDX license{file}",
                            p.name, p.version
                        ))
                        .location(location)
                        .properties(serde_json::json!({"package": p.name, "version": p.version})),
                );
                continue;
            }
        };
        let expr = match spdx::Expression::parse_mode(&expr_text, spdx::ParseMode::LAX) {
            Ok(e) => e,
            Err(e) => {
                out.push(
                    LICENSE
                        .finding(format!(
                            "{} {} declares `{expr_text}`, which is not an SPDX expression ({})",
                            p.name, p.version, e.reason
                        ))
                        .location(location),
                );
                continue;
            }
        };
        let accepted = |req: &spdx::LicenseReq| {
            !deny.iter().any(|d| d.satisfies(req))
                && (allow.is_empty() || allow.iter().any(|a| a.satisfies(req)))
        };
        if let Err(failed) = expr.evaluate_with_failures(accepted) {
            let failed: Vec<String> = failed.iter().map(|r| r.req.to_string()).collect();
            out.push(
                LICENSE
                    .finding(format!(
                        "{} {} is licensed `{expr_text}`; not allowed: {}",
                        p.name,
                        p.version,
                        failed.join(", ")
                    ))
                    .location(location)
                    .properties(serde_json::json!({
                        "package": p.name,
                        "version": p.version,
                        "license": expr_text,
                    })),
            );
        }
    }
    Ok(())
}

fn bans(
    ctx: &Context,
    config: &Config,
    meta: Option<&Metadata>,
    lock: &Lockfile,
    out: &mut Evaluation,
) -> Result<(), String> {
    let cfg = &config.bans;
    for ban in &cfg.deny {
        let (req, reason) = match ban {
            Ban::Name(_) => (None, None),
            Ban::Spec {
                version, reason, ..
            } => (
                version
                    .as_deref()
                    .map(|v| config::req("bans.deny.version", v))
                    .transpose()?,
                reason.as_deref(),
            ),
        };
        for p in lock
            .packages
            .iter()
            .filter(|p| p.name == ban.name() && req.as_ref().is_none_or(|r| r.matches(&p.version)))
        {
            let why = reason.map(|r| format!(": {r}")).unwrap_or_default();
            out.push(
                BANNED
                    .finding(format!("{} {} is banned{why}", p.name, p.version))
                    .location(at(lock, p)),
            );
        }
    }
    if cfg.duplicates {
        let mut skip: Vec<(&str, Option<semver::VersionReq>)> = Vec::new();
        for s in &cfg.skip_duplicates {
            match s.split_once('@') {
                Some((name, r)) => skip.push((name, Some(config::req("bans.skip-duplicates", r)?))),
                None => skip.push((s, None)),
            }
        }
        let mut by_name: BTreeMap<&str, Vec<&Package>> = BTreeMap::new();
        for p in &lock.packages {
            let skipped = skip
                .iter()
                .any(|(n, r)| *n == p.name && r.as_ref().is_none_or(|r| r.matches(&p.version)));
            if !skipped {
                by_name.entry(&p.name).or_default().push(p);
            }
        }
        for (name, mut versions) in by_name {
            versions.sort_by(|a, b| a.version.cmp(&b.version));
            versions.dedup_by(|a, b| a.version == b.version);
            if versions.len() > 1 {
                let list: Vec<String> = versions.iter().map(|p| p.version.to_string()).collect();
                out.push(
                    DUPLICATE
                        .finding(format!(
                            "{name} is in the lockfile in {} versions: {}",
                            list.len(),
                            list.join(", ")
                        ))
                        .location(at(lock, versions[0]))
                        .fingerprint(format!("deps/duplicate/{name}/{}", list.join(",")))
                        .properties(serde_json::json!({"package": name, "versions": list})),
                );
            }
        }
    }
    if cfg.wildcards
        && let Some(meta) = meta
    {
        for p in meta.packages.iter().filter(|p| p.source.is_none()) {
            let Some(manifest) = ctx.repo_relative(&p.manifest_path) else {
                continue;
            };
            let wild: Vec<_> = p
                .dependencies()?
                .into_iter()
                .filter(|d| d.req == "*" && d.path.is_none())
                .collect();
            if wild.is_empty() {
                continue;
            }
            let text = ctx
                .read_to_string(&manifest)
                .map_err(|e| format!("cannot read {manifest}: {e}"))?;
            for d in &wild {
                let line = text
                    .lines()
                    .position(|l| l.trim_start().starts_with(d.name.as_ref()) && l.contains('*'))
                    .map_or(1, |i| i as u32 + 1);
                out.push(
                    WILDCARD
                        .finding(format!(
                            "{} requires {} with `*`: any version may be resolved",
                            p.name, d.name
                        ))
                        .location(Location::at(&manifest, Region::line(line))),
                );
            }
        }
    }
    Ok(())
}

const CRATES_IO: &[&str] = &[
    "https://github.com/rust-lang/crates.io-index",
    "https://index.crates.io/",
];

fn is_crates_io(source: &str) -> bool {
    source
        .strip_prefix("registry+")
        .or_else(|| source.strip_prefix("sparse+"))
        .is_some_and(|u| {
            CRATES_IO
                .iter()
                .any(|c| c.trim_end_matches('/') == u.trim_end_matches('/'))
        })
}

fn sources(config: &Config, lock: &Lockfile, out: &mut Evaluation) {
    let cfg = &config.sources;
    let norm = |u: &str| u.trim_end_matches('/').trim_end_matches(".git").to_string();
    let mut registries: Vec<String> = cfg.allow_registries.iter().map(|r| norm(r)).collect();
    if registries
        .iter()
        .any(|r| CRATES_IO.iter().any(|c| norm(c) == *r))
    {
        registries.extend(CRATES_IO.iter().map(|c| norm(c)));
    }
    for p in &lock.packages {
        let Some(source) = &p.source else { continue };
        let allowed = if let Some(url) = source
            .strip_prefix("registry+")
            .or_else(|| source.strip_prefix("sparse+"))
        {
            registries.contains(&norm(url))
        } else if let Some(url) = source.strip_prefix("git+") {
            let url = norm(url.split(['?', '#']).next().unwrap_or(url));
            cfg.allow_git
                .iter()
                .any(|g| norm(g) == url || (g.ends_with('/') && url.starts_with(g.as_str())))
        } else {
            false
        };
        if !allowed {
            out.push(
                SOURCE
                    .finding(format!(
                        "{} {} comes from {source}, which the policy does not allow",
                        p.name, p.version
                    ))
                    .location(at(lock, p)),
            );
        }
    }
}
