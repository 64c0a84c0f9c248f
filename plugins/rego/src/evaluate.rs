//! conftest conventions: in each namespace, the rules named `deny`,
//! `violation` and `warn` (optionally `_<name>`) are evaluated against each
//! input; each result (a string, or an object with `msg` and an optional
//! `_loc = {file, line}` or `_path`, the node it is about as keys and
//! indices or a JSON pointer) is a finding of the rule `<package>/<rule>`.
//! `exception` rules exempt rules by name for an input.

use std::collections::BTreeSet;

use portcullis_sdk::{Discovered, Evaluation, Level, Location, Region, Rule};
use serde_json::{Value, json};

use crate::config::Config;
use crate::inputs::Doc;
use crate::policies::{Module, Policies, rego_error};
use crate::positions;
use crate::rules::EXCEPTION;

/// A conftest-convention rule found in the policies.
#[derive(Debug, Clone)]
pub struct Convention {
    pub package: String,
    pub name: String,
    pub file: String,
    pub line: u32,
    pub level: Level,
    pub rule: Rule,
}

/// `deny`, `violation`, `warn`, or one of them with a `_<name>` suffix.
pub fn convention_level(name: &str) -> Option<Level> {
    let (kind, rest) = name.split_once('_').unwrap_or((name, ""));
    if !rest.is_empty() && !rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    match kind {
        "deny" | "violation" => Some(Level::Error),
        "warn" => Some(Level::Warning),
        _ => None,
    }
}

fn in_namespaces(package: &str, namespaces: &[String]) -> bool {
    namespaces.iter().any(|n| n == "*" || n == package)
}

/// Every namespace some input is evaluated in.
pub fn all_namespaces(config: &Config) -> Vec<String> {
    let mut all = config.namespaces.clone();
    for i in &config.inputs {
        all.extend(i.namespaces.iter().flatten().cloned());
    }
    all.sort();
    all.dedup();
    all
}

/// Every convention rule of the evaluated namespaces, with its SARIF rule.
pub fn conventions(p: &Policies, config: &Config) -> Vec<Convention> {
    let mut out: Vec<Convention> = Vec::new();
    let namespaces = all_namespaces(config);
    for m in p
        .modules
        .iter()
        .filter(|m| !m.is_test && in_namespaces(&m.package, &namespaces))
    {
        for (name, line) in &m.rules {
            let Some(default_level) = convention_level(name) else {
                continue;
            };
            let meta = metadata(p, m, name);
            if let Some(c) = out
                .iter_mut()
                .find(|c| c.package == m.package && &c.name == name)
            {
                // A rule defined in several files: the annotated definition
                // describes it.
                if !meta.is_null() {
                    c.rule = sarif_rule(&m.package, name, default_level, &meta);
                    c.level = c.rule.default_level;
                }
                continue;
            }
            let rule = sarif_rule(&m.package, name, default_level, &meta);
            out.push(Convention {
                package: m.package.clone(),
                name: name.clone(),
                file: m.path.clone(),
                line: *line,
                level: rule.default_level,
                rule,
            });
        }
    }
    out
}

/// The METADATA annotating `rule` in `m` (or any module of its package).
fn metadata(p: &Policies, m: &Module, rule: &str) -> Value {
    let here = m
        .annotations
        .iter()
        .find(|(t, _)| t.as_deref() == Some(rule));
    let anywhere = || {
        p.modules
            .iter()
            .filter(|o| o.package == m.package)
            .flat_map(|o| o.annotations.iter())
            .find(|(t, _)| t.as_deref() == Some(rule))
    };
    here.or_else(anywhere)
        .map_or(Value::Null, |(_, v)| v.clone())
}

