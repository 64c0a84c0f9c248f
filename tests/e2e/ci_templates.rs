//! What other CI systems take from this repository: the Dockerfile (hadolint
//! finds nothing; the image's user is not root) and the includable GitLab
//! CI template (GitLab's CI schema accepts it; its job, run as a runner
//! would, fails on a finding and writes the Code Quality and JUnit reports
//! it declares).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
const TEMPLATE: &str = "templates/portcullis.gitlab-ci.yml";
/// The one input without a default.
const IMAGE: (&str, &str) = ("image", "registry.example.com/portcullis:0.1.0");

/// hadolint's findings (`code line`) for a Dockerfile's text.
fn hadolint(text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("Dockerfile");
    std::fs::write(&file, text).expect("write");
    let exe = test_tool("hadolint", "venv/bin/hadolint");
    let out = Command::new(exe)
        .args(["--no-color", "--format", "json"])
        .arg(&file)
        .output()
        .expect("run hadolint");
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "hadolint printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    findings
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| format!("{} {}", f["code"].as_str().unwrap_or("?"), f["line"]))
        .collect()
}

fn dockerfile() -> String {
    std::fs::read_to_string(Path::new(ROOT).join("Dockerfile")).expect("Dockerfile")
}

#[test]
fn the_dockerfile_passes_hadolint_and_runs_as_a_user() {
    let text = dockerfile();
    assert_eq!(hadolint(&text), Vec::<String>::new());
    // The checks bite: a package cache left in the image is found.
    let cached = text.replace("apk add --no-cache git", "apk add git");
    assert_ne!(cached, text);
    let found = hadolint(&cached);
    assert!(found.iter().any(|f| f.starts_with("DL3019")), "{found:?}");
    // The final stage: the precompiled binary, run in an empty (`scratch`)
    // stage first so that a binary needing a loader fails the build; a
    // numeric non-root user; no default command.
    let stage = |name: &str| {
        text.split("\nFROM ")
            .find(|s| {
                s.lines()
                    .next()
                    .is_some_and(|l| l.ends_with(&format!(" AS {name}")))
            })
            .unwrap_or_else(|| panic!("no stage {name}"))
    };
    assert!(
        stage("static").starts_with("scratch AS static"),
        "{}",
        stage("static")
    );
    assert!(stage("static").contains("RUN [\"/portcullis\", \"--version\"]"));
    let last = text.rsplit("\nFROM ").next().expect("stages");
    assert!(
        last.contains("COPY --from=static /portcullis /usr/local/bin/portcullis"),
        "{last}"
    );
    assert!(!last.lines().any(|l| l.starts_with("CMD")), "{last}");
    let user = last
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER in the final stage");
    let uid = user.split(':').next().unwrap_or_default();
    assert!(
        uid.parse::<u32>().is_ok_and(|u| u != 0),
        "USER {user}: not a numeric non-root user"
    );
    assert!(
        text.contains("precompile --output /out/portcullis"),
        "{text}"
    );
    // The build context leaves the target directory out.
    let ignore = std::fs::read_to_string(Path::new(ROOT).join(".dockerignore")).expect("ignore");
    assert!(ignore.lines().any(|l| l == "target/"), "{ignore}");
}

