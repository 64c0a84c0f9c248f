//! The policy file (`portcullis.toml`): which plugins run, with which limits,
//! grants and config, which reports they read, and when the gate fails.
//!
//! Reading is strict and complete: an unknown key, a wrong type or a bad
//! value is a diagnostic at `file:line:col`, never silently ignored, and one
//! pass reports every problem of the file and of the files it extends.
//!
//! - [`read`]: the TOML with spans, and the diagnostics collector;
//! - `plugins`: `[plugins.<id>]` (sources, pins, limits, grants, mounts)
//!   and `[reports.<name>]`;
//! - `rules`: `[rules]` levels and locks, and [`Policy::level_for`];
//! - `waivers`: `[[waivers]]`;
//! - `extends`: layering policies, and the locks between layers;
//! - `suggest`: did-you-mean; [`date`]: waiver expiry dates.

pub mod date;
mod extends;
pub mod keys;
mod oci_tags;
mod plugins;
pub mod read;
mod rules;
mod suggest;
mod waivers;

use std::path::{Path, PathBuf};

pub use crate::diag::{At, Diagnostic};
pub use oci_tags::{LOCK_FILE, Tags, render_lock};
pub use plugins::{Mount, PluginSpec, ReportFormat, ReportSpec, Source};
pub use read::Places;
pub use rules::RuleOverride;
pub use suggest::closest;
pub use waivers::Waiver;

use crate::diag::{Error, Level};
use read::{Diags, Doc, Node, Spanned};

/// The built-in default policy, used when the repository has no
/// `portcullis.toml` and no `--policy` is given.
pub const DEFAULT_POLICY: &str = include_str!("../../policies/default.toml");
pub const DEFAULT_POLICY_NAME: &str = "builtin:default";

pub const DEFAULT_TIMEOUT_MS: u64 = 5_000;
pub const DEFAULT_MEMORY_MB: u64 = 256;
pub const DEFAULT_WAIVER_EXPIRING_DAYS: i64 = 14;

/// A validated policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Where it came from: a path, or `builtin:default`.
    pub origin: String,
    /// Every policy file merged into this one (this file and those it
    /// extends), as their diagnostics name them.
    pub files: Vec<String>,
    pub fail_at: Level,
    /// Plugins by id, in id order.
    pub plugins: Vec<PluginSpec>,
    /// Report files by name, in name order.
    pub reports: Vec<ReportSpec>,
    /// `[rules]` level overrides, in pattern order.
    pub rules: Vec<RuleOverride>,
    /// `[[waivers]]`, in file order.
    pub waivers: Vec<Waiver>,
    /// A waiver expiring within this many days is reported.
    pub waiver_expiring_days: i64,
    /// The `[gate]` settings this file (or a file it extends) set itself.
    gate: GateSettings,
    /// The OCI tags the policy names (`allow-oci-tags`), each with the
    /// digest it stood for.
    pub oci_tags: std::collections::BTreeMap<String, String>,
    /// Whether those digests came from `portcullis.lock` (else from the
    /// registry, now).
    pub oci_locked: bool,
    /// `[signatures]` of this file and those it extends: every OCI source
    /// must be signed by a key of each set.
    pub signatures: Vec<SignerSet>,
}

/// One file's `[signatures]`: an OCI source must be signed by one of its
/// keys or identities.
#[derive(Debug, Clone)]
pub struct SignerSet {
    pub signers: crate::oci::signatures::Signers,
    pub at: At,
}

/// What reading one policy carries from file to file: the files being
/// read (to find cycles) and how OCI tags are pinned.
pub struct Reading {
    chain: Vec<String>,
    tags: Tags,
    /// How many policy bundles the file being read is inside.
    bundles: usize,
    /// Every policy bundle read, and where it is named.
    bundle_refs: Vec<(crate::oci::OciRef, At)>,
}

/// `[gate]` as written: unset keys come from the policies extended.
#[derive(Debug, Clone, Default)]
struct GateSettings {
    fail_at: Option<Spanned<Level>>,
    /// Where `fail-at` was locked: an extending policy may not raise it.
    fail_at_locked: Option<At>,
    waiver_expiring_days: Option<i64>,
}