/// The SARIF rule for a convention rule: METADATA's `title`, `description`,
/// `related_resources` and `custom.severity` (`error`/`warning`/`note`, or
/// `critical`/`high` → error, `medium` → warning, `low`/`info` → note;
/// `custom.security-severity` gives GitHub's score).
fn sarif_rule(package: &str, name: &str, default_level: Level, meta: &Value) -> Rule {
    let severity = meta["custom"]["severity"]
        .as_str()
        .map(str::to_ascii_lowercase);
    let level = match severity.as_deref() {
        Some("error" | "critical" | "high") => Level::Error,
        Some("warning" | "medium") => Level::Warning,
        Some("note" | "low" | "info") => Level::Note,
        _ => default_level,
    };
    let title = meta["title"].as_str().map(str::to_string);
    let short = title
        .clone()
        .unwrap_or_else(|| format!("Rego rule data.{package}.{name}"));
    let full = meta["description"]
        .as_str()
        .map_or_else(|| short.clone(), str::to_string);
    let mut help = full.clone();
    if let Some(res) = meta["related_resources"].as_array() {
        for r in res {
            let (url, text) = match r {
                Value::String(s) => (s.clone(), s.clone()),
                other => (
                    other["ref"].as_str().unwrap_or_default().to_string(),
                    other["description"]
                        .as_str()
                        .or(other["ref"].as_str())
                        .unwrap_or_default()
                        .to_string(),
                ),
            };
            if !url.is_empty() {
                help.push_str(&format!("\n\n- [{text}]({url})"));
            }
        }
    }
    let mut rule = Rule::new(
        &format!("{package}/{name}"),
        &title.unwrap_or_else(|| name.to_string()),
        level,
        &short,
    )
    .full(&full)
    .help(&help)
    .tags(&["rego", package]);
    let ss = &meta["custom"]["security-severity"];
    if let Some(s) = ss
        .as_f64()
        .or_else(|| ss.as_str().and_then(|s| s.parse().ok()))
    {
        rule.security_severity = Some(s.clamp(0.0, 10.0) as f32);
    }
    rule
}

