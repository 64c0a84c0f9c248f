//! `portcullis init`: a commented starter policy for the repository it is
//! run in. It looks at what the repository holds (a Cargo project, Helm
//! charts, Kubernetes manifests, Terraform, GitHub workflows, CODEOWNERS,
//! benchmark results), writes a policy on top of the built-in default
//! that turns on what needs nothing more and shows, commented, what needs
//! a decision (pull-request context, Rego policies, a benchmark baseline).
//! It never overwrites a file.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::diag::Error;
use crate::evidence::{FileEntry, tree};

/// What was found in the repository.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Found {
    pub cargo: bool,
    /// Directories holding a `Chart.yaml`.
    pub helm_charts: Vec<String>,
    /// YAML files with `apiVersion:` and `kind:` (outside charts), at most
    /// [`MAX_LISTED`].
    pub kubernetes: Vec<String>,
    pub terraform: usize,
    pub workflows: usize,
    pub codeowners: Option<String>,
    /// `target/criterion` holds results.
    pub criterion: bool,
}

/// How many manifests are looked into, and listed.
const MAX_LISTED: usize = 200;
/// How much of a YAML file is read to tell a manifest.
const HEAD_BYTES: u64 = 8 * 1024;

impl Found {
    /// One line per thing found, for the policy's header and the terminal.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.cargo {
            out.push(
                "a Cargo project (Cargo.toml): dependency advisories, bans and sources".into(),
            );
        }
        for c in &self.helm_charts {
            out.push(format!("a Helm chart in {}", shown_dir(c)));
        }
        if !self.kubernetes.is_empty() {
            out.push(format!(
                "{} Kubernetes manifest{}",
                self.kubernetes.len(),
                plural(self.kubernetes.len())
            ));
        }
        if self.terraform > 0 {
            out.push(format!(
                "{} Terraform file{}",
                self.terraform,
                plural(self.terraform)
            ));
        }
        if self.workflows > 0 {
            out.push(format!(
                "{} GitHub workflow{}",
                self.workflows,
                plural(self.workflows)
            ));
        }
        if let Some(c) = &self.codeowners {
            out.push(format!("code owners in {c}"));
        }
        if self.criterion {
            out.push("criterion benchmark results in target/criterion".into());
        }
        out
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn shown_dir(d: &str) -> &str {
    if d.is_empty() {
        "the repository's root"
    } else {
        d
    }
}

/// Look at the repository at `root` (its file list as the gate sees it).
pub fn detect(root: &Path) -> Result<Found, Error> {
    let files = tree::list(root, false)?;
    let mut found = Found {
        cargo: files.iter().any(|f| f.path == "Cargo.toml"),
        criterion: root.join("target/criterion").is_dir(),
        ..Found::default()
    };
    let dir_of = |p: &str| {
        p.rsplit_once('/')
            .map_or(String::new(), |(d, _)| d.to_string())
    };
    for f in &files {
        let name = f.path.rsplit('/').next().unwrap_or(&f.path);
        if name == "Chart.yaml" {
            found.helm_charts.push(dir_of(&f.path));
        }
    }
    let in_chart = |p: &str| {
        found
            .helm_charts
            .iter()
            .any(|c| c.is_empty() || p.starts_with(&format!("{c}/")))
    };
    for f in &files {
        let p = f.path.as_str();
        if p.ends_with(".tf") {
            found.terraform += 1;
        }
        if p.strip_prefix(".github/workflows/")
            .is_some_and(|name| !name.contains('/'))
            && (p.ends_with(".yml") || p.ends_with(".yaml"))
        {
            found.workflows += 1;
        }
        if found.codeowners.is_none()
            && ["CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS"].contains(&p)
        {
            found.codeowners = Some(p.to_string());
        }
        if (p.ends_with(".yaml") || p.ends_with(".yml"))
            && !p.starts_with(".github/")
            && !in_chart(p)
            && found.kubernetes.len() < MAX_LISTED
            && is_manifest(root, f)
        {
            found.kubernetes.push(p.to_string());
        }
    }
    Ok(found)
}

