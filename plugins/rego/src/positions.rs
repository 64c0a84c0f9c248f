//! Where a node of an input is written. A result may name the node it is
//! about by its path in the input (`_path = ["jobs", "build", "steps", 2,
//! "uses"]`, or the JSON pointer `"/jobs/build/steps/2/uses"`); the input's
//! text is parsed again, with positions, only when a result asks, and the
//! path becomes the line and column of that node: a mapping entry's key, a
//! sequence item. A path that goes further than the document points at the
//! deepest node that exists, so "`permissions` is missing" can name the job.

use serde_json::Value;

/// One step of a path: a key of a mapping, or an index of a sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A path as a result gives it: an array of keys and indices, or a JSON
/// pointer (RFC 6901). `Err` says what is wrong with it.
pub fn steps(v: &Value) -> Result<Vec<Step>, String> {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|s| match s {
                Value::String(k) => Ok(Step::Key(k.clone())),
                Value::Number(n) => n
                    .as_u64()
                    .and_then(|n| usize::try_from(n).ok())
                    .map(Step::Index)
                    .ok_or_else(|| format!("`_path` index {n} is not a non-negative integer")),
                other => Err(format!(
                    "`_path` steps are strings and indices, not {other}"
                )),
            })
            .collect(),
        Value::String(p) if p.is_empty() => Ok(Vec::new()),
        Value::String(p) => {
            let Some(rest) = p.strip_prefix('/') else {
                return Err(format!(
                    "`_path` \"{p}\" is not a JSON pointer (it starts with `/`)"
                ));
            };
            Ok(rest
                .split('/')
                .map(|s| Step::Key(s.replace("~1", "/").replace("~0", "~")))
                .collect())
        }
        other => Err(format!(
            "`_path` is an array of keys and indices or a JSON pointer, not {other}"
        )),
    }
}

/// The path as a JSON pointer: how a finding's fingerprint names its node
/// (stable when lines move).
pub fn pointer(steps: &[Step]) -> String {
    let mut out = String::new();
    for s in steps {
        out.push('/');
        match s {
            Step::Key(k) => out.push_str(&k.replace('~', "~0").replace('/', "~1")),
            Step::Index(i) => out.push_str(&i.to_string()),
        }
    }
    out
}

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub col: u32,
}

#[derive(Debug)]
enum Kids {
    Leaf,
    /// Each entry: its key, where the key is written, the value's node.
    Map(Vec<(String, Pos, usize)>),
    /// Each item: where it is written, its node.
    Seq(Vec<(Pos, usize)>),
}

#[derive(Debug)]
struct Node {
    pos: Pos,
    kids: Kids,
}

/// The shape of a document with positions: nodes in an arena (an alias
/// shares its anchor's node).
#[derive(Debug, Default)]
pub struct Tree {
    nodes: Vec<Node>,
}

/// Nodes deeper than this are not indexed: a path into them points at
/// their deepest indexed ancestor.
const MAX_DEPTH: usize = 256;

/// Mapping keys longer than this are not kept (they are not matched).
const MAX_KEY: usize = 4096;

impl Tree {
    fn add(&mut self, pos: Pos, kids: Kids) -> usize {
        self.nodes.push(Node { pos, kids });
        self.nodes.len() - 1
    }

    /// A new node with no children yet (the first is the root).
    pub(crate) fn leaf(&mut self, pos: Pos) -> usize {
        self.add(pos, Kids::Leaf)
    }

    /// Make `node` a mapping: each entry's key, where it is, its node.
    pub(crate) fn set_map(&mut self, node: usize, entries: Vec<(String, Pos, usize)>) {
        self.nodes[node].kids = Kids::Map(entries);
    }

    /// Make `node` a sequence: where each item is, its node.
    pub(crate) fn set_seq(&mut self, node: usize, items: Vec<(Pos, usize)>) {
        self.nodes[node].kids = Kids::Seq(items);
    }

    /// The position of the node at `steps`, or of its deepest existing
    /// ancestor; `None` for an empty tree.
    pub fn locate(&self, steps: &[Step]) -> Option<Pos> {
        let mut node = self.nodes.first()?;
        let mut at = node.pos;
        for step in steps {
            let Some((pos, next)) = self.child(node, step, 0) else {
                break;
            };
            at = pos;
            node = &self.nodes[next];
        }
        Some(at)
    }