impl Policy {
    /// The built-in default policy.
    pub fn builtin_default() -> Result<Policy, Error> {
        Policy::parse(DEFAULT_POLICY, DEFAULT_POLICY_NAME, None)
    }

    /// Read and validate a policy file; OCI tags are pinned by the
    /// `portcullis.lock` beside it, when there is one.
    pub fn load(path: &Path) -> Result<Policy, Error> {
        let tags = Tags::beside(path).map_err(|e| Error::Policy {
            path: path.display().to_string(),
            message: e,
        })?;
        Policy::load_with(path, tags)
    }

    /// As [`Policy::load`], without checking its OCI sources' signatures:
    /// for `verify`, which checks one source against its `[signatures]`.
    pub fn load_signers(path: &Path) -> Result<Policy, Error> {
        let tags = Tags::beside(path).map_err(|e| Error::Policy {
            path: path.display().to_string(),
            message: e,
        })?;
        Policy::load_checking(path, tags, false)
    }

    /// As [`Policy::load`], with OCI tags pinned as `tags` says.
    pub fn load_with(path: &Path, tags: Tags) -> Result<Policy, Error> {
        Policy::load_checking(path, tags, true)
    }

    fn load_checking(path: &Path, tags: Tags, signatures: bool) -> Result<Policy, Error> {
        let bytes = crate::files::read(path, crate::files::MAX_POLICY_BYTES)
            .map_err(|e| Error::io(path, format!("cannot read policy: {e}")))?;
        let text = crate::files::utf8(bytes).map_err(|bad| {
            let place = format!("{}:{}:{}", path.display(), bad.line, bad.column);
            Error::io(place, bad.what())
        })?;
        let dir = path.parent().map(|p| {
            if p.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                p.to_path_buf()
            }
        });
        Policy::parse_checking(&text, &path.display().to_string(), dir, tags, signatures)
    }

    /// Parse and validate policy text; `origin` names it in messages and
    /// `dir` is where its relative paths start. Every problem is reported.
    pub fn parse(text: &str, origin: &str, dir: Option<PathBuf>) -> Result<Policy, Error> {
        Policy::parse_with(text, origin, dir, Tags::default())
    }

    /// As [`Policy::parse`], with OCI tags pinned as `tags` says.
    pub fn parse_with(
        text: &str,
        origin: &str,
        dir: Option<PathBuf>,
        tags: Tags,
    ) -> Result<Policy, Error> {
        Policy::parse_checking(text, origin, dir, tags, true)
    }

    fn parse_checking(
        text: &str,
        origin: &str,
        dir: Option<PathBuf>,
        tags: Tags,
        signatures: bool,
    ) -> Result<Policy, Error> {
        let chain = vec![match &dir {
            Some(d) => d
                .join(origin)
                .canonicalize()
                .map_or_else(|_| origin.to_string(), |p| p.display().to_string()),
            None => origin.to_string(),
        }];
        let mut reading = Reading {
            chain,
            tags,
            bundles: 0,
            bundle_refs: Vec::new(),
        };
        let mut d = Diags::default();
        let mut policy = Policy::read(text, origin, dir, &mut reading, &mut d);
        if let Some(p) = &mut policy {
            p.check_locks(&mut d);
            // A lock that pins more than the policy names is out of date.
            for unused in reading.tags.unused() {
                d.whole_file(origin, unused);
            }
            p.oci_locked = reading.tags.locked();
            p.oci_tags = std::mem::take(&mut reading.tags.resolved);
            // Signatures last, once every source and every key is known.
            if signatures && d.is_empty() && !p.signatures.is_empty() {
                p.check_signatures(&reading.bundle_refs, &mut d);
            }
        }
        if let Some(p) = &policy
            && p.plugins.is_empty()
            && d.is_empty()
        {
            d.whole_file(
                origin,
                "no plugins: add a [plugins.<id>] table (or `extends` a policy that has some)",
            );
        }
        match policy {
            Some(p) if d.is_empty() => Ok(p),
            _ => Err(Error::Invalid(d.list)),
        }
    }

    /// Read one file and the policies it extends, reporting into `d`;
    /// `None` when the file could not be parsed at all.
    fn read(
        text: &str,
        origin: &str,
        dir: Option<PathBuf>,
        reading: &mut Reading,
        d: &mut Diags,
    ) -> Option<Policy> {
        let doc = match Doc::parse(origin, text) {
            Ok(doc) => doc,
            Err(e) => {
                d.list.push(e);
                return None;
            }
        };
        let mut root = doc.root();
        let gate = root.get("gate");
        let plugins = root.get("plugins");
        let reports = root.get("reports");
        let extends = root.get("extends");
        let rules = root.get("rules");
        let waivers = root.get("waivers");
        let locked_waivers = root.get("locked-waivers");
        let allow_tags = root.get("allow-oci-tags");
        let signatures = root.get("signatures");
        root.finish(d);
        let signatures = signatures.and_then(|n| read_signatures(n, dir.as_deref(), d));
        let allow_tags = match allow_tags {
            // A bundle's digest pins it whole: nothing in it may follow a tag.
            Some(n) if reading.bundles > 0 => {
                if n.bool(d) == Some(true) {
                    d.push(
                        n.at(),
                        "a policy bundle may not set allow-oci-tags: its digest must pin everything it names",
                    );
                }
                false
            }
            Some(n) => n.bool(d).unwrap_or(false),
            None => false,
        };

        let gate = gate.map(|n| read_gate(n, d)).unwrap_or_default();
        // The parents first: this file's plugin tables merge into theirs.
        let extends = extends.map(|n| n.strings(d)).unwrap_or_default();
        let base = extends::parents(extends, dir.as_deref(), allow_tags, reading, d);
        let parent_plugin = |id: &str| {
            base.as_ref()
                .and_then(|b| b.plugins.iter().find(|p| p.id == id))
        };
        let mut plugin_specs: Vec<PluginSpec> = named(plugins, d)
            .into_iter()
            .filter_map(|(id, n)| {
                let parent = parent_plugin(&id.value);
                let tags = allow_tags.then_some(&mut reading.tags);
                plugins::read_plugin(id, n, dir.as_deref(), parent, tags, d)
            })
            .collect();
        plugin_specs.sort_by(|a, b| a.id.cmp(&b.id));
        let mut report_specs: Vec<ReportSpec> = named(reports, d)
            .into_iter()
            .filter_map(|(name, n)| plugins::read_report(name, n, d))
            .collect();
        report_specs.sort_by(|a, b| a.name.cmp(&b.name));
        let mut rule_overrides: Vec<RuleOverride> = named(rules, d)
            .into_iter()
            .filter_map(|(pattern, n)| rules::read_rule(pattern, n, d))
            .collect();
        rule_overrides.sort_by(|a, b| a.pattern.cmp(&b.pattern));
        let mut waiver_list: Vec<Waiver> = waivers
            .map(|n| n.tables(d))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|t| waivers::read_waiver(t, d))
            .collect();
        let mut waiver_files = vec![origin.to_string()];
        for file in locked_waivers.map(|n| n.strings(d)).unwrap_or_default() {
            let (name, list) = waivers::read_waiver_file(&file, dir.as_deref(), d);
            waiver_files.push(name);
            waiver_list.extend(list);
        }
        let own = Policy {
            origin: origin.to_string(),
            files: vec![origin.to_string()],
            fail_at: gate.fail_at.as_ref().map_or(Level::Error, |f| f.value),
            plugins: plugin_specs,
            reports: report_specs,
            rules: rule_overrides,
            waivers: waiver_list,
            waiver_expiring_days: gate
                .waiver_expiring_days
                .unwrap_or(DEFAULT_WAIVER_EXPIRING_DAYS),
            gate,
            oci_tags: Default::default(),
            oci_locked: false,
            signatures: signatures.into_iter().collect(),
        };
        let mut merged = match base {
            None => own,
            Some(base) => extends::extended_by(base, own, d),
        };
        // The locks this file sets trust this file and what it extends.
        let scope = std::sync::Arc::new(rules::LockScope {
            files: merged.files.clone(),
            plugins: merged.plugins.iter().map(|p| p.id.clone()).collect(),
            waiver_files,
        });
        for r in merged
            .rules
            .iter_mut()
            .filter(|r| r.locked && r.scope.is_none())
        {
            r.scope = Some(scope.clone());
        }
        Some(merged)
    }

    /// The locks, checked on the whole merged policy whatever the order of
    /// `extends`: a plugin a lock covers must be defined in the locking
    /// policy's chain, and reads only the reports defined there.
    fn check_locks(&mut self, d: &mut Diags) {
        for p in &mut self.plugins {
            let covering = self.rules.iter().filter_map(|r| {
                let scope = r.scope.as_ref().filter(|_| r.locked)?;
                scope.covers_plugin(&r.pattern, &p.id).then_some((r, scope))
            });
            for (lock, scope) in covering {
                if !scope.files.iter().any(|f| f == p.at.file_name()) {
                    d.push(
                        p.at.clone(),
                        format!(
                            "[plugins.{}] redefines a plugin whose rules are locked at {} (`{}`): only that policy, or one it extends, may define it",
                            p.id, lock.at, lock.pattern
                        ),
                    );
                    break;
                }
                let from = p.reports_from.get_or_insert_with(|| scope.files.clone());
                from.retain(|f| scope.files.contains(f));
            }
        }
    }

    /// Every OCI source (plugins and bundles) must be signed by a key of
    /// each `[signatures]` set.
    fn check_signatures(&self, bundles: &[(crate::oci::OciRef, At)], d: &mut Diags) {
        let sets: Vec<crate::oci::signatures::Signers> =
            self.signatures.iter().map(|s| s.signers.clone()).collect();
        let cache = crate::cache::dir(None);
        let plugins = self.plugins.iter().filter_map(|p| match &p.source {
            Source::Oci(r) => Some((r, &p.at)),
            _ => None,
        });
        let bundles = bundles.iter().map(|(r, at)| (r, at));
        for (r, at) in bundles.chain(plugins) {
            if let Err(e) = crate::oci::signatures::verify(r, &sets, cache.as_deref()) {
                d.push(at.clone(), e);
            }
        }
    }

    /// Whether the rule is locked (a baseline does not excuse its
    /// findings).
    pub fn is_locked(&self, rule_id: &str) -> bool {
        self.rules.iter().any(|r| r.locked && r.matches(rule_id))
    }

    /// Whether waiver `w` may waive a finding of `rule_id`: for a locked
    /// rule, only a waiver written in the locking policy or in one of its
    /// `locked-waivers` files may.
    pub fn may_waive(&self, w: &Waiver, rule_id: &str) -> bool {
        self.rules
            .iter()
            .filter(|r| r.locked && r.matches(rule_id))
            .all(|r| {
                r.scope
                    .as_ref()
                    .is_some_and(|s| s.waiver_files.iter().any(|f| f == w.at.file_name()))
            })
    }

    /// The level a finding of `rule_id` gets under `[rules]`: the most
    /// specific entry wins; `None` means the rule is off.
    pub fn level_for(&self, rule_id: &str, reported: Level) -> Option<Level> {
        rules::level_for(&self.rules, rule_id, reported)
    }

    /// Where `[gate] fail-at` was locked, if it was: the threshold may be
    /// lowered there, not raised.
    pub fn fail_at_lock(&self) -> Option<&At> {
        self.gate.fail_at_locked.as_ref()
    }

    /// The policy file's repository-relative path, when it lies inside
    /// `root` (the built-in default lies nowhere).
    pub fn location_in(&self, root: &Path) -> Option<String> {
        crate::files::relative_to(root, Path::new(&self.origin))
    }
}