/// Evaluate every convention rule against every input.
pub fn check(
    ctx: &portcullis_sdk::Context,
    engine: &mut regorus::Engine,
    conventions: &[Convention],
    packages: &BTreeSet<String>,
    has_exception: &BTreeSet<String>,
    whole: &BTreeSet<String>,
    docs: &[Doc],
) -> Result<Evaluation, String> {
    let mut out = Evaluation::default();
    // One discovered rule per convention rule, in the conventions' order.
    let discovered: Vec<Discovered> = conventions
        .iter()
        .map(|c| out.discover(c.rule.clone()))
        .collect();
    let mut excepted = 0usize;
    for doc in docs {
        engine.set_input(doc.value.clone());
        // A package without tests or sub-packages is evaluated whole, in
        // one query: each of its rules once, helpers shared (about twice as
        // fast as a query per rule). Others are evaluated rule by rule, so
        // an input never runs a test.
        let mut evaluated: std::collections::BTreeMap<&str, regorus::Value> = Default::default();
        for package in packages
            .iter()
            .filter(|p| whole.contains(*p) && in_namespaces(p, &doc.namespaces))
        {
            match eval_package(engine, package, doc) {
                Ok(v) => {
                    evaluated.insert(package, v);
                }
                Err(e) => {
                    // Name the rule that fails: evaluate them one by one.
                    for c in conventions.iter().filter(|c| &c.package == package) {
                        eval(engine, &format!("data.{}.{}", c.package, c.name), doc)?;
                    }
                    if has_exception.contains(package) {
                        eval(engine, &format!("data.{package}.exception"), doc)?;
                    }
                    return Err(e);
                }
            }
        }
        // conftest's exceptions: `exception contains rules if …` with the
        // rule names without their `deny_`/`warn_` prefix.
        let mut exempt: BTreeSet<(String, String)> = BTreeSet::new();
        for package in packages
            .iter()
            .filter(|p| has_exception.contains(*p) && in_namespaces(p, &doc.namespaces))
        {
            let v = match evaluated.get(package.as_str()) {
                Some(all) => all[&regorus::Value::from("exception")].clone(),
                None => eval(engine, &format!("data.{package}.exception"), doc)?,
            };
            for item in items(&v) {
                let names: Vec<String> = match item {
                    Value::Array(a) => a
                        .iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect(),
                    Value::String(s) => vec![s],
                    _ => Vec::new(),
                };
                for n in names {
                    exempt.insert((package.clone(), n));
                }
            }
        }
        let active: Vec<(&Convention, &Discovered)> = conventions
            .iter()
            .zip(&discovered)
            .filter(|(c, _)| in_namespaces(&c.package, &doc.namespaces))
            .collect();
        for (c, rule) in active {
            let v = match evaluated.get(c.package.as_str()) {
                Some(all) => all[&regorus::Value::from(c.name.as_str())].clone(),
                None => eval(engine, &format!("data.{}.{}", c.package, c.name), doc)?,
            };
            let suffix = c.name.split_once('_').map_or("", |(_, s)| s);
            let is_exempt =
                !suffix.is_empty() && exempt.contains(&(c.package.clone(), suffix.to_string()));
            for item in items(&v) {
                let (message, loc, mut details, node) = result_parts(ctx, item, c, doc)?;
                // `_loc` may name an absolute path inside the repository; a
                // place outside it is kept in the properties instead.
                let loc = match loc {
                    // A combined input's `_loc` follows the rule of its
                    // `_path`: no place in an unchanged file while another
                    // of its files changed.
                    Some((file, _, _))
                        if ctx
                            .repo_relative(&file)
                            .is_some_and(|rel| !doc.may_place_in(ctx, &rel)) =>
                    {
                        None
                    }
                    Some((file, line, col)) => match ctx.repo_relative(&file) {
                        Some(rel) => Some((rel, line, col)),
                        None => {
                            if details.is_null() {
                                details = json!({});
                            }
                            details["_loc"] = json!({"file": file, "line": line});
                            None
                        }
                    },
                    None => None,
                };
                if is_exempt {
                    excepted += 1;
                    out.push(
                        EXCEPTION.finding(format!("{}/{} excepted for {}: {message}", c.package, c.name, doc.shown))
                            .properties(json!({"rule": format!("{}/{}", c.package, c.name), "input": doc.shown})),
                    );
                    continue;
                }
                // The same message about two nodes is two findings. A node
                // of a combined input names its file, so the input's globs
                // (how it is shown) stay out.
                let scope = match &node {
                    Some((_, true)) => "",
                    _ => doc.shown.as_str(),
                };
                let node = node.map(|(n, _)| n);
                let mut fingerprint = format!("{}/{}\0{scope}\0{message}", c.package, c.name);
                if let Some(node) = &node {
                    fingerprint.push('\0');
                    fingerprint.push_str(node);
                }
                let mut f = rule.finding(message).fingerprint(fingerprint);
                match loc {
                    Some((file, Some(line), Some(col))) => {
                        f = f.location(Location::at(&file, Region::at(line, col)));
                    }
                    Some((file, Some(line), None)) => f = f.at_line(&file, line),
                    Some((file, None, _)) => f = f.in_file(&file),
                    None => {}
                }
                if let Some(node) = &node {
                    // The node, as a JSON pointer into the input.
                    f = f.properties(json!({ "details": details, "node": node }));
                } else if !details.is_null() {
                    f = f.properties(json!({ "details": details }));
                }
                out.push(f);
            }
        }
    }
    if excepted > 0 {
        portcullis_sdk::log(
            portcullis_sdk::LogLevel::Info,
            &format!("{excepted} results excepted by `exception` rules"),
        );
    }
    Ok(out)
}

fn eval(engine: &mut regorus::Engine, rule: &str, doc: &Doc) -> Result<regorus::Value, String> {
    engine.eval_rule(rule.to_string()).map_err(|e| {
        format!(
            "{} (evaluating {rule} on {})",
            rego_error(&e.to_string()),
            doc.shown
        )
    })
}

/// Every rule of `package` on the current input, as one object.
fn eval_package(
    engine: &mut regorus::Engine,
    package: &str,
    doc: &Doc,
) -> Result<regorus::Value, String> {
    let results = engine
        .eval_query(format!("data.{package}"), false)
        .map_err(|e| {
            format!(
                "{} (evaluating data.{package} on {})",
                rego_error(&e.to_string()),
                doc.shown
            )
        })?;
    Ok(results
        .result
        .first()
        .and_then(|r| r.expressions.first())
        .map_or(regorus::Value::Undefined, |e| e.value.clone()))
}

