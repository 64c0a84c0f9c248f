//! Terraform source (HCL2) in the shape conftest gives Rego: each block is
//! an object under its type and labels holding a list of bodies
//! (`{"resource": {"aws_s3_bucket": {"logs": [{"acl": "private"}]}}}`),
//! nested blocks likewise lists; literal values are JSON, and any other
//! expression is its source as `"${…}"` (a template with interpolations is
//! its source text). Positions come from the same parse.

use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{BlockLabel, Body, Structure};
use hcl_edit::template::{Element, Template};
use std::collections::HashMap;

use serde_json::Value;

use crate::positions::{Lines, Pos, Tree};

/// A parsed document: values with the place each is written.
enum Ir {
    /// Entries in order, and each name's entry.
    Map(Vec<(String, Pos, Ir)>, HashMap<String, usize>),
    List(Vec<(Pos, Ir)>),
    Leaf(Value),
}

/// Nesting deeper than this, counting blocks, their labels and
/// expressions, is refused. The parser itself refuses blocks and
/// expressions nested deeper; labels are counted here only.
const MAX_DEPTH: usize = 64;

/// The value of a `.tf` file; errors name `path:line:col`.
pub fn parse(text: &str, path: &str) -> Result<Value, String> {
    Ok(to_value(document(text, path)?))
}

/// The positions of a `.tf` file's nodes.
pub fn tree(text: &str) -> Option<Tree> {
    let ir = document(text, "").ok()?;
    let mut tree = Tree::default();
    let root = tree.leaf(Pos { line: 1, col: 1 });
    fill(&mut tree, root, ir);
    Some(tree)
}

fn document(text: &str, path: &str) -> Result<Ir, String> {
    let body = hcl_edit::parser::parse_body(text).map_err(|e| {
        let at = e.location();
        format!(
            "{path}:{}:{}: not HCL: {}",
            at.line(),
            at.column(),
            portcullis_sdk::text::one_line(e.message())
        )
    })?;
    let walk = Walk {
        text,
        lines: Lines::new(text),
        path,
    };
    walk.body(&body, 0)
}

struct Walk<'a> {
    text: &'a str,
    lines: Lines,
    path: &'a str,
}