/// The entries of a table keyed by name (`[plugins]`, `[reports]`, `[rules]`).
fn named<'a>(node: Option<Node<'a>>, d: &mut Diags) -> Vec<(Spanned<String>, Node<'a>)> {
    match node.and_then(|n| n.table(d)) {
        Some(mut t) => t.entries(),
        None => Vec::new(),
    }
}

/// `[signatures]`: public key files and keyless identities (with the
/// trusted root they are checked against), paths relative to this file.
fn read_signatures(node: Node<'_>, dir: Option<&Path>, d: &mut Diags) -> Option<SignerSet> {
    use crate::oci::keyless::{Identity, TrustedRoot};
    let at = node.at();
    let mut t = node.table(d)?;
    let keys = t.get("keys").map(|n| (n.at(), n.strings(d)));
    let identities = t.get("identities").map(|n| (n.at(), n.tables(d)));
    let root = t.get("trusted-root").and_then(|n| n.str(d));
    t.finish(d);
    let named = keys.is_some() || identities.is_some();
    let resolve = |p: &str| match dir {
        Some(dir) if Path::new(p).is_relative() => dir.join(p),
        _ => PathBuf::from(p),
    };
    let mut signers = crate::oci::signatures::Signers::default();
    if let Some((at, keys)) = keys {
        if keys.is_empty() {
            d.push(
                at,
                "[signatures] keys is empty: name at least one public key",
            );
        }
        for k in keys {
            match crate::oci::signatures::Key::read(&resolve(&k.value)) {
                Ok(key) => signers.keys.push(key),
                Err(e) => d.push(k.at, e),
            }
        }
    }
    let mut ids_at = None;
    if let Some((at, tables)) = identities {
        if tables.is_empty() {
            d.push(
                at.clone(),
                "[signatures] identities is empty: name at least one",
            );
        }
        ids_at = Some(at);
        for mut id in tables {
            let id_at = id.at.clone();
            let issuer = id.required("issuer", d).and_then(|n| n.str(d));
            let exact = id.get("identity").and_then(|n| n.str(d));
            let regex = id.get("identity-regex").and_then(|n| n.str(d));
            id.finish(d);
            let Some(issuer) = issuer else { continue };
            match (exact, regex) {
                (Some(e), None) => signers.identities.push(Identity::exact(&issuer.value, &e.value)),
                (None, Some(re)) => match Identity::regex(&issuer.value, &re.value) {
                    Ok(i) => signers.identities.push(i),
                    Err(e) => d.push(re.at, e),
                },
                _ => d.push(
                    id_at,
                    "an identity needs exactly one of `identity` (the certificate's e-mail or URI) and `identity-regex`",
                ),
            }
        }
    }
    match (root, &ids_at) {
        (Some(r), Some(_)) => match TrustedRoot::read(&resolve(&r.value)) {
            Ok(root) => signers.root = Some(std::sync::Arc::new(root)),
            Err(e) => d.push(r.at, e),
        },
        (None, Some(at)) => d.push(
            at.clone(),
            "[signatures] identities need `trusted-root`: the Sigstore trusted root (trusted_root.json) their certificates and log entries are checked against",
        ),
        (Some(r), None) => d.push(
            r.at,
            "[signatures] trusted-root is only read for `identities`, and there are none",
        ),
        (None, None) => {}
    }
    if !named {
        d.push(
            at.clone(),
            "[signatures] names no signer: give `keys` or `identities`",
        );
    }
    Some(SignerSet { signers, at })
}

