//! The `input` documents: repository files parsed as JSON, YAML (each
//! document of a multi-document file on its own), TOML or Dockerfile
//! instructions; the combined form; and evidence (cargo metadata, reports).

use portcullis_sdk::{Context, FileKind, ReportFormat};
use serde_json::Value;

use crate::config::{Config, EvidenceInput, Parser};
use crate::positions::{Pos, Step, Tree};

/// One `input` and where findings about it point.
#[derive(Debug)]
pub struct Doc {
    pub value: regorus::Value,
    /// Repository-relative file, when the input is one.
    pub path: Option<String>,
    /// The line its document starts on (multi-document YAML).
    pub line: Option<u32>,
    /// How messages name it.
    pub shown: String,
    /// The packages evaluated on it.
    pub namespaces: Vec<String>,
    /// Its text, for results that name a node by its path.
    pub source: Source,
}

/// The text an input was parsed from.
#[derive(Debug, Default)]
pub enum Source {
    /// Evidence and reports: `_path` points at the input's default place.
    #[default]
    None,
    Text(Text),
    /// A combined input: `[i, "contents", …]` is inside file `i`.
    Combined(Vec<Text>),
}

/// One document's text, parsed with positions when a result first asks.
#[derive(Debug)]
pub struct Text {
    path: String,
    text: String,
    parser: Parser,
    first_line: u32,
    tree: std::cell::OnceCell<Option<Tree>>,
}

impl Text {
    fn new(path: &str, text: String, parser: Parser, first_line: u32) -> Text {
        Text {
            path: path.into(),
            text,
            parser,
            first_line,
            tree: Default::default(),
        }
    }

    fn locate(&self, steps: &[Step], needle: Option<&str>) -> Option<(String, Pos)> {
        let tree = self.tree.get_or_init(|| match self.parser {
            Parser::Yaml => Tree::yaml(&self.text, self.first_line),
            Parser::Json => Tree::json(&self.text),
            Parser::Toml => Tree::toml(&self.text),
            Parser::Hcl => crate::hcl::tree(&self.text),
            Parser::Dockerfile => None,
        });
        let pos = tree.as_ref()?.locate(steps)?;
        let pos = match needle {
            Some(n) => find_after(&self.text, self.first_line, pos, n).unwrap_or(pos),
            None => pos,
        };
        Some((self.path.clone(), pos))
    }
}

impl Doc {
    /// The file and position of the node at `steps` (or of its deepest
    /// existing ancestor); `None` when the input has no text to point into.
    /// With `needle`, the first place that text is written at or after the
    /// node, within the next [`NEEDLE_LINES`] lines (a line of a block
    /// scalar, say).
    pub fn locate(&self, steps: &[Step], needle: Option<&str>) -> Option<(String, Pos)> {
        match &self.source {
            Source::None => None,
            Source::Text(t) => t.locate(steps, needle),
            Source::Combined(files) => {
                let (file, rest) = combined_file(files, steps)?;
                file.locate(rest, needle)
            }
        }
    }

    /// How a finding's fingerprint names the node: its JSON pointer, with a
    /// combined input's file index replaced by the file's path (adding a
    /// file renumbers the others).
    ///
    /// Also whether the name holds the file (a combined input's node).
    pub fn node_name(&self, steps: &[Step]) -> (String, bool) {
        if let Source::Combined(files) = &self.source
            && let Some((file, rest)) = combined_file(files, steps)
        {
            return (
                format!("{}{}", file.path, crate::positions::pointer(rest)),
                true,
            );
        }
        (crate::positions::pointer(steps), false)
    }

    /// Whether a finding placed at `file` may be reported there under a
    /// change filter. A combined input's result depends on all its files,
    /// including ones the change deleted or renamed away (which are no
    /// longer among them): it keeps a place only in a changed file, and
    /// elsewhere is shown without one and still counts, so a change to one
    /// file cannot hide a finding it causes in another. (A baseline, which
    /// matches fingerprints, carries findings that were there before.)
    pub fn may_place_in(&self, ctx: &Context, file: &str) -> bool {
        !self.is_combined() || ctx.is_changed(file)
    }

