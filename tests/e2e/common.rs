//! Helpers: temporary repositories, running the CLI, validating SARIF.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub const BIN: &str = env!("CARGO_BIN_EXE_portcullis");
pub const HOSTILE_WASM: &str = env!("PORTCULLIS_TEST_WASM_HOSTILE");
pub const PROBE_WASM: &str = env!("PORTCULLIS_TEST_WASM_PROBE");
/// A plugin built against the previous contract, `portcullis:plugin@0.1.0`.
pub const CONTRACT_V1_WASM: &str = env!("PORTCULLIS_TEST_WASM_CONTRACT_V1");

/// A throwaway repository.
pub struct Repo {
    pub dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Repo {
    pub fn new() -> Repo {
        Repo {
            dir: tempfile::tempdir().expect("tempdir"),
            cache: tempfile::tempdir().expect("cache dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The private cache directory the runs use.
    pub fn cache_dir(&self) -> &Path {
        self.cache.path()
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, content).expect("write");
        self
    }

    #[cfg(unix)]
    pub fn symlink(&self, rel: &str, target: &str) -> &Self {
        let p = self.path().join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::os::unix::fs::symlink(target, p).expect("symlink");
        self
    }

    /// Run git in this repository (fixed identity, no signing); panics on
    /// failure.
    pub fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "-c",
                "init.defaultBranch=main",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(self.path())
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Copy a fixture file from `tests/fixtures`, replacing `@@ROOT@@` with
    /// this repository's path.
    pub fn fixture(&self, from: &str, to: &str) -> &Self {
        let text = std::fs::read_to_string(fixtures().join(from)).expect("fixture");
        let root = self.path().canonicalize().expect("canonical");
        self.write(to, text.replace("@@ROOT@@", &root.to_string_lossy()))
    }

    /// Run `portcullis <args>` in this repository with a private compile
    /// cache and a clean environment.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_env(args, &[])
    }

    /// As [`Repo::run`], with extra environment variables.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        self.run_bin(Path::new(BIN), args, env)
    }

    /// As [`Repo::run_env`], with another portcullis binary.
    pub fn run_bin(&self, bin: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
        let out = Command::new(bin)
            .args(args)
            .current_dir(self.path())
            .env_remove("CI")
            .env_remove("NO_COLOR")
            .env_remove("GITHUB_STEP_SUMMARY")
            .env("PORTCULLIS_CACHE_DIR", self.cache.path())
            .envs(env.iter().copied())
            .output()
            .expect("run portcullis");
        Run::from(out)
    }

    /// `check` with a SARIF file, which is validated; returns the run and the SARIF.
    pub fn check_sarif(&self, extra: &[&str]) -> (Run, serde_json::Value) {
        let sarif = self.path().join("out.sarif");
        let sarif_s = sarif.to_string_lossy().into_owned();
        let mut args = vec!["check", ".", "--sarif", &sarif_s];
        args.extend_from_slice(extra);
        let run = self.run(&args);
        let text = std::fs::read_to_string(&sarif)
            .unwrap_or_else(|e| panic!("no SARIF written ({e}); stderr: {}", run.stderr));
        std::fs::remove_file(&sarif).expect("remove sarif");
        let value: serde_json::Value = serde_json::from_str(&text).expect("SARIF is JSON");
        assert_valid_sarif(&value);
        (run, value)
    }

    /// Write Cargo.lock for the repository's manifests, as cargo does
    /// (offline: the tests' crates have no registry dependencies).
    pub fn generate_lockfile(&self) -> &Self {
        let lock = Command::new("cargo")
            .args(["generate-lockfile", "--offline"])
            .current_dir(self.path())
            .output()
            .expect("run cargo");
        assert!(
            lock.status.success(),
            "{}",
            String::from_utf8_lossy(&lock.stderr)
        );
        self
    }

    /// A policy that runs one plugin from a `.wasm` file, pinned.
    pub fn policy_with_wasm(&self, id: &str, wasm: &str, extra: &str) -> &Self {
        let bytes = std::fs::read(wasm).expect("wasm");
        let sha = portcullis::digest::sha256_hex(&bytes);
        self.write(
            "portcullis.toml",
            format!(
                "[plugins.{id}]\nsource = \"{}\"\nsha256 = \"{sha}\"\n{extra}\n",
                wasm.replace('\\', "/")
            ),
        )
    }
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

fn schema() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let text =
            std::fs::read_to_string(fixtures().join("sarif-schema-2.1.0.json")).expect("schema");
        let schema: serde_json::Value = serde_json::from_str(&text).expect("schema JSON");
        jsonschema::validator_for(&schema).expect("schema compiles")
    })
}

/// A tool `scripts/test-tools` installs, at `rel` under its directory
/// (`PORTCULLIS_TOOLS_DIR`, default `~/.cache/portcullis-tools`).
pub fn test_tool(name: &str, rel: &str) -> PathBuf {
    let tools = std::env::var_os("PORTCULLIS_TOOLS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let home = std::env::var_os("HOME").expect("HOME is set");
            Path::new(&home).join(".cache/portcullis-tools")
        });
    let exe = tools.join(rel);
    assert!(
        exe.is_file(),
        "{name} is not installed at {}: run scripts/test-tools \
         (scripts/test runs it before the tests)",
        exe.display()
    );
    exe
}

