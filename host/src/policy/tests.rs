//! Policy reading: strictness, locations, layering.
use super::*;
use std::path::Path;

fn err(text: &str) -> String {
    Policy::parse(text, "p.toml", None)
        .expect_err("policy should be rejected")
        .to_string()
}

#[test]
fn default_policy_is_valid() {
    let p = Policy::builtin_default().expect("default policy");
    assert_eq!(p.fail_at, Level::Error);
    assert!(
        p.plugins
            .iter()
            .any(|p| p.source == Source::Builtin("lint".into()))
    );
}

#[test]
fn unknown_key_names_line_and_column() {
    let e = err("[plugins.lint]\nsource = \"builtin:lint\"\ntimeout = 5\n");
    assert!(e.starts_with("p.toml:3:1: unknown field `timeout`"), "{e}");
    assert!(e.contains("timeout-ms"), "lists the expected keys: {e}");
    let e = err("[plugins.lint]\nsource = \"builtin:lint\"\ntimout-ms = 5\n");
    assert!(e.ends_with("; did you mean `timeout-ms`?"), "{e}");
    let e = err("[gate]\nfail-at = \"eror\"\n[plugins.l]\nsource=\"builtin:lint\"\n");
    assert!(e.ends_with("did you mean `error`?"), "{e}");
    let e = err("[plugins.lint]\nsource = \"builtin:lint\"\nzzz = 5\n");
    assert!(!e.contains("did you mean"), "no far-fetched guesses: {e}");
}

#[test]
fn wasm_file_needs_sha256() {
    let e = err("[plugins.x]\nsource = \"x.wasm\"\n");
    assert_eq!(
        e,
        "p.toml:2:10: plugin `x` loads a .wasm file, so `sha256` is required to pin it"
    );
}

#[test]
fn bad_values_are_located() {
    assert!(
        err("[gate]\nfail-at = \"fatal\"\n[plugins.l]\nsource=\"builtin:lint\"\n")
            .starts_with("p.toml:2:11: unknown variant `fatal`")
    );
    assert!(
        err("[plugins.l]\nsource=\"builtin:nope\"\n").contains("unknown built-in plugin `nope`")
    );
    assert!(
        err("[plugins.l]\nsource=\"builtin:lint\"\ntimeout-ms = 0\n")
            .starts_with("p.toml:3:14: timeout-ms must be between")
    );
    assert!(
        err("[plugins.l]\nsource=\"builtin:lint\"\nread = [\"../x\"]\n")
            .starts_with("p.toml:3:9: read grant `../x`")
    );
    assert!(
        err("[plugins.l]\nsource=\"builtin:lint\"\nread = [\"/etc\"]\n")
            .contains("inside the repository")
    );
    assert!(err("[plugins.Lint]\nsource=\"builtin:lint\"\n").contains("plugin id `Lint`"));
    let report = |path: &str| {
        err(&format!(
            "[plugins.l]\nsource=\"builtin:lint\"\n[reports.r]\npath=\"{path}\"\nformat=\"sarif\"\n"
        ))
    };
    assert!(
        report("/etc/passwd").starts_with(
            "p.toml:4:6: report path `/etc/passwd` must be a file inside the repository"
        )
    );
    assert!(report("../x.sarif").contains("inside the repository"));
    assert!(report("").contains("inside the repository"));
    assert!(err("[gate]\n").contains("no plugins"));
    assert!(
        err("[plugins.l]\nsource=\"builtin:lint\"\n[reports.c]\npath=\"c.json\"\nformat=\"xml\"\n")
            .contains("unknown variant `xml`")
    );
}

#[test]
fn rule_levels_most_specific_wins() {
    let p = Policy::parse(
        "[plugins.l]\nsource=\"builtin:lint\"\n[rules]\n\"lint/*\" = \"note\"\n\"lint/clippy/*\" = \"off\"\n\"lint/clippy/len_zero\" = \"error\"\n\"*/large-file\" = \"warning\"\n",
        "p.toml",
        None,
    )
    .expect("valid");
    let level = |id: &str| p.level_for(id, Level::Warning);
    assert_eq!(level("lint/merge-conflict"), Some(Level::Note), "glob");
    assert_eq!(
        level("lint/clippy/needless_return"),
        None,
        "longer glob turns it off"
    );
    assert_eq!(
        level("lint/clippy/len_zero"),
        Some(Level::Error),
        "exact id beats globs"
    );
    assert_eq!(
        level("lint/large-file"),
        Some(Level::Warning),
        "longest pattern wins"
    );
    assert_eq!(
        level("other/thing"),
        Some(Level::Warning),
        "no entry: the reported level"
    );
}