    fn child(&self, node: &Node, step: &Step, merges: usize) -> Option<(Pos, usize)> {
        match (&node.kids, step) {
            (Kids::Map(entries), step) => {
                let key = match step {
                    Step::Key(k) => k.clone(),
                    Step::Index(i) => i.to_string(),
                };
                if let Some((_, pos, n)) = entries.iter().rev().find(|(k, _, _)| *k == key) {
                    return Some((*pos, *n));
                }
                // YAML merge keys: `<<: *defaults` or `<<: [*a, *b]`.
                if merges > 8 {
                    return None;
                }
                let (_, _, merged) = entries.iter().find(|(k, _, _)| k == "<<")?;
                let merged = &self.nodes[*merged];
                match &merged.kids {
                    Kids::Seq(items) => items
                        .iter()
                        .find_map(|(_, n)| self.child(&self.nodes[*n], step, merges + 1)),
                    _ => self.child(merged, step, merges + 1),
                }
            }
            (Kids::Seq(items), Step::Index(i)) => items.get(*i).copied(),
            (Kids::Seq(items), Step::Key(k)) => {
                k.parse::<usize>().ok().and_then(|i| items.get(i).copied())
            }
            (Kids::Leaf, _) => None,
        }
    }

    /// One YAML document with positions; `None` where the event parser
    /// does not follow it (the value parser has accepted it already).
    pub fn yaml(text: &str, first_line: u32) -> Option<Tree> {
        use yaml_rust2::parser::{Event, Parser};
        let mut tree = Tree::default();
        let mut anchors: std::collections::HashMap<usize, usize> = Default::default();
        // Open containers: the node, and a mapping's key awaiting its value.
        let mut open: Vec<(usize, Option<(String, Pos)>)> = Vec::new();
        let mut parser = Parser::new_from_str(text);
        let mut skipped = 0usize; // containers opened beyond MAX_DEPTH
        let shift = first_line.saturating_sub(1);
        loop {
            let (event, mark) = parser.next_token().ok()?;
            let pos = Pos {
                line: u32::try_from(mark.line()).ok()?.saturating_add(shift),
                // The event parser counts columns from 0.
                col: u32::try_from(mark.col()).ok()?.saturating_add(1),
            };
            // A finished node, for a scalar its text (a key's name), and
            // for an alias where the alias itself is written.
            let done: (usize, Option<String>, Option<Pos>) = match event {
                Event::StreamEnd | Event::DocumentEnd => break,
                Event::Nothing | Event::StreamStart | Event::DocumentStart => continue,
                Event::Scalar(s, _, anchor, _) => {
                    if skipped > 0 {
                        continue;
                    }
                    let n = tree.add(pos, Kids::Leaf);
                    if anchor > 0 {
                        anchors.insert(anchor, n);
                    }
                    (n, Some(s), None)
                }
                Event::Alias(id) => {
                    if skipped > 0 {
                        continue;
                    }
                    let n = match anchors.get(&id) {
                        Some(n) => *n,
                        None => tree.add(pos, Kids::Leaf),
                    };
                    (n, None, Some(pos))
                }
                Event::MappingStart(anchor, _) | Event::SequenceStart(anchor, _) => {
                    if skipped > 0 || open.len() >= MAX_DEPTH {
                        skipped += 1;
                        continue;
                    }
                    let kids = if matches!(event, Event::MappingStart(..)) {
                        Kids::Map(Vec::new())
                    } else {
                        Kids::Seq(Vec::new())
                    };
                    let n = tree.add(pos, kids);
                    if anchor > 0 {
                        anchors.insert(anchor, n);
                    }
                    open.push((n, None));
                    continue;
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    if skipped > 0 {
                        skipped -= 1;
                        continue;
                    }
                    let (n, _) = open.pop()?;
                    (n, None, None)
                }
            };
            let (n, text, written) = done;
            let Some((parent, key)) = open.last_mut() else {
                if tree.nodes.is_empty() {
                    return None;
                }
                // The document's root is done: it is node 0.
                continue;
            };
            let pos = written.unwrap_or(tree.nodes[n].pos);
            match &mut tree.nodes[*parent].kids {
                Kids::Map(entries) => match key.take() {
                    None => {
                        let name = text
                            .filter(|t| t.len() <= MAX_KEY)
                            .unwrap_or_else(|| "\u{0}".into());
                        *key = Some((name, pos));
                        // A block mapping's start event comes after its first
                        // key: the mapping is where that key is.
                        if entries.is_empty() {
                            let at = &mut tree.nodes[*parent].pos;
                            if (pos.line, pos.col) < (at.line, at.col) {
                                *at = pos;
                            }
                        }
                    }
                    Some((name, at)) => entries.push((name, at, n)),
                },
                Kids::Seq(items) => items.push((pos, n)),
                Kids::Leaf => return None,
            }
        }
        (!tree.nodes.is_empty()).then_some(tree)
    }