fn read_gate(node: Node<'_>, d: &mut Diags) -> GateSettings {
    let Some(mut t) = node.table(d) else {
        return GateSettings::default();
    };
    let (fail_at, fail_at_locked) = match t.get("fail-at") {
        None => (None, None),
        Some(n) if n.item.as_table_like().is_some() => read_locked_fail_at(n, d),
        Some(n) => (fail_at_level(&n, d), None),
    };
    let days = t.get("waiver-expiring-days").and_then(|n| n.u64(d));
    t.finish(d);
    let waiver_expiring_days = days.and_then(|v| {
        if v.value <= 3650 {
            Some(v.value as i64)
        } else {
            d.push(v.at, "waiver-expiring-days must be between 0 and 3650");
            None
        }
    });
    GateSettings {
        fail_at,
        fail_at_locked,
        waiver_expiring_days,
    }
}

/// `fail-at = { level = "…", locked = true }`.
fn read_locked_fail_at(n: Node<'_>, d: &mut Diags) -> (Option<Spanned<Level>>, Option<At>) {
    let Some(mut t) = n.table(d) else {
        return (None, None);
    };
    let level = t.required("level", d);
    let locked = t.get("locked").and_then(|l| l.bool(d)).unwrap_or(false);
    t.finish(d);
    let level = level.and_then(|l| fail_at_level(&l, d));
    let lock = (locked && level.is_some()).then(|| n.at());
    (level, lock)
}

fn fail_at_level(n: &Node<'_>, d: &mut Diags) -> Option<Spanned<Level>> {
    let value = match n.variant(&["note", "warning", "error"], d)? {
        "note" => Level::Note,
        "warning" => Level::Warning,
        _ => Level::Error,
    };
    Some(Spanned { value, at: n.at() })
}

#[cfg(test)]
mod tests;