    /// Whether the input is several files evaluated together.
    pub fn is_combined(&self) -> bool {
        matches!(self.source, Source::Combined(_))
    }
}

/// `[i, "contents", …]` (or the pointer `/i/contents/…`) of a combined
/// input: file `i` and the rest of the path.
fn combined_file<'a, 'b>(files: &'a [Text], steps: &'b [Step]) -> Option<(&'a Text, &'b [Step])> {
    let i = match steps.first()? {
        Step::Index(i) => *i,
        Step::Key(k) => k.parse::<usize>().ok()?,
    };
    match steps.get(1)? {
        Step::Key(c) if c == "contents" => Some((files.get(i)?, &steps[2..])),
        _ => None,
    }
}

/// How far after its node a result's `_match` text is looked for (within
/// the node: lines indented deeper than it, or blank).
pub const NEEDLE_LINES: usize = 1000;

/// Where `needle` is first written at or after `from` in `text` (whose
/// first line is line `first_line` of its file), on the same line or one
/// of the next [`NEEDLE_LINES`].
fn find_after(text: &str, first_line: u32, from: Pos, needle: &str) -> Option<Pos> {
    if needle.is_empty() {
        return None;
    }
    let skip = usize::try_from(from.line.checked_sub(first_line)?).ok()?;
    let node_indent = usize::try_from(from.col).ok()?.saturating_sub(1);
    for (n, line) in text.lines().skip(skip).take(NEEDLE_LINES + 1).enumerate() {
        let start = if n == 0 {
            line.char_indices()
                .nth(node_indent)
                .map_or(line.len(), |(i, _)| i)
        } else {
            // The node ends where a line is indented no deeper than it.
            let indent = line.len() - line.trim_start_matches([' ', '\t']).len();
            if !line.trim().is_empty() && indent <= node_indent {
                return None;
            }
            0
        };
        if let Some(at) = line[start..].find(needle) {
            let col = line[..start + at].chars().count() + 1;
            return Some(Pos {
                line: from.line + u32::try_from(n).ok()?,
                col: u32::try_from(col).ok()?,
            });
        }
    }
    None
}