/// Whether a YAML file's first lines say `apiVersion:` and `kind:` at the
/// top level.
fn is_manifest(root: &Path, f: &FileEntry) -> bool {
    if f.kind != crate::evidence::FileKind::File {
        return false;
    }
    let Ok(file) = std::fs::File::open(root.join(&f.path)) else {
        return false;
    };
    let mut head = String::new();
    let _ = std::io::Read::read_to_string(&mut std::io::Read::take(file, HEAD_BYTES), &mut head);
    head.lines().any(|l| l.starts_with("apiVersion:"))
        && head.lines().any(|l| l.starts_with("kind:"))
}

/// The starter policy for what was found.
pub fn policy_text(found: &Found) -> String {
    let mut out = String::from(
        "# The portcullis policy of this repository, started by `portcullis init`.\n\
         # `portcullis check` gates with it, `portcullis rules` lists what it can\n\
         # report, and the README's \"The policy file\" section documents every key.\n",
    );
    let lines = found.lines();
    if lines.is_empty() {
        out.push_str("#\n# Found nothing beyond files: the built-in default covers them.\n");
    } else {
        out.push_str("#\n# Found:\n");
        for l in &lines {
            let _ = writeln!(out, "# - {l}");
        }
    }
    out.push_str(
        "\n# Repository hygiene, committed secrets and, for Rust projects, dependency\n\
         # advisories: the built-in default. Tables below merge into its plugins.\n\
         extends = [\"builtin:default\"]\n",
    );
    if !found.helm_charts.is_empty() {
        out.push_str(
            "\n# Helm templates are Go templates: not YAML until `helm template` renders\n\
             # them, so the lint plugin's hygiene rules skip them.\n\
             [plugins.lint.config]\nexclude = [\n",
        );
        for c in &found.helm_charts {
            let glob = if c.is_empty() {
                "templates/**".to_string()
            } else {
                format!("{c}/templates/**")
            };
            let _ = writeln!(out, "  \"{glob}\",");
        }
        out.push_str("]\n");
    }
    if found.codeowners.is_some() {
        out.push_str(
            "\n# Code owners must approve the pull request. The pull request's context\n\
             # comes from CI: on GitHub, copy the event file first\n\
             # (`cp \"$GITHUB_EVENT_PATH\" .portcullis/event.json`), then uncomment:\n\
             # [plugins.approvals]\n\
             # source = \"builtin:approvals\"\n\
             # read = [\".\"]\n\
             # [plugins.approvals.config]\n\
             # codeowners = { required = true }\n\
             # [reports.event]\n\
             # path = \".portcullis/event.json\"\n\
             # format = \"github-event\"\n",
        );
    }
    if !found.kubernetes.is_empty()
        || !found.helm_charts.is_empty()
        || found.terraform > 0
        || found.workflows > 0
    {
        let mut inputs: Vec<String> = Vec::new();
        if !found.kubernetes.is_empty() {
            let mut dirs: Vec<String> = found
                .kubernetes
                .iter()
                .map(|p| match p.rsplit_once('/') {
                    Some((d, _)) => format!("\"{d}/*.yaml\""),
                    None => "\"*.yaml\"".to_string(),
                })
                .collect();
            dirs.sort();
            dirs.dedup();
            if dirs.len() > 20 {
                dirs = vec!["\"**/*.yaml\"".into()];
            }
            inputs.push(format!(
                "#   {{ files = [{}], namespaces = [\"kubernetes\"], optional = true }},",
                dirs.join(", ")
            ));
        }
        if !found.helm_charts.is_empty() {
            inputs.push(
                "#   { files = [\"rendered/*.yaml\"], namespaces = [\"kubernetes\"], optional = true },   # helm template … > rendered/chart.yaml".into(),
            );
        }
        if found.terraform > 0 {
            inputs.push(
                "#   { files = [\"**/plan.json\"], parser = \"json\", namespaces = [\"terraform\"], optional = true },   # terraform show -json".into(),
            );
        }
        if found.workflows > 0 {
            inputs.push(
                "#   { files = [\".github/workflows/*.yml\", \".github/workflows/*.yaml\"], namespaces = [\"github_actions\"], optional = true },".into(),
            );
        }
        out.push_str(
            "\n# Rules for manifests, Terraform plans and workflows, written in Rego.\n\
             # Put .rego files in policy/ (the examples in the portcullis repository's\n\
             # policies/rego/ are a start: privileged containers, unpinned actions,\n\
             # public buckets), test them with `portcullis test`, then uncomment:\n\
             # [plugins.rego]\n\
             # source = \"builtin:rego\"\n\
             # read = [\".\"]\n\
             # [plugins.rego.config]\n\
             # policy = [\"policy\"]\n\
             # inputs = [\n",
        );
        for i in inputs {
            let _ = writeln!(out, "{i}");
        }
        out.push_str("# ]\n");
    }
    if found.criterion {
        out.push_str(
            "\n# Performance regressions: compare this run's criterion results with a\n\
             # saved baseline (`cargo bench -- --save-baseline main` on main), then\n\
             # uncomment:\n\
             # [plugins.perf]\n\
             # source = \"builtin:perf\"\n\
             # read = [\"target/criterion\"]\n\
             # [plugins.perf.config]\n\
             # benchmarks = [{ format = \"criterion\", current = \"target/criterion\", saved-baseline = \"main\" }]\n",
        );
    }
    out
}

