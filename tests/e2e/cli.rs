//! The command line itself: shell completions generated from the argument
//! definitions.

use crate::common::*;

/// Each shell's script names every command and option; bash's parses.
#[test]
fn completions_cover_every_command_and_bash_parses_them() {
    let repo = Repo::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = repo.run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        // Option names without their dashes: fish writes `-l policy`.
        for word in [
            "check",
            "rules",
            "test",
            "hook",
            "policy",
            "changed-since",
            "sarif",
            "staged",
            "init",
            "explain",
        ] {
            assert!(run.stdout.contains(word), "{shell}: no `{word}`");
        }
    }
    let bash = repo.run(&["completions", "bash"]);
    repo.write("completions.bash", &bash.stdout);
    let parsed = std::process::Command::new("bash")
        .args(["-n", "completions.bash"])
        .current_dir(repo.path())
        .output()
        .expect("bash");
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let bad = repo.run(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2, "an unknown shell is a usage error");
}

/// `--version` names the engine and every built-in plugin with the digest
/// a policy pins; `-V` stays one line.
#[test]
fn version_lists_the_engine_and_the_builtin_plugins_with_their_digests() {
    let repo = Repo::new();
    let run = repo.run(&["--version"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("portcullis "), "{}", run.stdout);
    assert!(run.stdout.contains("\nwasmtime "), "{}", run.stdout);
    for name in portcullis::builtins::names() {
        let (_, sha) = portcullis::builtins::get(name).expect("builtin");
        assert!(
            run.stdout
                .lines()
                .any(|l| l.contains(&format!("builtin:{name} "))
                    && l.ends_with(&format!("sha256:{sha}"))),
            "{name}: {}",
            run.stdout
        );
    }
    let short = repo.run(&["-V"]);
    assert_eq!(short.stdout.lines().count(), 1, "{}", short.stdout);
}

/// `rules` lists what the policy can report there — a Rego policy's own
/// rules included — with the policy's levels (`off` shown) and help links;
/// `explain` prints one rule's documentation.
#[test]
fn rules_and_explain_follow_the_policy() {
    let repo = Repo::new();
    let run = repo.run(&["rules"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let line = |out: &str, id: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no {id} in {out}"))
            .to_string()
    };
    assert!(
        line(&run.stdout, "deps/duplicate").contains("off (default warning)"),
        "the default policy turns it off: {}",
        run.stdout
    );
    assert!(
        line(&run.stdout, "deps/advisory-db").contains("https://github.com/rustsec/advisory-db")
    );
    assert!(
        run.stdout.contains("`portcullis explain RULE`"),
        "{}",
        run.stdout
    );

    repo.write(
        "portcullis.toml",
        "[plugins.rego]\nsource = \"builtin:rego\"\nread = [\".\"]\n[plugins.rego.config]\npolicy = [\"policy\"]\ninputs = [{ files = [\"k8s/*.yaml\"], optional = true }]\n[rules]\n\"rego/main/warn_latest\" = \"error\"\n",
    )
    .write(
        "policy/main.rego",
        "package main\nimport rego.v1\n\n# METADATA\n# title: Privileged container\n# description: A privileged container owns the host.\n# related_resources:\n# - ref: https://kubernetes.io/docs/concepts/security/pod-security-standards/\n# custom:\n#   severity: critical\ndeny_privileged contains msg if {\n  input.privileged\n  msg := \"privileged\"\n}\n\nwarn_latest contains msg if {\n  input.latest\n  msg := \"latest\"\n}\n",
    );
    let run = repo.run(&["rules"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let privileged = line(&run.stdout, "rego/main/deny_privileged");
    assert!(privileged.contains("error"), "{privileged}");
    assert!(privileged.contains("Privileged container"), "{privileged}");
    assert!(
        privileged
            .ends_with("https://kubernetes.io/docs/concepts/security/pod-security-standards/"),
        "{privileged}"
    );
    assert!(
        line(&run.stdout, "rego/main/warn_latest").contains("error (default warning)"),
        "{}",
        run.stdout
    );
    let explained = repo.run(&["explain", "rego/main/deny_privileged"]);
    assert_eq!(explained.code, 0, "{}", explained.stderr);
    assert!(
        explained
            .stdout
            .starts_with("rego/main/deny_privileged (Privileged container)\nlevel: error\n"),
        "{}",
        explained.stdout
    );
    assert!(
        explained
            .stdout
            .contains("A privileged container owns the host."),
        "{}",
        explained.stdout
    );
    let builtin = repo.run(&["explain", "rego/exception"]);
    assert_eq!(builtin.code, 0, "{}", builtin.stderr);
    let unknown = repo.run(&["explain", "rego/main/deny_privilegd"]);
    assert_eq!(unknown.code, 2);
    assert!(
        unknown.stderr.contains("no rule `rego/main/deny_privilegd` in the policy; did you mean `rego/main/deny_privileged`?"),
        "{}",
        unknown.stderr
    );

    // A policy that cannot be evaluated there: the listing says what is
    // missing, and the exit code says it is incomplete.
    repo.write(
        "policy/main.rego",
        "package main\nimport rego.v1\ndeny contains x if {\n",
    );
    let run = repo.run(&["rules"]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert!(
        run.stdout.contains("rego/exception"),
        "declared rules still listed: {}",
        run.stdout
    );
    assert!(
        run.stderr
            .contains("the rules it discovers on this repository are not listed"),
        "{}",
        run.stderr
    );
}

/// `init` on a repository with a Helm chart, manifests, workflows and
/// CODEOWNERS: a starter policy that gates the repository cleanly (the
/// default leaves the chart's templates out with a note; the starter policy
/// excludes them outright); it never overwrites.
#[test]
fn init_writes_a_starter_policy_that_gates_cleanly_and_never_overwrites() {
    let repo = Repo::new();
    repo.git(&["init", "-q"]);
    repo.write("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n")
        .write(
            "charts/web/templates/deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ include \"web.fullname\" . }}\n  labels:\n    {{- include \"web.labels\" . | nindent 4 }}\nspec:\n  replicas: {{ .Values.replicaCount }}\n",
        )
        .write("k8s/pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n")
        .write(".github/workflows/ci.yml", "on: push\njobs: {}\n")
        .write(".github/CODEOWNERS", "* @octo-org/core\n");
    // The default no longer trips on the template: it says it left it out.
    let check = repo.run(&["check"]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        format!("{}{}", check.stdout, check.stderr).contains(
            "1 templated YAML file(s) not checked as YAML (a Helm chart's templates/, or Go-template or Jinja syntax: YAML only once rendered), charts/web/templates/deployment.yaml first"
        ),
        "{}{}",
        check.stdout,
        check.stderr
    );
    let run = repo.run(&["init"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    for found in [
        "found a Helm chart in charts/web",
        "found 1 Kubernetes manifest",
        "found 1 GitHub workflow",
        "found code owners in .github/CODEOWNERS",
        "the gate passes with it",
    ] {
        assert!(run.stdout.contains(found), "{found}: {}", run.stdout);
    }
    let policy = std::fs::read_to_string(repo.path().join("portcullis.toml")).expect("written");
    assert!(policy.contains("\"charts/web/templates/**\""), "{policy}");
    assert!(
        policy.contains("#   { files = [\"k8s/*.yaml\"]"),
        "{policy}"
    );
    assert_eq!(
        repo.run(&["check"]).code,
        0,
        "the starter policy gates cleanly"
    );

    let again = repo.run(&["init"]);
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("never replaces a policy"),
        "{}",
        again.stderr
    );
    assert_eq!(
        std::fs::read_to_string(repo.path().join("portcullis.toml")).expect("kept"),
        policy
    );
    let other = Repo::new();
    other.write(".portcullis.toml", "# mine\n");
    assert_eq!(other.run(&["init"]).code, 2, "the hidden name counts too");

    // A repository whose files already fail: init says what to do.
    let bad = Repo::new();
    bad.write("broken.json", "{");
    let run = bad.run(&["init"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.contains("lint/invalid-json"), "{}", run.stdout);
    assert!(
        run.stdout.contains("the gate fails on the findings above"),
        "{}",
        run.stdout
    );
}