/// Every input the config selects, in order.
pub fn collect(ctx: &Context, config: &Config) -> Result<Vec<Doc>, String> {
    let mut out = Vec::new();
    for (i, input) in config.inputs.iter().enumerate() {
        let key = format!("config.inputs[{i}]");
        let namespaces = input
            .namespaces
            .clone()
            .unwrap_or_else(|| config.namespaces.clone());
        let kinds = [
            !input.files.is_empty(),
            input.evidence.is_some(),
            input.report.is_some(),
        ];
        if kinds.iter().filter(|k| **k).count() != 1 {
            return Err(format!(
                "{key}: give exactly one of `files`, `evidence`, `report`"
            ));
        }
        if let Some(EvidenceInput::CargoMetadata) = input.evidence {
            // Asked only when an input names it: a policy without one does
            // not wait for cargo.
            let text = ctx.cargo_metadata_on_demand(true)?.ok_or_else(|| {
                format!("{key}: no cargo metadata (the repository has no Cargo.toml at its root)")
            })?;
            let value: Value =
                serde_json::from_str(text).map_err(|e| format!("cargo metadata: {e}"))?;
            out.push(Doc {
                value: value.into(),
                path: None,
                line: None,
                shown: "cargo metadata".into(),
                namespaces,
                source: Source::None,
            });
            continue;
        }
        if let Some(name) = &input.report {
            let r = ctx
                .reports()
                .iter()
                .find(|r| &r.name == name)
                .ok_or_else(|| {
                    format!(
                        "{key}: the policy has no report named `{name}` (add it under [reports])"
                    )
                })?;
            let value = match r.format {
                ReportFormat::ClippyJson => Value::Array(
                    r.content
                        .lines()
                        .enumerate()
                        .filter(|(_, l)| !l.trim().is_empty())
                        .map(|(n, l)| {
                            serde_json::from_str(l)
                                .map_err(|e| format!("{}:{}: {e}", r.path, n + 1))
                        })
                        .collect::<Result<_, _>>()?,
                ),
                _ => serde_json::from_str(&r.content)
                    .map_err(|e| format!("{}:{}:{}: {e}", r.path, e.line(), e.column()))?,
            };
            out.push(Doc {
                value: value.into(),
                path: ctx.repo_relative(&r.path),
                line: None,
                shown: r.path.clone(),
                namespaces,
                source: Source::None,
            });
            continue;
        }
        let set = portcullis_sdk::globset(&format!("inputs[{i}].files"), &input.files)?;
        let entries: Vec<&portcullis_sdk::FileEntry> = ctx
            .files()
            .iter()
            .filter(|f| f.kind == FileKind::File && set.is_match(&f.path))
            .collect();
        let files: Vec<String> = entries.iter().map(|f| f.path.clone()).collect();
        if files.is_empty() && input.optional {
            continue;
        }
        if files.is_empty() {
            return Err(format!(
                "{key}: {} matches no file in the repository",
                input.files.join(", ")
            ));
        }
        // Findings count only in changed files: each file is its own input,
        // so an unchanged one need not be read. A combined input is one
        // document made of all its files: read whole.
        let entries: Vec<&portcullis_sdk::FileEntry> = if input.combine {
            entries
        } else {
            entries
                .into_iter()
                .filter(|f| ctx.is_changed(&f.path))
                .collect()
        };
        let mut combined = Vec::new();
        let mut combined_texts = Vec::new();
        // Read in batches through the host (much faster than file by file
        // in the sandbox).
        let mut texts: Vec<(String, Vec<u8>)> = Vec::with_capacity(files.len());
        for batch in ctx.batches(&entries, 32 << 20) {
            let paths: Vec<String> = batch.iter().map(|f| f.path.clone()).collect();
            for (path, r) in paths.iter().zip(ctx.read_many(&paths)) {
                texts.push((
                    path.clone(),
                    r.map_err(|e| format!("{path}: cannot read: {e}"))?,
                ));
            }
        }
        for (path, bytes) in texts {
            let parser = input.parser.or_else(|| Parser::for_path(&path)).ok_or_else(|| {
                format!("{key}: cannot tell how to parse {path}: set `parser` (json, yaml, toml, hcl, dockerfile)")
            })?;
            let text = String::from_utf8(bytes).map_err(|_| format!("{path}: not UTF-8 text"))?;
            let docs = parse(&text, &path, parser)?;
            let whole = docs.len() == 1 && docs[0].2.is_none();
            let mut text = Some(text);
            for (value, line, chunk) in docs {
                let body = match chunk {
                    Some(chunk) => chunk,
                    None if whole => text.take().unwrap_or_default(),
                    None => String::new(),
                };
                let source = Text::new(&path, body, parser, line.unwrap_or(1));
                if input.combine {
                    combined_texts.push(source);
                    let mut entry = std::collections::BTreeMap::new();
                    entry.insert(
                        regorus::Value::from("path"),
                        regorus::Value::from(path.as_str()),
                    );
                    entry.insert(regorus::Value::from("contents"), value);
                    combined.push(regorus::Value::from(entry));
                } else {
                    out.push(Doc {
                        value,
                        shown: match line {
                            Some(l) if l > 1 => format!("{path}:{l}"),
                            _ => path.clone(),
                        },
                        path: Some(path.clone()),
                        line,
                        namespaces: namespaces.clone(),
                        source: Source::Text(source),
                    });
                }
            }
        }
        if input.combine {
            out.push(Doc {
                value: regorus::Value::from(combined),
                path: None,
                line: None,
                shown: format!("combined {}", input.files.join(", ")),
                namespaces,
                source: Source::Combined(combined_texts),
            });
        }
    }
    Ok(out)
}