#[test]
fn bad_rule_entries_are_located() {
    let base = "[plugins.l]\nsource=\"builtin:lint\"\n[rules]\n";
    assert!(err(&format!("{base}\"lint/x\" = \"fatal\"\n")).starts_with(
        "p.toml:4:12: unknown level `fatal`, expected one of `off`, `note`, `warning`, `error`"
    ));
    assert!(
        err(&format!("{base}\"lint/[x\" = \"off\"\n"))
            .starts_with("p.toml:4:1: bad rule pattern `lint/[x`")
    );
    assert!(
        err(&format!("{base}\"lint/x\" = 3\n"))
            .starts_with("p.toml:4:12: invalid type: integer, expected a level string or a table")
    );
    assert!(
        err(&format!(
            "{base}\"lint/x\" = {{ level = \"error\", lock = true }}\n"
        ))
        .contains("unknown key `lock` in a rule entry")
    );
}

#[test]
fn waivers_are_parsed_and_checked() {
    let base = "[plugins.l]\nsource=\"builtin:lint\"\n";
    let p = Policy::parse(
        &format!("{base}[[waivers]]\nrule = \"lint/*\"\npaths = [\"tests/**\"]\nreason = \"fixtures\"\nowner = \"sec@example.com\"\nexpires = 2027-03-31\n"),
        "p.toml",
        None,
    )
    .expect("valid");
    let w = &p.waivers[0];
    assert_eq!(
        (w.place().as_str(), w.expires.to_string().as_str()),
        ("p.toml:4", "2027-03-31")
    );
    assert!(w.matches("lint/large-file", Some("tests/a/b.bin"), "fp"));
    assert!(!w.matches("lint/large-file", Some("src/b.bin"), "fp"));
    assert!(
        !w.matches("lint/large-file", None, "fp"),
        "a path-scoped waiver needs a location"
    );
    assert!(!w.matches("other/x", Some("tests/a"), "fp"));
    let waiver = |body: &str| err(&format!("{base}[[waivers]]\n{body}"));
    let ok = "rule = \"x\"\nreason = \"r\"\nowner = \"o\"\n";
    assert!(
        waiver(ok).contains("missing field `expires`"),
        "{}",
        waiver(ok)
    );
    assert!(
        waiver(&format!("{ok}expires = \"2027-02-30\"\n"))
            .starts_with("p.toml:7:11: expires `2027-02-30` is not a date")
    );
    assert!(
        waiver(&format!("{ok}expires = 2027-03-31\nowners = \"x\"\n"))
            .starts_with("p.toml:8:1: unknown field `owners`")
    );
    assert!(
        waiver("rule = \"x\"\nreason = \" \"\nowner = \"o\"\nexpires = 2027-01-01\n")
            .contains("waiver `reason` must not be empty")
    );
    assert!(
        waiver("rule = \"x\"\nreason = \"r\"\nexpires = 2027-01-01\n")
            .contains("missing field `owner`")
    );
    assert!(
        waiver(
            "rule = \"x\"\npaths = [\"a/[\"]\nreason = \"r\"\nowner = \"o\"\nexpires = 2027-01-01\n"
        )
        .contains("bad path glob `a/[`")
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
    std::fs::write(&p, text).expect("write");
    p
}

#[test]
fn extends_merges_and_guards_locked_rules() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(
        d,
        "org/policy.toml",
        "[gate]\nfail-at = \"warning\"\n[plugins.custom]\nsource = \"plugins/custom.wasm\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n\
         [rules]\n\"lint/private-key\" = { level = \"error\", locked = true }\n\"lint/large-file\" = \"note\"\n",
    );
    let repo = write(
        d,
        "repo/portcullis.toml",
        "extends = [\"builtin:default\", \"../org/policy.toml\"]\n[rules]\n\"lint/large-file\" = \"error\"\n\"lint/private-key\" = \"error\"\n",
    );
    let p = Policy::load(&repo).expect("merged");
    assert_eq!(p.fail_at, Level::Warning, "from the org policy");
    let ids: Vec<&str> = p.plugins.iter().map(|x| x.id.as_str()).collect();
    assert_eq!(
        ids,
        ["custom", "deps", "lint", "secrets"],
        "builtin default's plugins + the org's plugin"
    );
    assert_eq!(
        p.plugins[0].source,
        Source::File(d.join("repo/../org/plugins/custom.wasm")),
        "relative to the org policy"
    );
    assert_eq!(
        p.level_for("lint/large-file", Level::Warning),
        Some(Level::Error),
        "the repo overrides"
    );
    assert!(
        p.rules
            .iter()
            .any(|r| r.pattern == "lint/private-key" && r.locked),
        "raising keeps the lock"
    );

    // Lowering or disabling a locked rule, directly or by a glob, names both files.
    for rules in [
        "\"lint/private-key\" = \"warning\"",
        "\"lint/*\" = \"off\"",
        "\"*\" = \"note\"",
    ] {
        let repo = write(
            d,
            "repo/portcullis.toml",
            &format!("extends = [\"../org/policy.toml\"]\n[rules]\n{rules}\n"),
        );
        let e = Policy::load(&repo).expect_err(rules).to_string();
        assert!(
            e.contains("repo/portcullis.toml:3:1: ")
                && e.contains("lowers rule `lint/private-key`, locked at ")
                && e.contains("org/policy.toml:7:1"),
            "{e}"
        );
    }
    // Only the locking policy may waive it.
    let repo = write(
        d,
        "repo/portcullis.toml",
        "extends = [\"../org/policy.toml\"]\n[[waivers]]\nrule = \"lint/private-key\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2030-01-01\n",
    );
    let e = Policy::load(&repo).expect_err("waiver").to_string();
    assert!(
        e.contains("waiver for `lint/private-key` touches rule `lint/private-key`, locked at"),
        "{e}"
    );
}