    /// A JSON document with positions.
    pub fn json(text: &str) -> Option<Tree> {
        let lines = Lines::new(text);
        let b = text.as_bytes();
        let mut tree = Tree::default();
        let mut open: Vec<(usize, Option<(String, Pos)>)> = Vec::new();
        let mut i = 0usize;
        let skip_ws = |i: &mut usize| {
            while *i < b.len() && matches!(b[*i], b' ' | b'\t' | b'\n' | b'\r' | b',' | b':') {
                *i += 1;
            }
        };
        loop {
            skip_ws(&mut i);
            if i >= b.len() {
                break;
            }
            let pos = lines.pos(text, i);
            let (n, key_text) = match b[i] {
                b'{' | b'[' => {
                    if open.len() >= MAX_DEPTH {
                        return (!tree.nodes.is_empty()).then_some(tree);
                    }
                    let kids = if b[i] == b'{' {
                        Kids::Map(Vec::new())
                    } else {
                        Kids::Seq(Vec::new())
                    };
                    i += 1;
                    let n = tree.add(pos, kids);
                    open.push((n, None));
                    continue;
                }
                b'}' | b']' => {
                    i += 1;
                    let (n, _) = open.pop()?;
                    (n, None)
                }
                b'"' => {
                    let start = i;
                    i += 1;
                    while i < b.len() && b[i] != b'"' {
                        i += if b[i] == b'\\' { 2 } else { 1 };
                    }
                    i = (i + 1).min(b.len());
                    let raw = text.get(start..i)?;
                    let s = if raw.len() > MAX_KEY + 2 {
                        None
                    } else if raw.contains('\\') {
                        serde_json::from_str::<String>(raw).ok()
                    } else {
                        raw.get(1..raw.len().saturating_sub(1)).map(str::to_string)
                    };
                    (tree.add(pos, Kids::Leaf), Some(s.unwrap_or_default()))
                }
                _ => {
                    while i < b.len()
                        && !matches!(
                            b[i],
                            b' ' | b'\t' | b'\n' | b'\r' | b',' | b':' | b'}' | b']'
                        )
                    {
                        i += 1;
                    }
                    (tree.add(pos, Kids::Leaf), None)
                }
            };
            let Some((parent, key)) = open.last_mut() else {
                continue;
            };
            let pos = tree.nodes[n].pos;
            match &mut tree.nodes[*parent].kids {
                Kids::Map(entries) => match key.take() {
                    None => *key = Some((key_text.unwrap_or_default(), pos)),
                    Some((name, at)) => entries.push((name, at, n)),
                },
                Kids::Seq(items) => items.push((pos, n)),
                Kids::Leaf => return None,
            }
        }
        (!tree.nodes.is_empty()).then_some(tree)
    }

    /// A TOML document with positions.
    pub fn toml(text: &str) -> Option<Tree> {
        let doc = toml_edit::ImDocument::parse(text).ok()?;
        let lines = Lines::new(text);
        let mut tree = Tree::default();
        let root = tree.add(Pos { line: 1, col: 1 }, Kids::Leaf);
        tree.toml_table(doc.as_table(), root, &lines, text, 0);
        Some(tree)
    }

    fn toml_table(
        &mut self,
        table: &dyn toml_edit::TableLike,
        node: usize,
        lines: &Lines,
        text: &str,
        depth: usize,
    ) {
        let here = self.nodes[node].pos;
        let mut entries = Vec::new();
        for (name, item) in table.iter() {
            let at = table
                .get_key_value(name)
                .and_then(|(k, _)| k.span())
                .or_else(|| item.span())
                .map_or(here, |s| lines.pos(text, s.start));
            let child = self.toml_item(item, at, lines, text, depth + 1);
            entries.push((name.to_string(), at, child));
        }
        self.nodes[node].kids = Kids::Map(entries);
    }