impl Walk<'_> {
    fn pos(&self, span: Option<std::ops::Range<usize>>) -> Pos {
        span.map_or(Pos { line: 1, col: 1 }, |s| {
            self.lines.pos(self.text, s.start)
        })
    }

    fn source(&self, span: Option<std::ops::Range<usize>>) -> &str {
        span.and_then(|s| self.text.get(s)).unwrap_or("")
    }

    fn body(&self, body: &Body, depth: usize) -> Result<Ir, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "{}:{}: blocks nested more than {MAX_DEPTH} deep",
                self.path,
                self.pos(body.span()).line
            ));
        }
        let mut entries: Vec<(String, Pos, Ir)> = Vec::new();
        // Each name's entry, so a body of many blocks is not quadratic.
        let mut index: HashMap<String, usize> = HashMap::new();
        for structure in body.iter() {
            match structure {
                Structure::Attribute(a) => {
                    let key = a.key.as_str().to_string();
                    let at = self.pos(a.key.span());
                    if index.insert(key.clone(), entries.len()).is_some() {
                        return Err(format!(
                            "{}:{}:{}: `{key}` is defined twice",
                            self.path, at.line, at.col
                        ));
                    }
                    entries.push((key, at, self.expr(&a.value, depth + 1)?));
                }
                Structure::Block(b) => {
                    let at = self.pos(b.span());
                    // Each label is a level of objects too.
                    if depth + b.labels.len() > MAX_DEPTH {
                        return Err(format!(
                            "{}:{}:{}: blocks and labels nested more than {MAX_DEPTH} deep",
                            self.path, at.line, at.col
                        ));
                    }
                    let mut keys: Vec<(String, Pos)> =
                        vec![(b.ident.as_str().to_string(), self.pos(b.ident.span()))];
                    for label in &b.labels {
                        let name = match label {
                            BlockLabel::Ident(i) => i.as_str().to_string(),
                            BlockLabel::String(s) => s.value().clone(),
                        };
                        keys.push((name, self.pos(label.span())));
                    }
                    // The labels are levels of objects above the body.
                    let inner = self.body(&b.body, depth + b.labels.len() + 1)?;
                    self.insert(&mut entries, &mut index, &keys, at, inner)?;
                }
            }
        }
        Ok(Ir::Map(entries, index))
    }

    /// File `body` under its block type and labels: maps for all but the
    /// last key, a list of bodies under the last.
    fn insert<'m>(
        &self,
        mut entries: &'m mut Vec<(String, Pos, Ir)>,
        mut index: &'m mut HashMap<String, usize>,
        keys: &[(String, Pos)],
        at: Pos,
        body: Ir,
    ) -> Result<(), String> {
        let clash = || {
            format!(
                "{}:{}:{}: block `{}` clashes with an attribute or another block of that name",
                self.path,
                at.line,
                at.col,
                keys.iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>()
                    .join(" ")
            )
        };
        for (n, (key, key_at)) in keys.iter().enumerate() {
            let last = n + 1 == keys.len();
            let i = match index.get(key) {
                Some(i) => *i,
                None => {
                    let fresh = if last {
                        Ir::List(Vec::new())
                    } else {
                        Ir::Map(Vec::new(), HashMap::new())
                    };
                    index.insert(key.clone(), entries.len());
                    entries.push((key.clone(), *key_at, fresh));
                    entries.len() - 1
                }
            };
            match &mut entries[i].2 {
                Ir::List(items) if last => {
                    items.push((at, body));
                    return Ok(());
                }
                Ir::Map(next, next_index) if !last => {
                    entries = next;
                    index = next_index;
                }
                _ => return Err(clash()),
            }
        }
        Err(clash())
    }

    fn expr(&self, e: &Expression, depth: usize) -> Result<Ir, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "{}:{}: expressions nested more than {MAX_DEPTH} deep",
                self.path,
                self.pos(e.span()).line
            ));
        }
        Ok(match e {
            Expression::Null(_) => Ir::Leaf(Value::Null),
            Expression::Bool(b) => Ir::Leaf(Value::Bool(*b.value())),
            Expression::Number(n) => {
                let n = n.value();
                let json = if let Some(i) = n.as_i64() {
                    Some(i.into())
                } else if let Some(u) = n.as_u64() {
                    Some(u.into())
                } else {
                    n.as_f64().and_then(serde_json::Number::from_f64)
                };
                Ir::Leaf(json.map_or_else(
                    || Value::String(self.source(e.span()).into()),
                    Value::Number,
                ))
            }
            Expression::String(s) => Ir::Leaf(Value::String(s.value().clone())),
            Expression::Array(a) => Ir::List(
                a.iter()
                    .map(|item| Ok((self.pos(item.span()), self.expr(item, depth + 1)?)))
                    .collect::<Result<_, String>>()?,
            ),
            Expression::Object(o) => {
                let mut entries = Vec::new();
                let mut index = HashMap::new();
                for (key, value) in o.iter() {
                    let (name, at) = match key {
                        ObjectKey::Ident(i) => (i.as_str().to_string(), self.pos(i.span())),
                        ObjectKey::Expression(Expression::String(s)) => {
                            (s.value().clone(), self.pos(s.span()))
                        }
                        ObjectKey::Expression(k) => (
                            format!("${{{}}}", self.source(k.span()).trim()),
                            self.pos(k.span()),
                        ),
                    };
                    let value = self.expr(value.expr(), depth + 1)?;
                    // A name given again replaces the first.
                    match index.get(&name) {
                        Some(i) => entries[*i] = (name, at, value),
                        None => {
                            index.insert(name.clone(), entries.len());
                            entries.push((name, at, value));
                        }
                    }
                }
                Ir::Map(entries, index)
            }
            Expression::StringTemplate(t) => {
                let inner = self.source(e.span()).trim();
                let raw = inner
                    .strip_prefix('"')
                    .and_then(|s| s.strip_suffix('"'))
                    .unwrap_or(inner);
                Ir::Leaf(Value::String(literal(t).unwrap_or_else(|| raw.to_string())))
            }
            Expression::HeredocTemplate(h) => Ir::Leaf(Value::String(
                literal(&h.template).unwrap_or_else(|| self.source(h.template.span()).to_string()),
            )),
            _ => Ir::Leaf(Value::String(format!(
                "${{{}}}",
                self.source(e.span()).trim()
            ))),
        })
    }
}

