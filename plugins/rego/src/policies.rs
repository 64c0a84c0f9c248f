//! The policy side: `.rego` modules (policies and `*_test.rego` tests),
//! their packages, conftest-convention rules and `# METADATA` annotations,
//! and `data.*` documents — loaded into one engine.

use std::path::{Path, PathBuf};

use portcullis_sdk::Context;
use serde_json::Value;

use crate::config::{Config, RegoVersion};

/// One `.rego` file.
#[derive(Debug, Clone)]
pub struct Module {
    /// As shown in messages (the config's path joined with the file's).
    pub path: String,
    pub text: String,
    /// `kubernetes.security` for `package kubernetes.security`.
    pub package: String,
    /// Rule names with the line of their first definition.
    pub rules: Vec<(String, u32)>,
    /// `# METADATA` blocks by the rule they annotate (`None` = package).
    pub annotations: Vec<(Option<String>, Value)>,
    pub is_test: bool,
}

pub struct Policies {
    pub modules: Vec<Module>,
    pub data: Value,
}

const DATA_FILES: &[&str] = &["data.json", "data.yaml", "data.yml", "data.toml"];

/// Read every module and data file the config names.
pub fn load(ctx: &Context, config: &Config) -> Result<Policies, String> {
    if config.policy.is_empty() {
        return Err("config.policy: name at least one .rego file or directory".into());
    }
    let mut modules = Vec::new();
    let mut data = Value::Object(Default::default());
    for (i, p) in config.policy.iter().enumerate() {
        let at = ctx
            .locate(p)
            .map_err(|e| format!("config.policy[{i}]: {e}"))?;
        // Files under a mount are named by their host path in messages.
        let shown_root = shown_path(ctx, p);
        let p = &shown_root;
        let meta = std::fs::metadata(&at).map_err(|e| format!("config.policy[{i}]: {p}: {e}"))?;
        if meta.is_file() {
            if !p.ends_with(".rego") {
                return Err(format!("config.policy[{i}]: {p} is not a .rego file"));
            }
            modules.push(read_module(&at, p)?);
            continue;
        }
        let mut files = Vec::new();
        walk(&at, &at, &mut files, 0).map_err(|e| format!("config.policy[{i}]: {p}: {e}"))?;
        let mut found = false;
        for rel in files {
            let shown = format!("{}/{rel}", p.trim_end_matches('/'));
            let name = rel.rsplit('/').next().unwrap_or(&rel);
            if rel.ends_with(".rego") {
                modules.push(read_module(&at.join(&rel), &shown)?);
                found = true;
            } else if DATA_FILES.contains(&name) {
                let doc = read_data(&at.join(&rel), &shown)?;
                let dirs: Vec<&str> = rel.split('/').collect();
                merge_at(&mut data, &dirs[..dirs.len() - 1], doc, &shown)?;
            }
        }
        if !found {
            return Err(format!("config.policy[{i}]: no .rego files under {p}"));
        }
    }
    Ok(Policies { modules, data })
}

/// `/mnt/<name>/rest` as `<mount's host path>/rest`; other paths as given.
fn shown_path(ctx: &Context, p: &str) -> String {
    let Some(rest) = p.strip_prefix("/mnt/") else {
        return p.to_string();
    };
    let (name, inner) = rest.split_once('/').unwrap_or((rest, ""));
    match ctx.mounts().iter().find(|m| m.name == name) {
        Some(m) if inner.is_empty() => m.host_path.clone(),
        Some(m) => format!("{}/{inner}", m.host_path.trim_end_matches('/')),
        None => p.to_string(),
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<String>, depth: usize) -> std::io::Result<()> {
    if depth > 32 {
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let ty = e.file_type()?;
        if ty.is_dir() {
            walk(root, &path, out, depth + 1)?;
        } else if ty.is_file() {
            out.push(
                path.strip_prefix(root)
                    .unwrap_or(&path)
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
    Ok(())
}

fn read_module(path: &PathBuf, shown: &str) -> Result<Module, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let package =
        package_of(&text).ok_or_else(|| format!("{shown}:1: no `package` declaration"))?;
    let rules = rule_heads(&text);
    let annotations = annotations(&text, shown)?;
    Ok(Module {
        is_test: shown.ends_with("_test.rego"),
        path: shown.to_string(),
        text,
        package,
        rules,
        annotations,
    })
}

fn read_data(path: &Path, shown: &str) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    crate::inputs::parse_one(&text, shown, crate::config::Parser::for_path(shown))
}

/// Put `doc` at `data.<dirs…>`, merging objects.
fn merge_at(data: &mut Value, dirs: &[&str], doc: Value, shown: &str) -> Result<(), String> {
    let mut node = data;
    for d in dirs {
        let obj = node
            .as_object_mut()
            .ok_or_else(|| format!("{shown}: conflicts with other data"))?;
        node = obj
            .entry(d.to_string())
            .or_insert_with(|| Value::Object(Default::default()));
    }
    merge(node, doc, shown)
}

fn merge(into: &mut Value, doc: Value, shown: &str) -> Result<(), String> {
    match (into, doc) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(existing) => merge(existing, v, shown)?,
                    None => {
                        a.insert(k, v);
                    }
                }
            }
            Ok(())
        }
        (slot, doc) if slot.as_object().is_some_and(|o| o.is_empty()) => {
            *slot = doc;
            Ok(())
        }
        _ => Err(format!(
            "{shown}: a data document must be an object, and must not redefine a key"
        )),
    }
}