    fn toml_item(
        &mut self,
        item: &toml_edit::Item,
        at: Pos,
        lines: &Lines,
        text: &str,
        depth: usize,
    ) -> usize {
        let n = self.add(at, Kids::Leaf);
        if depth > MAX_DEPTH {
            return n;
        }
        match item {
            toml_edit::Item::Table(t) => self.toml_table(t, n, lines, text, depth),
            toml_edit::Item::ArrayOfTables(a) => {
                let mut items = Vec::new();
                for t in a.iter() {
                    let pos = t.span().map_or(at, |s| lines.pos(text, s.start));
                    let child = self.add(pos, Kids::Leaf);
                    self.toml_table(t, child, lines, text, depth + 1);
                    items.push((pos, child));
                }
                self.nodes[n].kids = Kids::Seq(items);
            }
            toml_edit::Item::Value(v) => self.toml_value(v, n, lines, text, depth),
            toml_edit::Item::None => {}
        }
        n
    }

    fn toml_value(
        &mut self,
        v: &toml_edit::Value,
        n: usize,
        lines: &Lines,
        text: &str,
        depth: usize,
    ) {
        let at = self.nodes[n].pos;
        match v {
            toml_edit::Value::InlineTable(t) => self.toml_table(t, n, lines, text, depth),
            toml_edit::Value::Array(a) => {
                let mut items = Vec::new();
                for v in a.iter() {
                    let pos = v.span().map_or(at, |s| lines.pos(text, s.start));
                    let child = self.add(pos, Kids::Leaf);
                    if depth < MAX_DEPTH {
                        self.toml_value(v, child, lines, text, depth + 1);
                    }
                    items.push((pos, child));
                }
                self.nodes[n].kids = Kids::Seq(items);
            }
            _ => {}
        }
    }
}

/// Byte offsets to lines and columns.
pub(crate) struct Lines {
    starts: Vec<usize>,
    /// The last offset asked for, its line and its column: the next one
    /// further along the same line counts characters from there (a plan
    /// written on one line would otherwise be counted from its start for
    /// every node).
    last: std::cell::Cell<(usize, usize, usize)>,
}