/// One document of a file: its value, the line it starts on, and its own
/// text when the file holds several.
pub type Parsed = (regorus::Value, Option<u32>, Option<String>);

/// Parse a file into its documents.
pub fn parse(text: &str, path: &str, parser: Parser) -> Result<Vec<Parsed>, String> {
    match parser {
        Parser::Yaml => yaml_documents(text, path),
        // The engine's own JSON parser; serde_json only to explain an error.
        Parser::Json => match regorus::Value::from_json_str(text) {
            Ok(v) => Ok(vec![(v, None, None)]),
            Err(_) => Err(parse_one(text, path, Some(Parser::Json))
                .err()
                .unwrap_or_else(|| format!("{path}: not JSON"))),
        },
        other => Ok(vec![(
            parse_one(text, path, Some(other))?.into(),
            None,
            None,
        )]),
    }
}

/// Parse a single document.
pub fn parse_one(text: &str, path: &str, parser: Option<Parser>) -> Result<Value, String> {
    match parser {
        Some(Parser::Json) => serde_json::from_str(text).map_err(|e| {
            format!(
                "{path}:{}:{}: not JSON: {}",
                e.line(),
                e.column(),
                strip_at(&e.to_string())
            )
        }),
        Some(Parser::Toml) => {
            let v: toml::Value = toml::from_str(text).map_err(|e| {
                let line = e
                    .span()
                    .map_or(1, |s| text[..s.start].matches('\n').count() + 1);
                format!(
                    "{path}:{line}: not TOML: {}",
                    portcullis_sdk::text::one_line(e.message())
                )
            })?;
            serde_json::to_value(v).map_err(|e| format!("{path}: {e}"))
        }
        Some(Parser::Hcl) => crate::hcl::parse(text, path),
        Some(Parser::Dockerfile) => {
            crate::dockerfile::parse(text).map_err(|e| format!("{path}:{e}"))
        }
        Some(Parser::Yaml) => {
            let v = yaml(text, path, 1)?;
            let json = v.to_json_str().map_err(|e| format!("{path}: {e}"))?;
            serde_json::from_str(&json).map_err(|e| format!("{path}: {e}"))
        }
        None => Err(format!("{path}: unknown file type")),
    }
}

fn strip_at(msg: &str) -> &str {
    msg.rfind(" at line ").map_or(msg, |i| &msg[..i])
}

/// A multi-document YAML file: documents split at `---` lines; empty
/// documents are skipped.
fn yaml_documents(text: &str, path: &str) -> Result<Vec<Parsed>, String> {
    let mut out = Vec::new();
    let mut start = 1u32;
    let mut chunk = String::new();
    let mut flush = |chunk: &mut String, start: u32| -> Result<(), String> {
        if chunk.lines().any(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        }) {
            let v = yaml(chunk, path, start)?;
            if v != regorus::Value::Null {
                // The document's text is kept for positions, not copied.
                out.push((v, Some(start), Some(std::mem::take(chunk))));
            }
        }
        chunk.clear();
        Ok(())
    };
    for (n, line) in text.lines().enumerate() {
        if line.starts_with("---") || line.trim_end() == "..." {
            flush(&mut chunk, start)?;
            start = n as u32 + 2;
            // `--- {inline: doc}`
            let rest = line.trim_start_matches('-').trim();
            if line.starts_with("---") && !rest.is_empty() && !rest.starts_with('#') {
                // Spaces in place of `--- ` keep the columns of the line.
                let lead = line.len() - line.trim_start_matches('-').trim_start().len();
                chunk.push_str(&" ".repeat(lead));
                chunk.push_str(rest);
                chunk.push('\n');
                start = n as u32 + 1;
            }
            continue;
        }
        chunk.push_str(line);
        chunk.push('\n');
    }
    flush(&mut chunk, start)?;
    Ok(out)
}