/// A template's text when it has no interpolation or directive.
fn literal(t: &Template) -> Option<String> {
    let mut out = String::new();
    for element in t.iter() {
        match element {
            Element::Literal(s) => out.push_str(s.value()),
            _ => return None,
        }
    }
    Some(out)
}

fn to_value(ir: Ir) -> Value {
    match ir {
        Ir::Leaf(v) => v,
        Ir::List(items) => Value::Array(items.into_iter().map(|(_, v)| to_value(v)).collect()),
        Ir::Map(entries, _) => Value::Object(
            entries
                .into_iter()
                .map(|(k, _, v)| (k, to_value(v)))
                .collect(),
        ),
    }
}

fn fill(tree: &mut Tree, node: usize, ir: Ir) {
    match ir {
        Ir::Leaf(_) => {}
        Ir::List(items) => {
            let kids = items
                .into_iter()
                .map(|(at, v)| {
                    let n = tree.leaf(at);
                    fill(tree, n, v);
                    (at, n)
                })
                .collect();
            tree.set_seq(node, kids);
        }
        Ir::Map(entries, _) => {
            let kids = entries
                .into_iter()
                .map(|(k, at, v)| {
                    let n = tree.leaf(at);
                    fill(tree, n, v);
                    (k, at, n)
                })
                .collect();
            tree.set_map(node, kids);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;
    use crate::positions::steps;
    use serde_json::json;

    const MAIN: &str = r#"terraform {
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}

resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs-${var.env}"
  acl    = "public-read"
  tags   = { Team = "infra", "cost-center" = 42 }
}

resource "aws_s3_bucket" "data" {
  bucket        = var.bucket
  force_destroy = false
  count         = length(var.names)
  server_side_encryption_configuration {
    rule {
      apply_server_side_encryption_by_default {
        sse_algorithm = "aws:kms"
      }
    }
  }
}

resource "aws_ebs_volume" "v" {
  size      = 10
  encrypted = true
  policy    = <<EOT
{"Version": "2012-10-17"}
EOT
}
"#;

    #[test]
    fn terraform_source_in_conftests_shape() {
        let v = parse(MAIN, "main.tf").unwrap();
        assert_eq!(
            v["terraform"][0]["required_providers"][0]["aws"],
            json!({"source": "hashicorp/aws", "version": "~> 5.0"})
        );
        let logs = &v["resource"]["aws_s3_bucket"]["logs"][0];
        assert_eq!(logs["bucket"], "acme-logs-${var.env}");
        assert_eq!(logs["acl"], "public-read");
        assert_eq!(logs["tags"], json!({"Team": "infra", "cost-center": 42}));
        let data = &v["resource"]["aws_s3_bucket"]["data"][0];
        assert_eq!(data["bucket"], "${var.bucket}");
        assert_eq!(data["force_destroy"], false);
        assert_eq!(data["count"], "${length(var.names)}");
        assert_eq!(
            data["server_side_encryption_configuration"][0]["rule"][0]["apply_server_side_encryption_by_default"]
                [0]["sse_algorithm"],
            "aws:kms"
        );
        let v2 = &v["resource"]["aws_ebs_volume"]["v"][0];
        assert_eq!(v2["size"], 10);
        assert_eq!(v2["policy"], "{\"Version\": \"2012-10-17\"}\n");
    }

    #[test]
    fn positions_of_blocks_labels_and_attributes() {
        let t = tree(MAIN).unwrap();
        let at = |p: serde_json::Value| {
            let pos = t.locate(&steps(&p).unwrap()).unwrap();
            (pos.line, pos.col)
        };
        assert_eq!(
            at(json!(["resource", "aws_s3_bucket", "logs", 0, "acl"])),
            (9, 3)
        );
        assert_eq!(at(json!(["resource", "aws_s3_bucket", "data", 0])), (13, 1));
        assert_eq!(at(json!(["resource", "aws_s3_bucket", "data"])), (13, 26));
        assert_eq!(
            at(json!([
                "resource",
                "aws_s3_bucket",
                "data",
                0,
                "server_side_encryption_configuration",
                0,
                "rule",
                0
            ])),
            (18, 5)
        );
        assert_eq!(
            at(json!([
                "resource",
                "aws_s3_bucket",
                "logs",
                0,
                "tags",
                "cost-center"
            ])),
            (10, 30)
        );
        assert_eq!(
            at(json!(["resource", "aws_s3_bucket", "logs", 0, "nothing"])),
            (7, 1)
        );
    }

    #[test]
    fn broken_or_ambiguous_source_names_its_place() {
        let e = parse("resource \"a\" \"b\" {\n  x = \n}\n", "main.tf").unwrap_err();
        assert!(e.starts_with("main.tf:2:7:"), "{e}");
        assert!(e.contains("not HCL"), "{e}");
        // A name given twice, or to an attribute and a block, is refused
        // (by the parser, or here) where it is given again.
        for twice in [
            "a = 1\na = 2\n",
            "locals {}\nlocals = 2\n",
            "a = 1\na {\n}\n",
        ] {
            let e = parse(twice, "x.tf").unwrap_err();
            assert!(e.starts_with("x.tf:2:1:"), "{e}");
        }
        let e = parse("a \"x\" {\n}\na {\n}\n", "x.tf").unwrap_err();
        assert!(e.starts_with("x.tf:3:1: block `a` clashes"), "{e}");
        // Blocks nested deeper than the parser's limit are its error; labels
        // are counted here.
        let deep = "a {\n".to_string() + &"b {\n".repeat(200) + &"}\n".repeat(201);
        assert!(parse(&deep, "d.tf").unwrap_err().starts_with("d.tf:"));
        // Many blocks of one type are not quadratic (this would take minutes).
        let many: String = (0..100_000)
            .map(|i| format!("resource \"aws_s3_bucket\" \"b{i}\" {{\n}}\n"))
            .collect();
        let v = parse(&many, "m.tf").unwrap();
        assert_eq!(
            v["resource"]["aws_s3_bucket"].as_object().unwrap().len(),
            100_000
        );
        let labels = "a ".to_string() + &"\"l\" ".repeat(5000) + "{\n}\n";
        let e = parse(&labels, "l.tf").unwrap_err();
        assert!(
            e.starts_with("l.tf:1:1: blocks and labels nested more than"),
            "{e}"
        );
        // Labels of enclosing blocks count too.
        let nested =
            "a \"l\" \"l\" \"l\" \"l\" \"l\" \"l\" \"l\" \"l\" {\n".repeat(8) + &"}\n".repeat(8);
        let e = parse(&nested, "n.tf").unwrap_err();
        assert!(e.contains("nested more than"), "{e}");
        // Repeated blocks of one type and labels are one list.
        let v = parse("module \"m\" {\n}\nmodule \"m\" {\n}\n", "x.tf").unwrap();
        assert_eq!(v["module"]["m"].as_array().unwrap().len(), 2);
    }
}