/// The results of a rule: each element of a set or array; a single string
/// or object; `true` as one result; undefined, `false` and empty as none.
fn items(v: &regorus::Value) -> Vec<Value> {
    let json: Value = match v {
        regorus::Value::Undefined => return Vec::new(),
        other => other
            .to_json_str()
            .ok()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or(Value::Null),
    };
    match json {
        Value::Array(a) => a,
        Value::Bool(false) | Value::Null => Vec::new(),
        other => vec![other],
    }
}

/// A file, line and column.
type Loc = Option<(String, Option<u32>, Option<u32>)>;

/// A result's node as named in its fingerprint, and whether that name
/// holds its file (a combined input's node).
type Node = (String, bool);

/// A result's message, location, other fields and, when it names one by
/// `_path`, its node (as a JSON pointer).
fn result_parts(
    ctx: &portcullis_sdk::Context,
    item: Value,
    c: &Convention,
    doc: &Doc,
) -> Result<(String, Loc, Value, Option<Node>), String> {
    let default_loc: Loc = doc.path.clone().map(|p| (p, doc.line, None));
    match item {
        Value::String(s) => Ok((s, default_loc, Value::Null, None)),
        Value::Bool(true) => Ok((
            format!("data.{}.{} is true for {}", c.package, c.name, doc.shown),
            default_loc,
            Value::Null,
            None,
        )),
        Value::Object(mut o) => {
            let msg = match o.remove("msg") {
                Some(Value::String(s)) => s,
                _ => {
                    return Err(format!(
                        "{}:{}: data.{}.{} returned an object without a string `msg` for {}",
                        c.file, c.line, c.package, c.name, doc.shown
                    ));
                }
            };
            let path = o.remove("_path");
            if path.is_some() && o.contains_key("_loc") {
                return Err(format!(
                    "{}:{}: data.{}.{} gave both `_loc` and `_path` for {}: give one",
                    c.file, c.line, c.package, c.name, doc.shown
                ));
            }
            if let Some(path) = path {
                let steps = positions::steps(&path).map_err(|e| {
                    format!(
                        "{}:{}: data.{}.{} for {}: {e}",
                        c.file, c.line, c.package, c.name, doc.shown
                    )
                })?;
                let (node, named_file) = doc.node_name(&steps);
                let needle = match o.remove("_match") {
                    None => None,
                    Some(Value::String(m)) => Some(m),
                    Some(other) => {
                        return Err(format!(
                            "{}:{}: data.{}.{} for {}: `_match` is the text to find in the node, not {other}",
                            c.file, c.line, c.package, c.name, doc.shown
                        ));
                    }
                };
                let loc = match doc.locate(&steps, needle.as_deref()) {
                    Some((file, pos)) if doc.may_place_in(ctx, &file) => {
                        Some((file, Some(pos.line), Some(pos.col)))
                    }
                    Some(_) => None,
                    None => default_loc,
                };
                return Ok((msg, loc, Value::Object(o), Some((node, named_file))));
            }
            let loc = match o.remove("_loc") {
                Some(l) => {
                    let file = l["file"].as_str().map(str::to_string).or(doc.path.clone());
                    let line = l["line"].as_u64().map(|n| n as u32);
                    file.map(|f| {
                        (
                            f,
                            line.or(if l["file"].is_null() { doc.line } else { None }),
                            None,
                        )
                    })
                }
                None => default_loc,
            };
            Ok((msg, loc, Value::Object(o), None))
        }
        other => Ok((other.to_string(), default_loc, Value::Null, None)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn convention_names() {
        assert_eq!(convention_level("deny"), Some(Level::Error));
        assert_eq!(convention_level("violation_no_limits"), Some(Level::Error));
        assert_eq!(convention_level("warn_latest"), Some(Level::Warning));
        assert_eq!(convention_level("denylist"), None);
        assert_eq!(convention_level("allow"), None);
    }
}