/// What a node script (`node ARGS…`) prints as JSON.
fn node_json(args: &[&std::ffi::OsStr]) -> serde_json::Value {
    let out = Command::new("node").args(args).output().expect("run node");
    assert!(
        out.status.success(),
        "node: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

/// Parse YAML (every document of it) as js-yaml does, into JSON.
fn yaml_documents(text: &str) -> Vec<serde_json::Value> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("in.yml");
    std::fs::write(&file, text).expect("write");
    let js_yaml = test_tool("js-yaml", "npm/node_modules/js-yaml/index.js");
    let script = "const y = require(process.argv[1]); const fs = require('fs'); \
                  console.log(JSON.stringify(y.loadAll(fs.readFileSync(process.argv[2], 'utf8'))));";
    match node_json(&[
        "-e".as_ref(),
        script.as_ref(),
        js_yaml.as_os_str(),
        file.as_os_str(),
    ]) {
        serde_json::Value::Array(docs) => docs,
        other => panic!("not a list of documents: {other}"),
    }
}

/// GitLab's CI schema, as gitlab-ci-local ships it.
fn gitlab_schema() -> serde_json::Value {
    let module = test_tool(
        "GitLab's CI schema",
        "npm/node_modules/gitlab-ci-local/src/schema/schema.js",
    );
    let script = format!(
        "import {{ schema }} from {}; console.log(JSON.stringify(schema));",
        serde_json::Value::String(format!("file://{}", module.display()))
    );
    node_json(&[
        "--input-type=module".as_ref(),
        "-e".as_ref(),
        script.as_ref(),
    ])
}

/// The template's job section with `inputs` (else the declared defaults)
/// interpolated into its keys and strings, as GitLab does; an input the
/// job uses and the header does not declare fails.
fn interpolate(inputs: &[(&str, &str)]) -> serde_json::Value {
    let text = std::fs::read_to_string(Path::new(ROOT).join(TEMPLATE)).expect("template");
    let docs = yaml_documents(&text);
    assert_eq!(docs.len(), 2, "a spec header and the jobs: {docs:?}");
    let declared = docs[0]["spec"]["inputs"]
        .as_object()
        .expect("spec.inputs")
        .clone();
    let value = |name: &str| -> String {
        assert!(
            declared.contains_key(name),
            "the job uses input `{name}`, which the header does not declare"
        );
        inputs
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
            .or_else(|| declared[name]["default"].as_str().map(String::from))
            .unwrap_or_else(|| panic!("input `{name}` is required and was not given"))
    };
    fn walk(v: &serde_json::Value, f: &dyn Fn(&str) -> String) -> serde_json::Value {
        match v {
            serde_json::Value::String(s) => serde_json::Value::String(f(s)),
            serde_json::Value::Array(a) => a.iter().map(|x| walk(x, f)).collect(),
            serde_json::Value::Object(o) => o
                .iter()
                .map(|(k, x)| (f(k), walk(x, f)))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            other => other.clone(),
        }
    }
    let replace = |s: &str| -> String {
        let mut out = String::new();
        let mut rest = s;
        while let Some(at) = rest.find("$[[") {
            out.push_str(&rest[..at]);
            let end = rest[at..].find("]]").expect("closed interpolation") + at;
            let name = rest[at + 3..end]
                .trim()
                .strip_prefix("inputs.")
                .expect("an input");
            out.push_str(&value(name));
            rest = &rest[end + 2..];
        }
        out.push_str(rest);
        out
    };
    walk(&docs[1], &replace)
}

#[test]
fn gitlab_schema_accepts_the_template() {
    let schema = gitlab_schema();
    let validator = jsonschema::draft7::new(&schema).expect("GitLab's schema compiles");
    for inputs in [
        vec![IMAGE],
        vec![
            IMAGE,
            ("job-name", "gate"),
            ("stage", "verify"),
            ("policy", "ci/portcullis.toml"),
        ],
    ] {
        let jobs = interpolate(&inputs);
        let errors: Vec<String> = validator
            .iter_errors(&jobs)
            .map(|e| format!("{} at {}", e, e.instance_path))
            .collect();
        assert_eq!(errors, Vec::<String>::new(), "{jobs:#}");
    }
    // The image has no default: GitLab asks for it.
    let text = std::fs::read_to_string(Path::new(ROOT).join(TEMPLATE)).expect("template");
    let header = &yaml_documents(&text)[0]["spec"]["inputs"];
    assert!(header["image"].get("default").is_none(), "{header}");
    // The schema bites: a misspelt report kind is refused.
    let mut jobs = interpolate(&[IMAGE]);
    let reports = &mut jobs["portcullis"]["artifacts"]["reports"];
    reports["code_quality"] = reports["codequality"].take();
    reports
        .as_object_mut()
        .expect("reports")
        .remove("codequality");
    assert!(!validator.is_valid(&jobs));
}

/// Run the job's script as a GitLab runner's shell would (`sh -e`, in the
/// project directory), with `portcullis` on the PATH.
fn run_job(job: &serde_json::Value, project: &Path) -> Run {
    let script: Vec<&str> = job["script"]
        .as_array()
        .expect("script")
        .iter()
        .map(|l| l.as_str().expect("a script line"))
        .collect();
    let bin_dir = tempfile::tempdir().expect("bin dir");
    std::os::unix::fs::symlink(BIN, bin_dir.path().join("portcullis")).expect("link");
    let path = format!(
        "{}:{}",
        bin_dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let cache = tempfile::tempdir().expect("cache");
    let mut cmd = Command::new("sh");
    cmd.arg("-e")
        .arg("-c")
        .arg(script.join("\n"))
        .current_dir(project)
        .env("PATH", path)
        .env("CI", "true")
        .env("GITLAB_CI", "true")
        .env("CI_PROJECT_DIR", project)
        .env("PORTCULLIS_CACHE_DIR", cache.path());
    for (k, v) in job["variables"].as_object().expect("variables") {
        cmd.env(k, v.as_str().expect("a string variable"));
    }
    Run::from(cmd.output().expect("run the job"))
}

fn report(project: &Path, job: &serde_json::Value, kind: &str) -> PathBuf {
    let rel = job["artifacts"]["reports"][kind]
        .as_str()
        .unwrap_or_else(|| panic!("artifacts.reports.{kind}"));
    project.join(rel)
}

#[test]
fn the_gitlab_job_fails_on_a_finding_and_writes_its_reports() {
    let jobs = interpolate(&[IMAGE]);
    let job = &jobs["portcullis"];
    assert_eq!(
        job["artifacts"]["when"], "always",
        "reports also on failure"
    );

    let repo = Repo::new();
    // A GitHub token assembled at run time (this file holds none).
    let token = format!(
        "{}_{}",
        "ghp",
        &"R4nd0mT0k3nV4lu3Qx9Lz2Wp7Ks5Hd8Jf1Mc3"[..36]
    );
    repo.write("config/.env", format!("LOG=info\nGH_TOKEN={token}\n"))
        .write("src/main.py", "print('hello')\n");
    repo.git(&["init", "-q"]);
    let run = run_job(job, repo.path());
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let quality: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(report(repo.path(), job, "codequality")).expect("codequality"),
    )
    .expect("Code Quality JSON");
    let items = quality.as_array().expect("an array");
    assert_eq!(items.len(), 1, "{quality:#}");
    assert_eq!(items[0]["check_name"], "secrets/github-pat");
    assert_eq!(items[0]["location"]["path"], "config/.env");
    assert_eq!(items[0]["location"]["lines"]["begin"], 2);
    assert_eq!(items[0]["severity"], "critical");
    assert!(!quality.to_string().contains(&token[8..]), "{quality}");
    let junit = std::fs::read_to_string(report(repo.path(), job, "junit")).expect("junit");
    assert!(
        junit.contains("<failure") && junit.contains("secrets/github-pat"),
        "{junit}"
    );
    for kept in job["artifacts"]["paths"].as_array().expect("paths") {
        let rel = kept.as_str().expect("a path");
        assert!(repo.path().join(rel).is_file(), "{rel} not written");
    }
    let sarif: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo.path().join("portcullis.sarif")).expect("sarif"),
    )
    .expect("SARIF");
    assert_valid_sarif(&sarif);

    // Without the finding the job passes; the extra arguments arrive one by
    // one and unevaluated.
    std::fs::remove_file(repo.path().join("config/.env")).expect("remove");
    let jobs = interpolate(&[IMAGE, ("args", "--fail-at error $(touch pwned)")]);
    let run = run_job(&jobs["portcullis"], repo.path());
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(!repo.path().join("pwned").exists());
    let jobs = interpolate(&[IMAGE, ("args", "--fail-at error")]);
    let run = run_job(&jobs["portcullis"], repo.path());
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let quality = std::fs::read_to_string(report(repo.path(), job, "codequality")).expect("cq");
    assert_eq!(quality.trim(), "[]");
}