/// Whether `text` may hold a merge key: `<<` followed by `:`, at the start
/// of a line or after `{`, `[`, `,`, `-` or `?` (a heredoc's `<<EOF` is
/// not one).
fn has_merge_key(text: &str) -> bool {
    let b = text.as_bytes();
    memchr_all(b, b"<<").any(|at| {
        let after = text[at + 2..].trim_start_matches([' ', '\t']);
        let before = text[..at].trim_end_matches([' ', '\t']);
        after.starts_with(':')
            && (before.is_empty() || before.ends_with(['\n', '{', '[', ',', '-', '?']))
    })
}

fn memchr_all<'a>(hay: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    (0..hay.len().saturating_sub(needle.len() - 1)).filter(move |&i| hay[i..].starts_with(needle))
}

/// Apply merge keys bottom-up: a mapping's values (its `<<` included)
/// first, then its own `<<`, whose entries do not replace its keys; a list
/// of mappings merges in order, the first winning.
fn merge(v: &mut serde_yaml::Value) -> Result<(), String> {
    use serde_yaml::Value;
    match v {
        Value::Mapping(m) => {
            for (_, child) in m.iter_mut() {
                merge(child)?;
            }
            if let Some(source) = m.remove("<<") {
                let sources = match source {
                    Value::Mapping(one) => vec![one],
                    Value::Sequence(list) => {
                        list.into_iter()
                            .map(|x| match x {
                                Value::Mapping(one) => Ok(one),
                                _ => Err("a merge key (`<<`) takes a mapping or a list of them"
                                    .to_string()),
                            })
                            .collect::<Result<_, _>>()?
                    }
                    _ => return Err("a merge key (`<<`) takes a mapping or a list of them".into()),
                };
                for one in sources {
                    for (k, val) in one {
                        if !m.contains_key(&k) {
                            m.insert(k, val);
                        }
                    }
                }
            }
        }
        Value::Sequence(list) => {
            for child in list {
                merge(child)?;
            }
        }
        Value::Tagged(t) => merge(&mut t.value)?,
        _ => {}
    }
    Ok(())
}