#[test]
fn locks_hold_against_every_extending_policy() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(
        d,
        "org/policy.toml",
        "locked-waivers = [\"security-waivers.toml\"]\n[gate]\nfail-at = { level = \"warning\", locked = true }\n\
         [plugins.lint]\nsource = \"builtin:lint\"\n\
         [rules]\n\"lint/*\" = { level = \"error\", locked = true }\n\"*/private-key\" = { level = \"error\", locked = true }\n",
    );
    write(
        d,
        "org/security-waivers.toml",
        "[[waivers]]\nrule = \"lint/private-key\"\nreason = \"test fixture key\"\nowner = \"security\"\nexpires = 2030-01-01\n",
    );
    let load = |text: &str| Policy::load(&write(d, "repo/portcullis.toml", text));

    // Redefining the locked plugin (reconfiguring, re-granting, replacing
    // it with a no-op component) names both files and the key.
    for table in [
        "[plugins.lint]\nsource = \"builtin:lint\"\n[plugins.lint.config]\nexclude = [\"**\"]\n",
        "[plugins.lint]\nsource = \"builtin:lint\"\nread = []\n",
        "[plugins.lint]\nsource = \"noop.wasm\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n",
    ] {
        let e = load(&format!("extends = [\"../org/policy.toml\"]\n{table}"))
            .expect_err(table)
            .to_string();
        assert!(
            e.contains("repo/portcullis.toml:2:")
                && e.contains("[plugins.lint] redefines a plugin whose rules are locked at ")
                && e.contains("org/policy.toml:8:1 (`*/private-key`)"),
            "{e}"
        );
    }

    // A longer glob elsewhere does not take a locked rule below its level.
    let p = load("extends = [\"../org/policy.toml\"]\n[rules]\n\"secrets/private-*\" = \"off\"\n")
        .expect("loads");
    assert_eq!(
        p.level_for("secrets/private-key", Level::Note),
        Some(Level::Error)
    );
    assert_eq!(p.level_for("secrets/private-x", Level::Note), None);

    // fail-at may be lowered, not raised.
    let e = load("extends = [\"../org/policy.toml\"]\n[gate]\nfail-at = \"error\"\n")
        .expect_err("raised")
        .to_string();
    assert!(
        e.contains(
            "repo/portcullis.toml:3:11: fail-at = \"error\" raises the gate's threshold, locked at "
        ) && e.contains("org/policy.toml:3:11"),
        "{e}"
    );
    let p =
        load("extends = [\"../org/policy.toml\"]\n[gate]\nfail-at = \"note\"\n").expect("lowered");
    assert_eq!(p.fail_at, Level::Note);

    // The locking policy's waiver file may waive a locked rule; the
    // repository's own policy still may not.
    let p = load("extends = [\"../org/policy.toml\"]\n").expect("loads");
    assert!(
        p.waivers
            .iter()
            .any(|w| w.rule == "lint/private-key" && w.place().contains("security-waivers.toml:2")),
        "{:?}",
        p.waivers
    );
    let e = load("extends = [\"../org/policy.toml\"]\n[[waivers]]\nrule = \"lint/private-key\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2030-01-01\n")
        .expect_err("waiver")
        .to_string();
    assert!(e.contains("locked at"), "{e}");
    write(
        d,
        "org/security-waivers.toml",
        "[gate]\nfail-at = \"note\"\n",
    );
    let e = load("extends = [\"../org/policy.toml\"]\n")
        .expect_err("only waivers")
        .to_string();
    assert!(
        e.contains("security-waivers.toml:1:2: unknown field `gate`"),
        "{e}"
    );
}

