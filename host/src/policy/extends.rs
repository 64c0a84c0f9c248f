//! `extends`: a policy on top of others (an org policy, the built-in
//! default). Later layers replace plugins, reports and rules of the same
//! name; waivers add up. Locks hold against every layer above the one
//! that set them:
//! - a locked rule may not be lowered, disabled or waived (except by the
//!   waiver files the locking policy names in `locked-waivers`), and it
//!   is a floor for every more specific entry ([`super::rules::level_for`]);
//! - the plugin whose rules it locks (when the locking policy defines it)
//!   may not be redefined at all (source, digest, config, grants, mounts,
//!   limits) by a file outside the locking policy's own `extends` chain,
//!   whatever the order of `extends`; it reads only reports that chain
//!   defines ([`super::Policy::check_locks`]);
//! - a locked `[gate] fail-at` may not be raised.

use std::path::{Path, PathBuf};

use super::read::{Diags, Spanned};
use super::rules::RuleOverride;
use super::{DEFAULT_POLICY, DEFAULT_POLICY_NAME, Policy, Reading};
use crate::diag::Level;

/// How deep `extends` may nest.
const MAX_DEPTH: usize = 16;

/// Load each parent named in `extends` (relative to `dir`) and merge them
/// in order; `reading.chain` holds the files being read, to detect cycles.
/// An OCI tag is taken when `allow_tags` (the file's `allow-oci-tags`).
pub fn parents(
    extends: Vec<Spanned<String>>,
    dir: Option<&Path>,
    allow_tags: bool,
    reading: &mut Reading,
    d: &mut Diags,
) -> Option<Policy> {
    let mut base: Option<Policy> = None;
    for parent in extends {
        let name = &parent.value;
        if reading.chain.len() >= MAX_DEPTH {
            d.push(
                parent.at.clone(),
                format!("extends nests more than {MAX_DEPTH} policies deep"),
            );
            continue;
        }
        let loaded = if name == DEFAULT_POLICY_NAME {
            if reading.chain.iter().any(|c| c == DEFAULT_POLICY_NAME) {
                d.push(parent.at.clone(), format!("extends cycle through {name}"));
                continue;
            }
            reading.chain.push(name.clone());
            let p = Policy::read(DEFAULT_POLICY, DEFAULT_POLICY_NAME, None, reading, d);
            reading.chain.pop();
            p
        } else if name.starts_with("builtin:") {
            d.push(
                parent.at.clone(),
                format!(
                    "extends `{name}`: no such built-in policy (the built-in one is `{DEFAULT_POLICY_NAME}`)"
                ),
            );
            continue;
        } else {
            let path = if name.starts_with(crate::oci::reference::SCHEME) {
                match oci_bundle(name, &parent.at, allow_tags, reading) {
                    Ok(p) => p,
                    Err(e) => {
                        d.push(parent.at.clone(), format!("extends: {e}"));
                        continue;
                    }
                }
            } else {
                match dir {
                    Some(dir) if Path::new(name).is_relative() => dir.join(name),
                    _ => PathBuf::from(name),
                }
            };
            let key = match path.canonicalize() {
                Ok(k) => k.display().to_string(),
                Err(e) => {
                    d.push(parent.at.clone(), format!("extends `{name}`: {e}"));
                    continue;
                }
            };
            if reading.chain.contains(&key) {
                d.push(parent.at.clone(), format!("extends cycle through {name}"));
                continue;
            }
            let text = match crate::files::read_to_string(&path, crate::files::MAX_POLICY_BYTES) {
                Ok(t) => t,
                Err(e) => {
                    d.push(parent.at.clone(), format!("extends `{name}`: {e}"));
                    continue;
                }
            };
            reading.chain.push(key);
            let bundle = name
                .starts_with(crate::oci::reference::SCHEME)
                .then(|| path.parent().map(Path::to_path_buf))
                .flatten();
            reading.bundles += usize::from(bundle.is_some());
            let p = Policy::read(
                &text,
                &path.display().to_string(),
                path.parent().map(Path::to_path_buf),
                reading,
                d,
            );
            reading.bundles -= usize::from(bundle.is_some());
            reading.chain.pop();
            if let (Some(root), Some(p)) = (&bundle, &p) {
                confine(name, root, p, d);
            }
            p
        };
        base = match (base, loaded) {
            (None, l) => l,
            (Some(b), Some(l)) => Some(extended_by(b, l, d)),
            (b, None) => b,
        };
    }
    base
}

/// The `portcullis.toml` of the policy bundle `name` (`oci://…@sha256:…`),
/// pulled and unpacked in the cache; its relative paths start in the
/// bundle's directory.
fn oci_bundle(
    name: &str,
    at: &super::At,
    allow_tags: bool,
    reading: &mut Reading,
) -> Result<PathBuf, String> {
    let mut r = crate::oci::OciRef::parse(name)?;
    if r.digest.is_none() {
        if !allow_tags {
            return Err(super::oci_tags::unpinned(name));
        }
        r = reading.tags.pin(&r, crate::oci::POLICY)?;
    }
    let root = crate::oci::pull_policy(&r, crate::cache::dir(None).as_deref())?;
    reading.bundle_refs.push((r, at.clone()));
    Ok(root.join(crate::oci::bundle::ENTRY))
}

