//! The policy's TOML as written: every key and value with its span, read by
//! hand (no serde) so that one pass can report every problem, each at its
//! place. [`Diags`] collects the problems; an [`At`] is a span in one
//! policy file, rendered as `file:line:col` only when shown.

use std::ops::Range;
use std::sync::Arc;

use toml_edit::{Item, TableLike, Value};

use super::suggest::did_you_mean;
use crate::diag::{At, Diagnostic, File};

/// A value and where it was written.
#[derive(Debug, Clone)]
pub struct Spanned<T> {
    pub value: T,
    pub at: At,
}

/// The problems found in one pass over a policy (and the files it extends).
#[derive(Debug, Default)]
pub struct Diags {
    pub list: Vec<Diagnostic>,
}

impl Diags {
    pub fn push(&mut self, at: At, message: impl Into<String>) {
        self.list.push(Diagnostic {
            file: at.file_name().to_string(),
            at: Some(at),
            message: message.into(),
        });
    }

    pub fn whole_file(&mut self, file: &str, message: impl Into<String>) {
        self.list.push(Diagnostic {
            at: None,
            file: file.to_string(),
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// A parsed policy file.
pub struct Doc {
    pub file: Arc<File>,
    doc: toml_edit::ImDocument<String>,
}

impl Doc {
    /// Parse `text`; a syntax error is one diagnostic.
    pub fn parse(name: &str, text: &str) -> Result<Doc, Diagnostic> {
        let file = Arc::new(File::new(name, text));
        match toml_edit::ImDocument::parse(text.to_string()) {
            Ok(doc) => Ok(Doc { file, doc }),
            Err(e) => {
                let message = e.message().trim().replace('\n', " ");
                Err(Diagnostic {
                    at: e.span().map(|s| At::new(&file, s)),
                    file: name.to_string(),
                    message,
                })
            }
        }
    }

    /// The top-level table.
    pub fn root(&self) -> Table<'_> {
        Table {
            file: &self.file,
            table: self.doc.as_table(),
            at: At::new(&self.file, 0..0),
            taken: Vec::new(),
            all_taken: false,
        }
    }
}

/// A table being read: each key the reader asks for is taken; [`finish`]
/// reports the keys nobody asked for (a misspelt key is never ignored).
///
/// [`finish`]: Table::finish
pub struct Table<'a> {
    file: &'a Arc<File>,
    table: &'a dyn TableLike,
    /// The table's name, or its first line.
    pub at: At,
    taken: Vec<&'static str>,
    all_taken: bool,
}

/// One entry of a table.
#[derive(Clone)]
pub struct Node<'a> {
    file: &'a Arc<File>,
    pub item: &'a Item,
    key_span: Option<Range<usize>>,
}

impl<'a> Table<'a> {
    /// Take `key`, if present.
    pub fn get(&mut self, key: &'static str) -> Option<Node<'a>> {
        self.taken.push(key);
        let (k, item) = self.table.get_key_value(key)?;
        Some(Node {
            file: self.file,
            item,
            key_span: k.span(),
        })
    }

    /// Take `key`, which must be present.
    pub fn required(&mut self, key: &'static str, d: &mut Diags) -> Option<Node<'a>> {
        let node = self.get(key);
        if node.is_none() {
            d.push(self.at.clone(), format!("missing field `{key}`"));
        }
        node
    }

    /// Every entry, for tables keyed by name (`[plugins]`, `[rules]`); the
    /// whole table counts as taken.
    pub fn entries(&mut self) -> Vec<(Spanned<String>, Node<'a>)> {
        self.all_taken = true;
        self.table
            .iter()
            .map(|(name, item)| {
                let key_span = self.table.key(name).and_then(|k| k.span());
                let at = At::new(self.file, key_span.clone().unwrap_or(self.at.span()));
                (
                    Spanned {
                        value: name.to_string(),
                        at,
                    },
                    Node {
                        file: self.file,
                        item,
                        key_span,
                    },
                )
            })
            .collect()
    }

    /// Report every key not taken, with the keys that were expected.
    pub fn finish(self, d: &mut Diags) {
        if self.all_taken {
            return;
        }
        let list = self
            .taken
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        for (name, _) in self.table.iter() {
            if self.taken.contains(&name) {
                continue;
            }
            let span = self
                .table
                .key(name)
                .and_then(|k| k.span())
                .unwrap_or(self.at.span());
            let message = match self.taken.len() {
                0 => format!("unknown field `{name}`, there are no fields"),
                1 => format!("unknown field `{name}`, expected {list}"),
                _ => format!("unknown field `{name}`, expected one of {list}"),
            };
            d.push(At::new(self.file, span), did_you_mean(&message));
        }
    }
}

impl<'a> Node<'a> {
    /// Where the value is written (else its key).
    pub fn at(&self) -> At {
        let span = self
            .item
            .span()
            .or_else(|| self.key_span.clone())
            .unwrap_or(0..0);
        At::new(self.file, span)
    }

    /// Where the key is written (else the value).
    pub fn key_at(&self) -> At {
        match &self.key_span {
            Some(s) => At::new(self.file, s.clone()),
            None => self.at(),
        }
    }

    fn type_name(&self) -> &'static str {
        match self.item {
            Item::Value(v) => v.type_name(),
            other => other.type_name(),
        }
    }

    fn wrong_type(&self, expected: &str, d: &mut Diags) {
        d.push(
            self.at(),
            format!("invalid type: {}, expected {expected}", self.type_name()),
        );
    }

    pub fn str(&self, d: &mut Diags) -> Option<Spanned<String>> {
        match self.item.as_str() {
            Some(s) => Some(Spanned {
                value: s.to_string(),
                at: self.at(),
            }),
            None => {
                self.wrong_type("a string", d);
                None
            }
        }
    }

    /// One of `variants` (a string); anything else is reported with the
    /// list and a did-you-mean.
    pub fn variant(&self, variants: &[&'static str], d: &mut Diags) -> Option<&'static str> {
        let s = self.str(d)?;
        match variants.iter().find(|v| **v == s.value) {
            Some(v) => Some(v),
            None => {
                let list = variants
                    .iter()
                    .map(|v| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ");
                d.push(
                    s.at,
                    did_you_mean(&format!(
                        "unknown variant `{}`, expected one of {list}",
                        s.value
                    )),
                );
                None
            }
        }
    }

    pub fn u64(&self, d: &mut Diags) -> Option<Spanned<u64>> {
        match self.item.as_integer() {
            Some(i) if i >= 0 => Some(Spanned {
                value: i as u64,
                at: self.at(),
            }),
            Some(i) => {
                d.push(
                    self.at(),
                    format!("invalid value: integer `{i}`, expected u64"),
                );
                None
            }
            None => {
                self.wrong_type("u64", d);
                None
            }
        }
    }

    pub fn bool(&self, d: &mut Diags) -> Option<bool> {
        match self.item.as_bool() {
            Some(b) => Some(b),
            None => {
                self.wrong_type("a boolean", d);
                None
            }
        }
    }

    /// An array of strings; bad elements are reported and skipped.
    pub fn strings(&self, d: &mut Diags) -> Vec<Spanned<String>> {
        let Some(array) = self.item.as_array() else {
            self.wrong_type("an array of strings", d);
            return Vec::new();
        };
        let mut out = Vec::new();
        for v in array.iter() {
            let at = At::new(self.file, v.span().unwrap_or(self.at().span()));
            match v.as_str() {
                Some(s) => out.push(Spanned {
                    value: s.to_string(),
                    at,
                }),
                None => d.push(
                    at,
                    format!("invalid type: {}, expected a string", v.type_name()),
                ),
            }
        }
        out
    }

    /// A table (`[x]` or `x = { … }`).
    pub fn table(&self, d: &mut Diags) -> Option<Table<'a>> {
        match self.item.as_table_like() {
            Some(table) => Some(Table {
                file: self.file,
                table,
                at: self.key_at(),
                taken: Vec::new(),
                all_taken: false,
            }),
            None => {
                self.wrong_type("a table", d);
                None
            }
        }
    }

    /// An array of tables: `[[x]]`, or `x = [{ … }, …]` inline.
    pub fn tables(&self, d: &mut Diags) -> Vec<Table<'a>> {
        let table = |t: &'a dyn TableLike, span: Option<Range<usize>>| Table {
            file: self.file,
            table: t,
            at: At::new(self.file, span.unwrap_or(0..0)),
            taken: Vec::new(),
            all_taken: false,
        };
        match self.item {
            Item::ArrayOfTables(a) => a
                .iter()
                .map(|t| table(t, t.span().or_else(|| first_key_span(t))))
                .collect(),
            Item::Value(Value::Array(a)) => {
                let mut out = Vec::new();
                for v in a.iter() {
                    match v.as_inline_table() {
                        Some(t) => out.push(table(t, v.span())),
                        None => d.push(
                            At::new(self.file, v.span().unwrap_or(self.at().span())),
                            format!("invalid type: {}, expected a table", v.type_name()),
                        ),
                    }
                }
                out
            }
            _ => {
                self.wrong_type("an array of tables", d);
                Vec::new()
            }
        }
    }

    /// The value as JSON (datetimes as RFC 3339 strings), for plugin
    /// config that the plugin itself validates.
    pub fn to_json(&self) -> serde_json::Value {
        item_json(self.item)
    }

    /// Where each key and array element under this node is written, by
    /// its path as a plugin names it in an error (`benchmarks[0].current`;
    /// the node itself is the empty path). At most [`MAX_PLACES`] entries,
    /// outer ones first: a key past them is found at its nearest recorded
    /// parent. Each place computes its line and column only when shown.
    pub fn places(&self) -> Places {
        let mut out = Places::new();
        out.insert(String::new(), self.at());
        item_places(self.file, self.item, "", &mut out);
        out
    }
}

/// Places of config keys, by path (see [`Node::places`]).
pub type Places = std::collections::BTreeMap<String, At>;

/// The most config places a plugin table records.
pub const MAX_PLACES: usize = 10_000;

fn child_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn item_places(file: &Arc<File>, item: &Item, prefix: &str, out: &mut Places) {
    match item {
        Item::None => {}
        Item::Value(v) => value_places(file, v, prefix, out),
        Item::Table(t) => {
            for (k, v) in t.iter() {
                if out.len() >= MAX_PLACES {
                    return;
                }
                let path = child_path(prefix, k);
                let span = v.span().or_else(|| t.key(k).and_then(|k| k.span()));
                put(out, file, &path, span);
                item_places(file, v, &path, out);
            }
        }
        Item::ArrayOfTables(a) => {
            for (i, t) in a.iter().enumerate() {
                if out.len() >= MAX_PLACES {
                    return;
                }
                let path = format!("{prefix}[{i}]");
                put(out, file, &path, t.span().or_else(|| first_key_span(t)));
                item_places(file, &Item::Table(t.clone()), &path, out);
            }
        }
    }
}

fn put(out: &mut Places, file: &Arc<File>, path: &str, span: Option<Range<usize>>) {
    if let Some(span) = span
        && out.len() < MAX_PLACES
    {
        out.entry(path.to_string())
            .or_insert_with(|| At::new(file, span));
    }
}

fn value_places(file: &Arc<File>, v: &Value, prefix: &str, out: &mut Places) {
    match v {
        Value::Array(a) => {
            for (i, e) in a.iter().enumerate() {
                if out.len() >= MAX_PLACES {
                    return;
                }
                let path = format!("{prefix}[{i}]");
                put(out, file, &path, e.span());
                value_places(file, e, &path, out);
            }
        }
        Value::InlineTable(t) => {
            for (k, e) in t.iter() {
                if out.len() >= MAX_PLACES {
                    return;
                }
                let path = child_path(prefix, k);
                let span = e.span().or_else(|| t.key(k).and_then(|k| k.span()));
                put(out, file, &path, span);
                value_places(file, e, &path, out);
            }
        }
        _ => {}
    }
}

fn first_key_span(t: &toml_edit::Table) -> Option<Range<usize>> {
    t.iter().find_map(|(k, _)| t.key(k).and_then(|k| k.span()))
}

fn item_json(item: &Item) -> serde_json::Value {
    use serde_json::Value as J;
    match item {
        Item::None => J::Null,
        Item::Value(v) => value_json(v),
        Item::Table(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), item_json(v)))
                .collect(),
        ),
        Item::ArrayOfTables(a) => J::Array(
            a.iter()
                .map(|t| {
                    J::Object(
                        t.iter()
                            .map(|(k, v)| (k.to_string(), item_json(v)))
                            .collect(),
                    )
                })
                .collect(),
        ),
    }
}

fn value_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::String(s) => J::String(s.value().clone()),
        Value::Integer(i) => J::from(*i.value()),
        // nan and inf have no JSON number: a string, which a plugin expecting
        // a number rejects by its key (never a silent null).
        Value::Float(f) => serde_json::Number::from_f64(*f.value())
            .map_or_else(|| J::String(f.value().to_string()), J::Number),
        Value::Boolean(b) => J::Bool(*b.value()),
        Value::Datetime(d) => J::String(d.value().to_string()),
        Value::Array(a) => J::Array(a.iter().map(value_json).collect()),
        Value::InlineTable(t) => J::Object(
            t.iter()
                .map(|(k, v)| (k.to_string(), value_json(v)))
                .collect(),
        ),
    }
}