#[test]
fn locks_hold_whatever_the_order_of_extends_and_however_globs_overlap() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(
        d,
        "org.toml",
        "extends = [\"builtin:default\"]\n\
         [plugins.approvals]\nsource = \"builtin:approvals\"\n\
         [reports.pr]\npath = \"pr.json\"\nformat = \"pr-context\"\n\
         [rules]\n\"secrets/*\" = { level = \"error\", locked = true }\n\"approvals/*\" = { level = \"error\", locked = true }\n",
    );
    let waiver = "[[waivers]]\nrule = \"*/private-key\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2030-01-01\n";
    // A waiver whose glob overlaps the lock without either pattern matching
    // the other loads, but never waives a locked rule; nor does one in a
    // file placed below the locking policy in `extends`.
    write(d, "mine.toml", waiver);
    for text in [
        format!("extends = [\"org.toml\"]\n{waiver}"),
        "extends = [\"mine.toml\", \"org.toml\"]\n".to_string(),
    ] {
        let p = Policy::load(&write(d, "repo.toml", &text)).expect(&text);
        let w = p.waivers.last().expect("waiver");
        assert!(w.matches("secrets/private-key", None, "f"));
        assert!(!p.may_waive(w, "secrets/private-key"), "{text}");
        assert!(p.may_waive(w, "lint/private-key"), "{text}");
        assert!(p.is_locked("secrets/private-key") && !p.is_locked("lint/large-file"));
    }
    // A plugin the lock covers is defined by the locking policy's chain
    // only, placed above or below it; it reads only that chain's reports.
    write(
        d,
        "mine.toml",
        "[plugins.secrets]\nsource = \"builtin:secrets\"\n[plugins.secrets.config]\nallow-paths = [\"**\"]\n",
    );
    let p = Policy::load(&write(
        d,
        "repo.toml",
        "extends = [\"mine.toml\", \"org.toml\"]\n[reports.a]\npath = \"fake.json\"\nformat = \"pr-context\"\n",
    ))
    .expect("org's chain defines secrets");
    let secrets = p
        .plugins
        .iter()
        .find(|x| x.id == "secrets")
        .expect("secrets");
    assert_eq!(secrets.at.file_name(), "builtin:default");
    let approvals = p
        .plugins
        .iter()
        .find(|x| x.id == "approvals")
        .expect("approvals");
    let from = approvals.reports_from.as_ref().expect("scoped");
    assert!(from.iter().any(|f| f.ends_with("org.toml")), "{from:?}");
    assert!(!from.iter().any(|f| f.ends_with("repo.toml")), "{from:?}");
    assert!(
        p.plugins
            .iter()
            .find(|x| x.id == "lint")
            .expect("lint")
            .reports_from
            .is_none()
    );
    let e = Policy::load(&write(
        d,
        "repo.toml",
        "extends = [\"org.toml\", \"mine.toml\"]\n",
    ))
    .expect_err("mine above org redefines secrets")
    .to_string();
    assert!(
        e.contains(
            "mine.toml:1:1: [plugins.secrets] redefines a plugin whose rules are locked at "
        ) && e.contains("org.toml:8:1"),
        "{e}"
    );
    // Nor may it redefine the locking policy's reports (the pull request's
    // context names the base for coverage on new code).
    let e = Policy::load(&write(
        d,
        "repo.toml",
        "extends = [\"org.toml\"]\n[reports.pr]\npath = \"mine.json\"\nformat = \"pr-context\"\n",
    ))
    .expect_err("redefines org's report")
    .to_string();
    assert!(
        e.contains("repo.toml:2:1: [reports.pr] redefines the report defined at ")
            && e.contains("org.toml:4:1"),
        "{e}"
    );
}