/// The package of a module: `package a.b` → `a.b`.
pub fn package_of(text: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let l = l.trim_start();
        let rest = l.strip_prefix("package ")?;
        let name = rest.split('#').next()?.trim();
        let name = name.strip_prefix("data.").unwrap_or(name);
        // `package x["y-z"]` → x.y-z
        Some(
            name.replace("[\"", ".")
                .replace("\"]", "")
                .trim()
                .to_string(),
        )
    })
}

/// Names of the rules defined at the start of a line, with their first line.
fn rule_heads(text: &str) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let first = line.chars().next();
        if !first.is_some_and(|c| c.is_ascii_alphabetic() || c == '_') {
            continue;
        }
        let name: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if matches!(name.as_str(), "package" | "import" | "default" | "else") {
            if name == "default" {
                let rest = line["default".len()..].trim_start();
                let n2: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !n2.is_empty() && !out.iter().any(|(r, _)| *r == n2) {
                    out.push((n2, n as u32 + 1));
                }
            }
            continue;
        }
        let rest = line[name.len()..].trim_start();
        let head = rest.is_empty()
            || rest.starts_with(['[', '(', '{', '=', ':', '.'])
            || rest.starts_with("contains")
            || rest.starts_with("if");
        if head && !out.iter().any(|(r, _)| *r == name) {
            out.push((name, n as u32 + 1));
        }
    }
    out
}

/// `# METADATA` blocks: the YAML in the comment lines after the marker,
/// attached to the rule defined on the next code line (or the package).
fn annotations(text: &str, shown: &str) -> Result<Vec<(Option<String>, Value)>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() != "# METADATA" {
            i += 1;
            continue;
        }
        let start = i + 1;
        let mut yaml = String::new();
        i += 1;
        while i < lines.len() && lines[i].trim_start().starts_with('#') {
            let l = lines[i].trim_start().trim_start_matches('#');
            yaml.push_str(l.strip_prefix(' ').unwrap_or(l));
            yaml.push('\n');
            i += 1;
        }
        let value = regorus::Value::from_yaml_str(&yaml).map_err(|e| {
            format!(
                "{shown}:{start}: bad METADATA block: {}",
                one_line(&e.to_string())
            )
        })?;
        let json: Value = serde_json::from_str(
            &value
                .to_json_str()
                .map_err(|e| format!("{shown}:{start}: bad METADATA block: {e}"))?,
        )
        .map_err(|e| format!("{shown}:{start}: bad METADATA block: {e}"))?;
        let target = lines.get(i).and_then(|l| {
            let name: String = l
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            (!name.is_empty() && name != "package").then_some(name)
        });
        out.push((target, json));
    }
    Ok(out)
}

/// A fresh engine with every module (tests too when `with_tests`) and the
/// data; errors name the file, line and column.
pub fn engine(p: &Policies, config: &Config, with_tests: bool) -> Result<regorus::Engine, String> {
    let mut e = regorus::Engine::new();
    e.set_rego_v0(config.rego_version == RegoVersion::V0);
    // A builtin error fails the evaluation (exit 2) instead of making the
    // rule silently undefined: the gate fails closed.
    e.set_strict_builtin_errors(true);
    for m in &p.modules {
        if m.is_test && !with_tests {
            continue;
        }
        too_deep(&m.path, &m.text)?;
        e.add_policy(m.path.clone(), m.text.clone())
            .map_err(|err| rego_error(&err.to_string()))?;
    }
    let data =
        regorus::Value::from_json_str(&p.data.to_string()).map_err(|e| format!("data: {e}"))?;
    e.add_data(data).map_err(|e| format!("data: {e}"))?;
    Ok(e)
}

/// Brackets nested deeper than this are refused before the engine's
/// parser sees them: it descends once per level, with no limit of its own.
const MAX_NESTING: usize = 48;

