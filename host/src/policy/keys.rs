//! Every policy key, documented once. The README's table of keys is
//! rendered from [`KEYS`], and a test checks that each table's keys are
//! exactly the ones the reader accepts, so the two cannot drift.

/// One key (or a family of keys) of the policy file.
pub struct Key {
    /// As written in the table: `plugins.<id>.timeout-ms`.
    pub path: &'static str,
    pub kind: &'static str,
    pub doc: &'static str,
}

/// The tables whose keys the reader checks, and the prefix their keys
/// carry in [`KEYS`]: (table, prefix).
pub const TABLES: [(&str, &str); 10] = [
    ("the top level", ""),
    ("[signatures]", "signatures."),
    ("a signatures identity", "signatures.identities[]."),
    ("[gate]", "gate."),
    ("a locked fail-at", "gate.fail-at."),
    ("[plugins.<id>]", "plugins.<id>."),
    ("[plugins.<id>.prometheus]", "plugins.<id>.prometheus."),
    ("[reports.<name>]", "reports.<name>."),
    ("[[waivers]]", "waivers[]."),
    ("a rule entry table", "rules.\"<id or glob>\"."),
];

pub const KEYS: &[Key] = &[
    Key {
        path: "gate",
        kind: "table",
        doc: "when the gate fails",
    },
    Key {
        path: "plugins",
        kind: "table",
        doc: "the plugins that run, by id",
    },
    Key {
        path: "reports",
        kind: "table",
        doc: "report files plugins read (evidence), by name",
    },
    Key {
        path: "extends",
        kind: "array of strings",
        doc: "policies this one builds on: `builtin:default`, paths relative to this file, or policy bundles pushed with `portcullis push DIR` (`oci://<registry>/<repository>[:<tag>]@sha256:<digest>`, whose relative paths start in the bundle), applied in order, this file last. A `[plugins.<id>]` table of this file merges into the plugin its parents define (keys written here replace theirs, `mounts` merge by name, `config` merges key by key), so `extends = [\"builtin:default\"]` plus `[plugins.lint.config] exclude = [\"vendor/**\"]` is a whole policy; between the files of one `extends` list, and for reports and rules, the later one replaces; waivers add up; cycles are errors",
    },
    Key {
        path: "rules",
        kind: "table",
        doc: "levels per rule id or glob",
    },
    Key {
        path: "waivers",
        kind: "array of tables",
        doc: "findings excused, with a reason, an owner and an expiry",
    },
    Key {
        path: "locked-waivers",
        kind: "array of strings",
        doc: "files (relative to this policy) whose `[[waivers]]` may waive the rules this policy locks, such as a file the security team owns through CODEOWNERS; each holds nothing but `[[waivers]]`. Waivers anywhere else cannot touch a locked rule",
    },
    Key {
        path: "allow-oci-tags",
        kind: "boolean",
        doc: "lets this file's `oci://` sources and `extends` name a tag without a digest. Each tag then stands for the digest `portcullis.lock` (beside the top policy file, written by `portcullis lock`) pins; without a lock file, for the digest the registry gives now, which `check` prints. With a lock file, a tag it does not pin, or a pin the policy no longer names, is an error. Default false: a tag can be moved to other content",
    },
    Key {
        path: "signatures",
        kind: "table",
        doc: "the signatures every `oci://` source (plugins and policy bundles, here and in what this file extends) must carry: a cosign signature by one of `keys`, or a keyless one by one of `identities`, all checked offline. Each file's `[signatures]` holds for everything it extends and everything that extends it: a source must satisfy every such table, so an extending policy can add a signer requirement but never drop one. Unsigned, signed by another key or identity, or signed for another digest is exit 2 naming the source and the signer expected",
    },
    Key {
        path: "signatures.keys",
        kind: "array of strings",
        doc: "public key files (PEM `PUBLIC KEY`, ECDSA P-256, as `cosign generate-key-pair` writes `cosign.pub`), relative to this file; a source signed (`cosign sign --key`) by one of them is accepted, whether cosign stored the signature at the `sha256-<digest>.sig` tag (cosign 2) or attached it as a Sigstore bundle (cosign 3)",
    },
    Key {
        path: "signatures.identities",
        kind: "array of tables",
        doc: "keyless signers, as `{ issuer = \"…\", identity = \"…\" }`: a source carrying a Sigstore bundle (`cosign sign` without a key attaches one as a referrer, from cosign 3 on or with `--new-bundle-format`) whose certificate names one of them is accepted, once the bundle verifies against `trusted-root`",
    },
    Key {
        path: "signatures.trusted-root",
        kind: "string",
        doc: "the Sigstore trusted root (`trusted_root.json`, relative to this file) keyless signatures are checked against: the certificate authorities a signing certificate must chain to and the transparency logs whose signed entry timestamps date it. Required with `identities`",
    },
    Key {
        path: "signatures.identities[].issuer",
        kind: "string",
        doc: "the OIDC issuer the certificate must name, exactly (`https://token.actions.githubusercontent.com` for GitHub Actions)",
    },
    Key {
        path: "signatures.identities[].identity",
        kind: "string",
        doc: "the certificate's identity, exactly: an e-mail address, or a URI such as a workflow's `https://github.com/<org>/<repo>/.github/workflows/<file>@refs/heads/main`",
    },
    Key {
        path: "signatures.identities[].identity-regex",
        kind: "string",
        doc: "instead of `identity`: a regular expression the whole identity must match",
    },
    Key {
        path: "gate.fail-at",
        kind: "string or table",
        doc: "lowest level that fails the gate: `note`, `warning` or `error` (default `error`); or `{ level = \"…\", locked = true }`, which a policy extending this one may lower but not raise",
    },
    Key {
        path: "gate.fail-at.level",
        kind: "string",
        doc: "the level, as above",
    },
    Key {
        path: "gate.fail-at.locked",
        kind: "boolean",
        doc: "an extending policy may not raise `fail-at` (exit 2 naming both files)",
    },
    Key {
        path: "gate.waiver-expiring-days",
        kind: "integer",
        doc: "report waivers expiring within this many days (0 – 3650, default 14)",
    },
    Key {
        path: "plugins.<id>.source",
        kind: "string",
        doc: "`builtin:<name>` (one of the built-in plugins listed in `portcullis rules`), a path ending in `.wasm`, relative to the policy file, or `oci://<registry>/<repository>[:<tag>]@sha256:<digest>`, a plugin pushed with `portcullis push`, pinned by its manifest's digest (a tag alone only with `allow-oci-tags`) (required unless a policy this file extends defines the plugin). `<id>` is lowercase letters, digits and `-`, and prefixes every rule id the plugin reports",
    },
    Key {
        path: "plugins.<id>.sha256",
        kind: "string",
        doc: "64 hex digits; required for a `.wasm` source, optional for a built-in or an `oci://` source (whose digest pins it already); inherited from the parent only with its `source`. A mismatch is exit 2 showing the pinned and the actual digest",
    },
    Key {
        path: "plugins.<id>.timeout-ms",
        kind: "integer",
        doc: "wall-clock deadline per call: 1 – 600000, default 5000",
    },
    Key {
        path: "plugins.<id>.memory-mb",
        kind: "integer",
        doc: "1 – 4096, default 256, over all of the plugin's memories",
    },
    Key {
        path: "plugins.<id>.read",
        kind: "array of strings",
        doc: "repository-relative directories mounted read-only under `/repo` (`.` = the whole repository); absolute paths and `..` are rejected. Default: nothing",
    },
    Key {
        path: "plugins.<id>.mounts",
        kind: "table of strings",
        doc: "`<name> = \"<path>\"`: directories outside the repository, read-only at `/mnt/<name>` (`~/` and `$CARGO_HOME` expand; relative paths start at the policy file's directory). Names are lowercase letters, digits, `-` and `_`",
    },
    Key {
        path: "plugins.<id>.prometheus",
        kind: "table",
        doc: "the Prometheus-compatible server (Prometheus, Thanos, Mimir, VictoriaMetrics) whose PromQL range queries the host runs for this plugin (`query-metrics`; plugins have no network), with the keys below. Replaced whole by a child policy's table",
    },
    Key {
        path: "plugins.<id>.prometheus.url",
        kind: "string",
        doc: "the server's base URL, `http://` or `https://`, with a path prefix if any (`https://metrics.example/prometheus`); no credentials in it. One of `url` and `url-env` is required",
    },
    Key {
        path: "plugins.<id>.prometheus.url-env",
        kind: "string",
        doc: "an environment variable holding the URL (unset or empty is exit 2 naming it)",
    },
    Key {
        path: "plugins.<id>.prometheus.bearer-token-file",
        kind: "string",
        doc: "a file holding a bearer token (one line; relative to the policy file). Sent as `Authorization: Bearer`, never shown to the plugin or in any output",
    },
    Key {
        path: "plugins.<id>.prometheus.bearer-token-env",
        kind: "string",
        doc: "an environment variable holding the bearer token",
    },
    Key {
        path: "plugins.<id>.prometheus.username",
        kind: "string",
        doc: "basic authentication's user, with `password-file` or `password-env`",
    },
    Key {
        path: "plugins.<id>.prometheus.password-file",
        kind: "string",
        doc: "a file holding the basic-authentication password (one line; relative to the policy file)",
    },
    Key {
        path: "plugins.<id>.prometheus.password-env",
        kind: "string",
        doc: "an environment variable holding the password",
    },
    Key {
        path: "plugins.<id>.prometheus.ca-file",
        kind: "string",
        doc: "PEM certificates of the authorities to trust for `https://` instead of the built-in (Mozilla) roots",
    },
    Key {
        path: "plugins.<id>.prometheus.tenant",
        kind: "string",
        doc: "sent as `X-Scope-OrgID`, the tenant of Mimir, Cortex and Thanos",
    },
    Key {
        path: "plugins.<id>.prometheus.timeout",
        kind: "string",
        doc: "a duration (`10s`, `1m`, `500ms`) per attempt of a query (default `10s`)",
    },
    Key {
        path: "plugins.<id>.prometheus.window",
        kind: "string",
        doc: "how far back from its end the analysis window reaches (default `10m`); `--since` and `--until` set it on the command line",
    },
    Key {
        path: "plugins.<id>.prometheus.step",
        kind: "string",
        doc: "the queries' resolution step (default `30s`): each step is one sample; at most 11 000 a window",
    },
    Key {
        path: "plugins.<id>.prometheus.retries",
        kind: "integer",
        doc: "attempts after the first when a failure may pass: the server unreachable, no answer in time, HTTP 429, 502, 503, 504 (0 – 10, default 2). A PromQL error is not retried",
    },
    Key {
        path: "plugins.<id>.config",
        kind: "table",
        doc: "the plugin's own settings, passed as JSON (dates as RFC 3339 strings). Merged into the parent's key by key, tables within tables too; a table where the parent has another value (or the reverse) is exit 2 naming both places",
    },
    Key {
        path: "reports.<name>.path",
        kind: "string",
        doc: "the report file, relative to the repository (required); absolute paths, `..` and symlinks leading out of the repository are rejected, so a policy cannot feed host files to plugins",
    },
    Key {
        path: "reports.<name>.format",
        kind: "string",
        doc: "one of the report formats below (required)",
    },
    Key {
        path: "reports.<name>.optional",
        kind: "boolean",
        doc: "a missing optional report is a notice, not an error (default false)",
    },
    Key {
        path: "rules.\"<id or glob>\"",
        kind: "string or table",
        doc: "`off`, `note`, `warning` or `error` for matching rules, or a table of the two keys below. Ids as in the output, `<plugin-id>/<rule-id>`; `*` matches across `/`. The most specific entry wins: an exact id, else the longest matching pattern. `off` drops the findings. An entry that matches no rule of the policy's plugins is reported as a note",
    },
    Key {
        path: "rules.\"<id or glob>\".level",
        kind: "string",
        doc: "the level, as above (required in a table)",
    },
    Key {
        path: "rules.\"<id or glob>\".locked",
        kind: "boolean",
        doc: "a policy that extends this one may not lower or disable the rule (directly or through a glob that covers it), waive it (only waivers in this file or its `locked-waivers` files apply to it, whatever their glob), or redefine a plugin this policy (or one it extends) defines whose rules the pattern covers (its first segment, as a glob, matched against plugin ids), whatever the order of `extends`; that is exit 2 naming both files and the key. A more specific entry elsewhere never takes the rule below the locked level; such a plugin reads only the reports this policy's chain defines; a `--baseline` does not excuse the rule's findings. This is how one security policy is rolled out to many repositories",
    },
    Key {
        path: "waivers[].rule",
        kind: "string",
        doc: "rule id or glob (required)",
    },
    Key {
        path: "waivers[].paths",
        kind: "array of strings",
        doc: "path globs; the finding's primary location must match one (optional)",
    },
    Key {
        path: "waivers[].fingerprint",
        kind: "string",
        doc: "one finding, by its `portcullis/v1` fingerprint (optional)",
    },
    Key {
        path: "waivers[].reason",
        kind: "string",
        doc: "why the findings may pass (required, non-empty); SARIF's suppression justification",
    },
    Key {
        path: "waivers[].owner",
        kind: "string",
        doc: "who answers for the waiver (required, non-empty)",
    },
    Key {
        path: "waivers[].expires",
        kind: "date",
        doc: "a TOML date or `\"YYYY-MM-DD\"` (required); after that day the waiver stops applying",
    },
];

/// The documented keys of one table (by its prefix in [`TABLES`]), in the
/// order [`KEYS`] lists them.
pub fn of_table(prefix: &str) -> Vec<&'static str> {
    KEYS.iter()
        .filter_map(|k| k.path.strip_prefix(prefix))
        .filter(|rest| !rest.is_empty() && !rest.contains(['.', '[', '"']))
        .collect()
}