#[test]
fn extends_cycles_and_missing_files_are_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(d, "a.toml", "extends = [\"b.toml\"]\n");
    let b = write(d, "b.toml", "extends = [\"a.toml\"]\n");
    let e = Policy::load(&b).expect_err("cycle").to_string();
    assert!(e.contains("extends cycle through b.toml"), "{e}");
    let c = write(d, "c.toml", "extends = [\"missing.toml\"]\n");
    let e = Policy::load(&c).expect_err("missing").to_string();
    assert!(e.contains("c.toml:1:12: extends `missing.toml`"), "{e}");
    let only_rules = write(d, "r.toml", "[rules]\n\"lint/*\" = \"note\"\n");
    assert!(
        Policy::load(&only_rules)
            .expect_err("no plugins")
            .to_string()
            .contains("no plugins")
    );
}

#[test]
fn config_becomes_json() {
    let p = Policy::parse(
        "[plugins.l]\nsource=\"builtin:lint\"\nread=[\"./src/\", \".\"]\n[plugins.l.config]\nmax-file-kb = 10\nexclude = [\"a/**\"]\n",
        "p.toml",
        None,
    )
    .expect("valid");
    assert_eq!(
        p.plugins[0].config,
        serde_json::json!({"max-file-kb": 10, "exclude": ["a/**"]})
    );
    assert_eq!(p.plugins[0].read, vec![".".to_string(), "src".to_string()]);
    assert_eq!(p.plugins[0].timeout_ms, DEFAULT_TIMEOUT_MS);
}

/// The keys each table accepts, as its unknown-key message lists them.
fn accepted(text: &str) -> Vec<String> {
    let e = err(text);
    let line = e
        .lines()
        .find(|l| l.contains("unknown field `zz-unknown`"))
        .unwrap_or_else(|| panic!("no unknown-field message in {e}"));
    // "expected one of `a`, `b`", or "expected `a`" for a table of one key.
    let list = line
        .split("expected one of ")
        .nth(1)
        .or_else(|| line.split("expected ").nth(1))
        .unwrap_or_default();
    list.split(';')
        .next()
        .unwrap_or_default()
        .split(", ")
        .map(|k| k.trim_matches('`').to_string())
        .collect()
}