fn multitool() -> PathBuf {
    test_tool(
        "Microsoft's SARIF multitool",
        "npm/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool",
    )
}

/// GitHub code scanning's rules, as Microsoft's SARIF multitool applies
/// them (`validate --rule-kind "Sarif;Ghas"`): no result at error or
/// warning level.
pub fn assert_github_accepts(v: &serde_json::Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (input, output) = (dir.path().join("in.sarif"), dir.path().join("out.sarif"));
    std::fs::write(&input, serde_json::to_string_pretty(v).expect("json")).expect("write");
    // The input first: `--log` and friends take lists that would swallow it.
    let out = Command::new(multitool())
        .arg("validate")
        .arg(&input)
        .args(["--rule-kind", "Sarif;Ghas", "--level", "Error;Warning"])
        .arg("--output")
        .arg(&output)
        .env("DOTNET_SYSTEM_GLOBALIZATION_INVARIANT", "1")
        .output()
        .expect("run the SARIF multitool");
    let report = std::fs::read_to_string(&output).unwrap_or_else(|e| {
        panic!(
            "the multitool wrote no report ({e}): {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let report: serde_json::Value = serde_json::from_str(&report).expect("multitool report");
    // A crash or a rule that threw leaves no complaint behind: it is a
    // failure too, never a pass.
    assert!(
        out.status.success() && report["runs"][0]["invocations"][0]["executionSuccessful"] == true,
        "the multitool did not complete ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        report["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    );
    let complaints: Vec<String> = results(&report)
        .iter()
        .map(|r| {
            format!(
                "{} {}: {}",
                r["level"].as_str().unwrap_or("warning"),
                r["ruleId"].as_str().unwrap_or("?"),
                r["message"]["text"]
                    .as_str()
                    .map(String::from)
                    .unwrap_or_else(|| r["message"]["arguments"].to_string())
            )
        })
        .collect();
    assert!(
        complaints.is_empty(),
        "GitHub's SARIF rules reject this log:\n{}\n{}",
        complaints.join("\n"),
        serde_json::to_string_pretty(v).expect("json")
    );
}

/// Validate against the OASIS SARIF 2.1.0 schema, plus what GitHub code
/// scanning requires beyond it (checked by Microsoft's SARIF multitool).
pub fn assert_valid_sarif(v: &serde_json::Value) {
    let errors: Vec<String> = schema()
        .iter_errors(v)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF fails the 2.1.0 schema:\n{}",
        errors.join("\n")
    );
    for run in v["runs"].as_array().expect("runs") {
        let results = run["results"].as_array().expect("every run has results");
        let rules = run["tool"]["driver"]["rules"].as_array().expect("rules");
        for r in results {
            let idx = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
            assert_eq!(
                rules[idx]["id"], r["ruleId"],
                "ruleIndex points at the rule"
            );
            assert!(r["partialFingerprints"]["portcullis/v1"].is_string());
            let locations = r["locations"].as_array().expect("locations");
            assert!(!locations.is_empty(), "every result has a location: {r}");
            for loc in locations {
                assert!(
                    loc["physicalLocation"]["region"]["startLine"].is_u64(),
                    "every location has a region: {r}"
                );
                let uri = loc["physicalLocation"]["artifactLocation"]["uri"]
                    .as_str()
                    .expect("uri");
                assert!(
                    !uri.starts_with('/') && !uri.contains("://"),
                    "uri is repo-relative: {uri}"
                );
                assert_eq!(
                    loc["physicalLocation"]["artifactLocation"]["uriBaseId"],
                    "SRCROOT"
                );
            }
        }
        assert!(
            run["automationDetails"]["id"]
                .as_str()
                .is_none_or(|id| id.ends_with('/')),
            "a category ends with `/`"
        );
        assert!(run["tool"]["driver"]["informationUri"].is_string());
    }
    assert_github_accepts(v);
}

/// All results of all runs.
pub fn results(sarif: &serde_json::Value) -> Vec<serde_json::Value> {
    sarif["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .flat_map(|r| r["results"].as_array().expect("results").clone())
        .collect()
}

pub fn rule_ids(sarif: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = results(sarif)
        .iter()
        .map(|r| r["ruleId"].as_str().expect("ruleId").to_string())
        .collect();
    ids.sort();
    ids
}

/// The `message` of every finding in `--format json` output.
/// The rule ids of the findings in `--format json` output, in order.
pub fn finding_ids(doc: &serde_json::Value) -> Vec<&str> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule_id"].as_str().expect("id"))
        .collect()
}

pub fn finding_messages(doc: &serde_json::Value) -> Vec<&str> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["message"].as_str().expect("message"))
        .collect()
}

/// A `cargo` (for `CARGO`) that sleeps `secs`, touches `marker`, then runs
/// the real cargo: slow `cargo metadata` on demand.
pub fn slow_cargo(dir: &Path, secs: u32, marker: &Path) -> PathBuf {
    let real = Command::new("rustup")
        .args(["which", "cargo"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "cargo".into());
    let cargo = dir.join("cargo");
    std::fs::write(
        &cargo,
        format!(
            "#!/bin/sh\nsleep {secs}\ntouch '{}'\nexec '{real}' \"$@\"\n",
            marker.display()
        ),
    )
    .expect("write");
    std::fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    cargo
}

/// Copy the directory tree `from` into `to` (created when missing).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}