/// `file:line:col` of the first bracket (`(`, `[`, `{`) nested more than
/// [`MAX_NESTING`] deep, outside strings and comments.
fn too_deep(path: &str, text: &str) -> Result<(), String> {
    let mut depth = 0usize;
    let (mut line, mut col) = (1usize, 0usize);
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        col += 1;
        match c {
            '\n' => (line, col) = (line + 1, 0),
            '#' => {
                // A comment runs to the end of the line.
                for c in chars.by_ref() {
                    if c == '\n' {
                        (line, col) = (line + 1, 0);
                        break;
                    }
                }
            }
            '"' => {
                while let Some(c) = chars.next() {
                    col += 1;
                    match c {
                        '\\' => {
                            chars.next();
                            col += 1;
                        }
                        '"' | '\n' => break,
                        _ => {}
                    }
                }
            }
            '`' => {
                for c in chars.by_ref() {
                    col += 1;
                    if c == '\n' {
                        (line, col) = (line + 1, 0);
                    }
                    if c == '`' {
                        break;
                    }
                }
            }
            '(' | '[' | '{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(format!(
                        "{path}:{line}:{col}: brackets nested more than {MAX_NESTING} deep"
                    ));
                }
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// regorus's multi-line diagnostic (`--> file:line:col`, the source line, a
/// caret, `error: message`) as one line: `file:line:col: message`.
pub fn rego_error(msg: &str) -> String {
    let place = msg
        .lines()
        .find_map(|l| l.trim().strip_prefix("--> ").map(str::to_string));
    let text = msg
        .lines()
        .find_map(|l| l.trim().strip_prefix("error: ").map(str::to_string))
        .unwrap_or_else(|| one_line(msg));
    match place {
        Some(p) => format!("{p}: {text}"),
        None => text,
    }
}

/// [`rego_error`] for an error of the whole policy set: one with no place
/// of its own (the engine's "duplicated definition of local variable …"
/// names none) is said of the modules evaluated, at most three named.
pub fn rego_error_in(msg: &str, policies: &Policies) -> String {
    let text = rego_error(msg);
    if msg.lines().any(|l| l.trim().starts_with("--> ")) {
        return text;
    }
    let mut names: Vec<&str> = policies
        .modules
        .iter()
        .take(3)
        .map(|m| m.path.as_str())
        .collect();
    if policies.modules.len() > 3 {
        names.push("…");
    }
    format!("in the policy {}: {text}", names.join(", "))
}

pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn brackets_nested_too_deep_are_refused_before_the_engine() {
        let deep = format!("package p\nx := {}1{}\n", "f(".repeat(200), ")".repeat(200));
        let e = too_deep("p.rego", &deep).unwrap_err();
        assert_eq!(e, "p.rego:2:103: brackets nested more than 48 deep");
        // Brackets in strings, raw strings and comments do not count.
        let quoted = format!(
            "package p\n# {}\nx := \"{}\\\"\"\ny := `{}`\n",
            "(".repeat(300),
            "[".repeat(300),
            "{\n".repeat(300)
        );
        assert!(too_deep("p.rego", &quoted).is_ok());
    }

    #[test]
    fn heads_packages_and_annotations() {
        let text = "package k8s.security\n\nimport rego.v1\n\n# METADATA\n# title: Privileged containers\n# custom:\n#   severity: high\ndeny_privileged contains msg if {\n  true\n}\n\ndeny[msg] {\n}\nwarn contains m if { m := \"x\" }\ndefault allow := false\nhelper(x) := y if { y := x }\n";
        assert_eq!(package_of(text).as_deref(), Some("k8s.security"));
        let heads = rule_heads(text);
        let names: Vec<&str> = heads.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            ["deny_privileged", "deny", "warn", "allow", "helper"]
        );
        assert_eq!(rule_heads(text)[0].1, 9);
        let a = annotations(text, "x.rego").unwrap();
        assert_eq!(a[0].0.as_deref(), Some("deny_privileged"));
        assert_eq!(a[0].1["title"], "Privileged containers");
        assert_eq!(a[0].1["custom"]["severity"], "high");
        assert!(
            annotations("# METADATA\n# title: [unclosed\np := 1\n", "y.rego")
                .unwrap_err()
                .starts_with("y.rego:1: bad METADATA block")
        );
    }

    #[test]
    fn regorus_errors_become_one_line() {
        let msg = "\n--> bad.rego:4:7\n  |\n4 |   msg := \n  |       ^\nerror: expecting `}` while parsing set";
        assert_eq!(
            rego_error(msg),
            "bad.rego:4:7: expecting `}` while parsing set"
        );
    }
}