impl Lines {
    pub(crate) fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        Lines {
            starts,
            last: std::cell::Cell::new((0, 1, 0)),
        }
    }

    pub(crate) fn pos(&self, text: &str, offset: usize) -> Pos {
        let offset = offset.min(text.len());
        let line = self.starts.partition_point(|s| *s <= offset).max(1);
        let start = self.starts[line - 1];
        let (last_offset, last_line, last_col) = self.last.get();
        let (from, base) = if last_line == line && last_offset >= start && last_offset <= offset {
            (last_offset, last_col)
        } else {
            (start, 0)
        };
        let col = base + text.get(from..offset).map_or(0, |s| s.chars().count());
        self.last.set((offset, line, col));
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            col: u32::try_from(col + 1).unwrap_or(u32::MAX),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;
    use serde_json::json;

    fn at(tree: &Tree, path: Value) -> (u32, u32) {
        let p = tree.locate(&steps(&path).unwrap()).unwrap();
        (p.line, p.col)
    }

    const WORKFLOW: &str = "\
name: ci
on: [push]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - name: test
        run: cargo test
      - uses: actions/cache@v4
        with: &w
          path: target
  other:
    steps:
      - with: *w
";

    #[test]
    fn yaml_keys_items_and_the_deepest_existing_node() {
        let t = Tree::yaml(WORKFLOW, 1).unwrap();
        assert_eq!(
            at(&t, json!(["jobs", "build", "steps", 2, "uses"])),
            (10, 9)
        );
        assert_eq!(at(&t, json!(["jobs", "build", "steps", 1])), (8, 9));
        assert_eq!(at(&t, json!("/jobs/build/steps/0/uses")), (7, 9));
        assert_eq!(at(&t, json!(["jobs", "build", "permissions"])), (4, 3));
        assert_eq!(at(&t, json!(["on", 0])), (2, 6));
        assert_eq!(at(&t, json!([])), (1, 1));
        // An alias leads into its anchor's node, where the text is.
        assert_eq!(
            at(&t, json!(["jobs", "other", "steps", 0, "with", "path"])),
            (12, 11)
        );
        // An alias item is where the alias is written.
        let t2 = Tree::yaml("a:\n  - &co {uses: x}\nb:\n  - *co\n", 1).unwrap();
        assert_eq!(at(&t2, json!(["b", 0])), (4, 5));
        assert_eq!(at(&t2, json!(["b", 0, "uses"])), (2, 10));
        // A document that starts further down its file.
        let t = Tree::yaml("kind: Pod\nspec:\n  hostPID: true\n", 7).unwrap();
        assert_eq!(at(&t, json!(["spec", "hostPID"])), (9, 3));
    }

    #[test]
    fn yaml_merge_keys_and_flow_collections() {
        let text = "base: &b\n  a: 1\nderived:\n  <<: *b\n  c: {d: [1, {e: 2}]}\n";
        let t = Tree::yaml(text, 1).unwrap();
        assert_eq!(at(&t, json!(["derived", "a"])), (2, 3));
        assert_eq!(at(&t, json!(["derived", "c", "d", 1, "e"])), (5, 15));
    }

    #[test]
    fn json_and_toml() {
        let text = "{\n  \"a\": {\"b\": [10, {\"c\\/d\": true}]},\n  \"x\": \"é\", \"y\": 1\n}\n";
        let t = Tree::json(text).unwrap();
        assert_eq!(at(&t, json!(["a", "b", 1, "c/d"])), (2, 20));
        assert_eq!(at(&t, json!("/a/b/1/c~1d")), (2, 20));
        assert_eq!(at(&t, json!(["y"])), (3, 13));
        assert_eq!(at(&t, json!(["a", "b", 0])), (2, 15));
        let text = "[package]\nname = \"x\"\n\n[[bin]]\nname = \"a\"\n[[bin]]\nname = \"b\"\npath = { file = \"m.rs\", list = [1, 2] }\n";
        let t = Tree::toml(text).unwrap();
        assert_eq!(at(&t, json!(["package", "name"])), (2, 1));
        assert_eq!(at(&t, json!(["bin", 1, "name"])), (7, 1));
        assert_eq!(at(&t, json!(["bin", 1, "path", "list", 1])), (8, 36));
        assert_eq!(at(&t, json!(["bin", 1, "nothing", "here"])), (6, 1));
    }

    #[test]
    fn columns_on_one_long_line_and_back() {
        let text = "{\"a\": [1, {\"é\": 2}], \"b\": {\"c\": 3}}\n{}";
        let lines = Lines::new(text);
        let at = |o: usize| {
            let p = lines.pos(text, o);
            (p.line, p.col)
        };
        // Forward along the line, back, and onto the next line.
        assert_eq!(at(1), (1, 2));
        assert_eq!(at(text.find("2}").unwrap()), (1, 17));
        assert_eq!(at(text.find("\"b").unwrap()), (1, 22));
        assert_eq!(at(1), (1, 2));
        assert_eq!(at(text.rfind('{').unwrap()), (2, 1));
        assert_eq!(at(text.len() + 10), (2, 3));
        let t = Tree::json(text).unwrap();
        assert_eq!(
            t.locate(&steps(&json!(["a", 1, "é"])).unwrap()).unwrap(),
            Pos { line: 1, col: 12 }
        );
    }

    #[test]
    fn bad_paths_say_what_is_wrong() {
        assert!(steps(&json!(["a", -1])).unwrap_err().contains("-1"));
        assert!(steps(&json!(["a", 1.5])).is_err());
        assert!(steps(&json!([{"k": 1}])).is_err());
        assert!(
            steps(&json!("jobs/x"))
                .unwrap_err()
                .contains("JSON pointer")
        );
        assert!(steps(&json!(3)).is_err());
        assert_eq!(
            pointer(&steps(&json!(["a/b", 2, "~"])).unwrap()),
            "/a~1b/2/~0"
        );
    }

    #[test]
    fn deep_or_hostile_documents_stay_bounded() {
        let deep = "[".repeat(100_000);
        let t = Tree::json(&deep).unwrap();
        assert!(t.nodes.len() <= MAX_DEPTH);
        let deep_yaml = "[".repeat(10_000) + &"]".repeat(10_000);
        if let Some(t) = Tree::yaml(&deep_yaml, 1) {
            assert!(t.nodes.len() <= MAX_DEPTH + 1);
        }
        assert!(Tree::json("").is_none());
        assert!(Tree::yaml("a: [\n", 1).is_none());
    }
}