/// A policy bundle's relative paths stay in the bundle: a file it names
/// through `..` or a symlink out of its directory was never pinned by its
/// digest. (Absolute and `~` paths name the machine's files, as in any
/// policy.)
fn confine(name: &str, root: &Path, p: &Policy, d: &mut Diags) {
    let real_root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
    let escapes = |path: &Path| {
        let Ok(rest) = path.strip_prefix(root) else {
            return false;
        };
        rest.components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
            || path
                .canonicalize()
                .is_ok_and(|real| !real.starts_with(&real_root))
    };
    let mut seen = |what: &str, path: &Path, at: Option<&super::At>| {
        if escapes(path) {
            let message = format!(
                "the policy bundle {name} names {what} {} outside the bundle",
                path.display()
            );
            match at {
                Some(at) => d.push(at.clone(), message),
                None => d.whole_file(
                    &root.join(crate::oci::bundle::ENTRY).display().to_string(),
                    message,
                ),
            }
        }
    };
    for file in &p.files {
        seen("the policy file", Path::new(file), None);
    }
    for plugin in &p.plugins {
        if let super::Source::File(path) = &plugin.source {
            seen("the plugin", path, Some(&plugin.at));
        }
        for mount in &plugin.mounts {
            seen("the mount", &mount.path, Some(&mount.at));
        }
    }
    for waiver in &p.waivers {
        seen(
            "the waiver file",
            Path::new(waiver.at.file_name()),
            Some(&waiver.at),
        );
    }
}

/// `parent` with `child` on top: the child's gate settings, plugins,
/// reports and rules replace the parent's of the same name; waivers add
/// up. A child may not lower or disable a rule the parent locked, nor
/// waive it; each attempt is reported.
pub fn extended_by(parent: Policy, child: Policy, d: &mut Diags) -> Policy {
    let locked: Vec<&RuleOverride> = parent.rules.iter().filter(|r| r.locked).collect();
    for c in &child.rules {
        for l in locked
            .iter()
            .filter(|l| l.overlaps(&c.pattern, c.matcher()))
        {
            if c.level < l.level {
                d.push(
                    c.at.clone(),
                    format!(
                        "`{}` = {} lowers rule `{}`, locked at {} as {}",
                        c.pattern,
                        c.level.map_or("off", Level::as_str),
                        l.pattern,
                        l.at,
                        l.level.map_or("off", Level::as_str)
                    ),
                );
            }
        }
    }
    for w in &child.waivers {
        if let Some(l) = locked.iter().find(|l| l.overlaps(&w.rule, &w.rule_matcher)) {
            d.push(
                w.at.clone(),
                format!(
                    "waiver for `{}` touches rule `{}`, locked at {}: only that policy may waive it",
                    w.rule, l.pattern, l.at
                ),
            );
        }
    }
    if let (Some(lock), Some(own)) = (&parent.gate.fail_at_locked, &child.gate.fail_at)
        && own.value > parent.fail_at
    {
        d.push(
            own.at.clone(),
            format!(
                "fail-at = \"{}\" raises the gate's threshold, locked at {} as \"{}\"",
                own.value, lock, parent.fail_at
            ),
        );
    }
    let mut plugins = parent.plugins;
    for p in child.plugins {
        plugins.retain(|x| x.id != p.id);
        plugins.push(p);
    }
    plugins.sort_by(|a, b| a.id.cmp(&b.id));
    let mut reports = parent.reports;
    for r in child.reports {
        // A report of a policy that locks rules stays that policy's: the
        // host takes a pull request's base from it, and locked plugins
        // read only the reports of the locking chain.
        let locking = reports.iter().find(|x| x.name == r.name).and_then(|old| {
            parent
                .rules
                .iter()
                .find(|l| {
                    l.locked
                        && l.scope
                            .as_ref()
                            .is_some_and(|s| s.files.iter().any(|f| f == old.at.file_name()))
                })
                .map(|l| (old.at.clone(), l.at.clone(), l.pattern.clone()))
        });
        if let Some((old, lock, pattern)) = locking {
            d.push(
                r.at.clone(),
                format!(
                    "[reports.{}] redefines the report defined at {old}, in a policy whose rules are locked at {lock} (`{pattern}`): only that policy, or one it extends, may define it",
                    r.name
                ),
            );
            continue;
        }
        reports.retain(|x| x.name != r.name);
        reports.push(r);
    }
    reports.sort_by(|a, b| a.name.cmp(&b.name));
    let mut rules = parent.rules;
    for r in child.rules {
        // A lock stays with the scope of the policy that set it first.
        let kept = rules
            .iter()
            .find(|x| x.pattern == r.pattern && x.locked)
            .and_then(|x| x.scope.clone());
        rules.retain(|x| x.pattern != r.pattern);
        rules.push(RuleOverride {
            locked: r.locked || kept.is_some(),
            scope: kept.or(r.scope),
            ..r
        });
    }
    let mut files = parent.files;
    files.extend(child.files);
    let mut waivers = parent.waivers;
    waivers.extend(child.waivers);
    let fail_at = child.gate.fail_at.or(parent.gate.fail_at);
    Policy {
        origin: child.origin,
        // Filled in once the whole policy is read.
        oci_tags: Default::default(),
        oci_locked: false,
        // Every file's keys hold: an extending file adds a set, never
        // replaces one.
        signatures: parent
            .signatures
            .into_iter()
            .chain(child.signatures)
            .collect(),
        files,
        fail_at: fail_at.as_ref().map_or(Level::Error, |f| f.value),
        plugins,
        reports,
        rules,
        waivers,
        waiver_expiring_days: child
            .gate
            .waiver_expiring_days
            .or(parent.gate.waiver_expiring_days)
            .unwrap_or(super::DEFAULT_WAIVER_EXPIRING_DAYS),
        gate: super::GateSettings {
            fail_at,
            fail_at_locked: parent.gate.fail_at_locked.or(child.gate.fail_at_locked),
            waiver_expiring_days: child
                .gate
                .waiver_expiring_days
                .or(parent.gate.waiver_expiring_days),
        },
    }
}