/// Write the starter policy for the repository at `root` to
/// `root/portcullis.toml`; a policy already there (either name) is never
/// replaced. Returns the path written and what was found.
pub fn write(root: &Path) -> Result<(PathBuf, Found), Error> {
    for name in crate::check::POLICY_NAMES {
        let existing = root.join(name);
        if std::fs::symlink_metadata(&existing).is_ok() {
            return Err(Error::Usage(format!(
                "{} exists; `portcullis init` never replaces a policy (remove it first, or edit it)",
                existing.display()
            )));
        }
    }
    let found = detect(root)?;
    let path = root.join(crate::check::POLICY_NAMES[0]);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| Error::io(&path, format!("cannot write: {e}")))?;
    std::io::Write::write_all(&mut file, policy_text(&found).as_bytes())
        .map_err(|e| Error::io(&path, format!("cannot write: {e}")))?;
    Ok((path, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every starter policy, whatever was found, is a valid policy.
    #[test]
    fn every_starter_policy_parses() {
        let all = Found {
            cargo: true,
            helm_charts: vec!["charts/web".into(), String::new()],
            kubernetes: vec!["k8s/app.yaml".into()],
            terraform: 2,
            workflows: 1,
            codeowners: Some(".github/CODEOWNERS".into()),
            criterion: true,
        };
        for found in [Found::default(), all] {
            let text = policy_text(&found);
            let policy = crate::policy::Policy::parse(&text, "portcullis.toml", None)
                .unwrap_or_else(|e| panic!("{e}\n{text}"));
            assert!(policy.plugins.iter().any(|p| p.id == "lint"));
            // Every commented section is a valid policy once uncommented.
            let uncommented: String = text
                .lines()
                .map(|l| match l.strip_prefix("# ") {
                    Some(rest)
                        if rest.starts_with('[')
                            || rest.contains(" = ")
                            || rest.starts_with("  {")
                            || rest == "]" =>
                    {
                        rest
                    }
                    _ => l,
                })
                .map(|l| format!("{l}\n"))
                .collect();
            crate::policy::Policy::parse(&uncommented, "portcullis.toml", None)
                .unwrap_or_else(|e| panic!("uncommented: {e}\n{uncommented}"));
        }
    }
}