#[test]
fn documented_keys_are_exactly_the_accepted_keys() {
    let plugin = "[plugins.l]\nsource = \"builtin:lint\"\n";
    let cases = [
        ("", format!("zz-unknown = 1\n{plugin}")),
        ("gate.", format!("[gate]\nzz-unknown = 1\n{plugin}")),
        (
            "signatures.",
            format!("[signatures]\nkeys = []\nzz-unknown = 1\n{plugin}"),
        ),
        (
            "signatures.identities[].",
            format!("[signatures]\nidentities = [{{ issuer = \"i\", zz-unknown = 1 }}]\n{plugin}"),
        ),
        ("plugins.<id>.", format!("{plugin}zz-unknown = 1\n")),
        (
            "plugins.<id>.prometheus.",
            format!("{plugin}[plugins.l.prometheus]\nurl = \"http://p\"\nzz-unknown = 1\n"),
        ),
        (
            "reports.<name>.",
            format!("{plugin}[reports.r]\npath = \"r.json\"\nformat = \"sarif\"\nzz-unknown = 1\n"),
        ),
        (
            "waivers[].",
            format!(
                "{plugin}[[waivers]]\nrule = \"x\"\nreason = \"r\"\nowner = \"o\"\nexpires = 2030-01-01\nzz-unknown = 1\n"
            ),
        ),
    ];
    for (prefix, text) in cases {
        assert_eq!(
            accepted(&text),
            keys::of_table(prefix),
            "keys of `{prefix}` in policy/keys.rs"
        );
    }
    assert_eq!(
        keys::of_table("rules.\"<id or glob>\"."),
        ["level", "locked"]
    );
    assert_eq!(
        accepted(&format!(
            "[gate]\nfail-at = {{ level = \"error\", zz-unknown = 1 }}\n{plugin}"
        )),
        keys::of_table("gate.fail-at.")
    );
    assert!(
        err(&format!(
            "{plugin}[rules]\n\"x\" = {{ level = \"error\", zz-unknown = 1 }}\n"
        ))
        .contains("expected `level` or `locked`")
    );
    for (_, prefix) in keys::TABLES {
        assert!(!keys::of_table(prefix).is_empty(), "{prefix}");
    }
}

#[test]
fn every_mistake_is_reported_in_one_run() {
    let e = err(
        "[gate]\nfail-at = \"eror\"\n\n[plugins.lint]\nsource = \"builtin:lint\"\ntimout-ms = 5\n\n[rules]\n\"lint/x\" = \"fatal\"\n",
    );
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 3, "{e}");
    assert!(
        lines[0].starts_with("p.toml:2:11: unknown variant `eror`"),
        "{e}"
    );
    assert!(lines[0].ends_with("did you mean `error`?"), "{e}");
    assert!(
        lines[1].starts_with("p.toml:6:1: unknown field `timout-ms`"),
        "{e}"
    );
    assert!(
        lines[2].starts_with("p.toml:9:12: unknown level `fatal`"),
        "{e}"
    );
}

#[test]
fn problems_in_extended_files_are_reported_with_their_own() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(d, "org.toml", "[plugins.l]\nsource = \"builtin:nope\"\n");
    let repo = write(
        d,
        "repo.toml",
        "extends = [\"org.toml\", \"missing.toml\"]\n[gate]\nfail-at = 3\n",
    );
    let e = Policy::load(&repo).expect_err("three problems").to_string();
    assert_eq!(e.lines().count(), 3, "{e}");
    assert!(
        e.contains("org.toml:2:10: unknown built-in plugin `nope`"),
        "{e}"
    );
    assert!(e.contains("repo.toml:1:24: extends `missing.toml`"), "{e}");
    assert!(
        e.contains("repo.toml:3:11: invalid type: integer, expected a string"),
        "{e}"
    );
}

#[test]
fn waivers_may_be_written_inline_and_every_problem_of_one_is_reported() {
    let base = "[plugins.l]\nsource=\"builtin:lint\"\n";
    let p = Policy::parse(
        &format!("waivers = [{{ rule = \"lint/*\", reason = \"r\", owner = \"o\", expires = 2027-01-01 }}]\n{base}"),
        "p.toml",
        None,
    )
    .expect("inline array of tables");
    assert_eq!(p.waivers.len(), 1);
    assert!(Policy::parse(&format!("waivers = []\n{base}"), "p.toml", None).is_ok());
    assert!(err(&format!("waivers = [1]\n{base}")).contains("expected a table"));
    let e = err(&format!(
        "{base}[[waivers]]\nrule = \"x\"\nfingerprint = \" \"\nreason = \"r\"\nowner = \"o\"\nexpires = \"2027-02-30\"\n"
    ));
    assert_eq!(e.lines().count(), 2, "{e}");
    assert!(e.contains("waiver `fingerprint` must not be empty"), "{e}");
    assert!(e.contains("expires `2027-02-30` is not a date"), "{e}");
}

#[test]
fn the_hosts_plugin_id_is_reserved() {
    let e = err("[plugins.portcullis]\nsource = \"builtin:lint\"\n");
    assert!(
        e.starts_with("p.toml:1:10: plugin id `portcullis` is reserved for the host's own rules"),
        "{e}"
    );
}