/// One YAML document; errors name the file line.
fn yaml(text: &str, path: &str, first_line: u32) -> Result<regorus::Value, String> {
    let parsed = if has_merge_key(text) {
        // Merge keys (`<<: *defaults`) are applied, as the Kubernetes API
        // server and GitHub read them, chains of them too; only documents
        // that may hold one take this slower way.
        serde_yaml::from_str::<serde_yaml::Value>(text)
            .map_err(|e| e.to_string())
            .and_then(|mut v| {
                merge(&mut v)?;
                serde_yaml::from_value::<regorus::Value>(v).map_err(|e| e.to_string())
            })
    } else {
        regorus::Value::from_yaml_str(text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| {
        let msg = crate::policies::one_line(&e);
        // serde_yaml: "... at line 3 column 5"
        let line = msg
            .rsplit_once(" at line ")
            .and_then(|(_, rest)| rest.split_whitespace().next()?.parse::<u32>().ok());
        match line {
            Some(l) => format!(
                "{path}:{}: not YAML: {}",
                first_line + l - 1,
                strip_at(&msg)
            ),
            None => format!("{path}:{first_line}: not YAML: {msg}"),
        }
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_keeps_each_document_and_its_line() {
        let text = "# comment\napiVersion: v1\nkind: Service\n---\napiVersion: apps/v1\nkind: Deployment\n---\n# only a comment\n---\nkind: Pod\n";
        let docs = parse(text, "k.yaml", Parser::Yaml).unwrap();
        let kinds: Vec<(String, Option<u32>)> = docs
            .iter()
            .map(|(v, l, _)| (v["kind"].as_string().unwrap().to_string(), *l))
            .collect();
        assert_eq!(
            kinds,
            [
                ("Service".to_string(), Some(1)),
                ("Deployment".to_string(), Some(5)),
                ("Pod".to_string(), Some(10))
            ]
        );
        let err = parse("a: 1\n---\nb: [1\nc: 2\n", "bad.yaml", Parser::Yaml).unwrap_err();
        assert!(err.starts_with("bad.yaml:"), "{err}");
        assert!(err.contains("not YAML"), "{err}");
    }

    #[test]
    fn merge_keys_are_applied() {
        // A chain of merges, and a heredoc that is not one.
        let text = "a: &a\n  privileged: true\nbase: &b\n  <<: *a\n  hostPID: true\n  x: 1\nspec:\n  <<: *b\n  x: 2\n  run: cat <<EOF\n";
        let docs = parse(text, "m.yaml", Parser::Yaml).unwrap();
        let spec = &docs[0].0["spec"];
        assert_eq!(spec["hostPID"], regorus::Value::from(true));
        assert_eq!(spec["x"], regorus::Value::from(2u64));
        assert_eq!(spec["<<"], regorus::Value::Undefined);
        assert_eq!(spec["privileged"], regorus::Value::from(true));
        // Only a merge key takes the merging parser: a heredoc does not, so
        // a duplicate key stays last-one-wins as before.
        assert!(!has_merge_key("run: |\n  cat <<EOF\n  x\n  EOF\n"));
        let docs = parse("a: 1\na: 2\nrun: cat <<EOF\n", "d.yaml", Parser::Yaml).unwrap();
        assert_eq!(docs[0].0["a"], regorus::Value::from(2u64));
        assert!(has_merge_key("- <<: *x\n") && has_merge_key("a: {<<: *x, b: 1}\n"));
        assert!(has_merge_key("a: { <<: *x }\n") && has_merge_key("a: [{ <<: *x }]\n"));
        assert!(has_merge_key("a: {b: 1,<<: *x}\n") && !has_merge_key("a: \"x <<: y\"\n"));
        // A list of merges whose members merge again, and a long chain.
        let text =
            "a: &a {p: 1}\nb: &b {<<: *a, q: 2}\nc: &c {r: 3}\nd: &d {<<: *c}\ne: {<<: [*b, *d]}\n";
        let e = &parse(text, "l.yaml", Parser::Yaml).unwrap()[0].0["e"];
        assert_eq!(
            (&e["p"], &e["q"], &e["r"]),
            (
                &regorus::Value::from(1u64),
                &regorus::Value::from(2u64),
                &regorus::Value::from(3u64)
            )
        );
        let mut chain = "l0: &l0 {deep: true}\n".to_string();
        for i in 1..12 {
            chain.push_str(&format!("l{i}: &l{i} {{<<: *l{}}}\n", i - 1));
        }
        let last = &parse(&chain, "c.yaml", Parser::Yaml).unwrap()[0].0["l11"];
        assert_eq!(last["deep"], regorus::Value::from(true));
        let err = parse("a: &x 1\nb:\n  <<: *x\n", "bad.yaml", Parser::Yaml).unwrap_err();
        assert!(err.starts_with("bad.yaml:1: not YAML"), "{err}");
    }

    #[test]
    fn toml_and_json_errors_name_the_line() {
        let e = parse_one("a = 1\nb = \n", "x.toml", Some(Parser::Toml)).unwrap_err();
        assert!(e.starts_with("x.toml:2: not TOML"), "{e}");
        let e = parse_one("{\n  \"a\": ,\n}", "x.json", Some(Parser::Json)).unwrap_err();
        assert!(e.starts_with("x.json:2:"), "{e}");
        assert_eq!(
            parse_one("[a]\nb = 2\n", "ok.toml", Some(Parser::Toml)).unwrap(),
            serde_json::json!({"a": {"b": 2}})
        );
    }
}