#[test]
fn extending_merges_a_plugin_table_into_the_parents() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    // The three lines: one exclude added to the default's lint.
    let repo = write(
        d,
        "portcullis.toml",
        "extends = [\"builtin:default\"]\n[plugins.lint.config]\nexclude = [\"vendor/**\"]\n",
    );
    let p = Policy::load(&repo).expect("three lines extend the default");
    let lint = p.plugins.iter().find(|x| x.id == "lint").expect("lint");
    assert_eq!(
        lint.source,
        Source::Builtin("lint".into()),
        "source inherited"
    );
    assert_eq!(lint.read, ["."], "read grant inherited");
    assert_eq!(
        lint.config,
        serde_json::json!({"max-file-kb": 500, "exclude": ["vendor/**"]}),
        "config merged key by key"
    );
    assert!(
        lint.config_places["exclude"]
            .to_string()
            .ends_with("portcullis.toml:3:11"),
        "the new key is found in the child: {}",
        lint.config_places["exclude"]
    );
    assert!(
        lint.config_places["max-file-kb"]
            .to_string()
            .starts_with("builtin:default:"),
        "the inherited key in the parent"
    );

    // Nested tables merge; keys written override; mounts merge by name.
    write(
        d,
        "org.toml",
        "[plugins.deps]\nsource = \"builtin:deps\"\nread = [\".\"]\ntimeout-ms = 9000\n\
         [plugins.deps.mounts]\nadvisory-db = \"/db\"\n\
         [plugins.deps.config.advisories]\noptional = true\nignore = [\"RUSTSEC-2020-0001\"]\n",
    );
    let child = write(
        d,
        "child.toml",
        "extends = [\"org.toml\"]\n[plugins.deps]\nmemory-mb = 64\n[plugins.deps.mounts]\nother = \"/other\"\n\
         [plugins.deps.config.advisories]\noptional = false\n",
    );
    let p = Policy::load(&child).expect("merged");
    let deps = &p.plugins[0];
    assert_eq!((deps.timeout_ms, deps.memory_mb), (9000, 64));
    let mounts: Vec<&str> = deps.mounts.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(mounts, ["advisory-db", "other"]);
    assert_eq!(
        deps.config,
        serde_json::json!({"advisories": {"optional": false, "ignore": ["RUSTSEC-2020-0001"]}})
    );

    // A table on one side and a value on the other: exit 2 naming both files.
    let bad = write(
        d,
        "bad.toml",
        "extends = [\"org.toml\"]\n[plugins.deps.config]\nadvisories = false\n",
    );
    let e = Policy::load(&bad).expect_err("cannot merge").to_string();
    assert!(
        e.contains("bad.toml:3:14: config.advisories is a value here and a table at"),
        "{e}"
    );
    assert!(e.contains("org.toml:"), "names the parent's file: {e}");

    // A plugin no parent defines still needs its source.
    let e = Policy::load(&write(
        d,
        "new.toml",
        "extends = [\"org.toml\"]\n[plugins.lint.config]\nmax-file-kb = 1\n",
    ))
    .expect_err("no source")
    .to_string();
    assert!(e.contains("missing field `source`"), "{e}");

    // A new source drops the parent's pin: a .wasm must be pinned again.
    write(
        d,
        "pinned.toml",
        "[plugins.x]\nsource = \"x.wasm\"\nsha256 = \"0000000000000000000000000000000000000000000000000000000000000000\"\n",
    );
    let p = Policy::load(&write(
        d,
        "keeps.toml",
        "extends = [\"pinned.toml\"]\n[plugins.x]\ntimeout-ms = 10\n",
    ))
    .expect("pin kept with the source");
    assert!(p.plugins[0].sha256.is_some());
    let e = Policy::load(&write(
        d,
        "swaps.toml",
        "extends = [\"pinned.toml\"]\n[plugins.x]\nsource = \"y.wasm\"\n",
    ))
    .expect_err("unpinned new source")
    .to_string();
    assert!(
        e.contains("swaps.toml:3:10: plugin `x` loads a .wasm file, so `sha256` is required"),
        "{e}"
    );
}
