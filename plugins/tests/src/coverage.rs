//! Coverage reports → which lines of which repository file were measured
//! and which of those ran. Every format is read as a stream into one bitset
//! pair per file, so a 100 MB LCOV file costs bits, not maps.
//!
//! - LCOV (`llvm-cov export -format=lcov`, `cargo llvm-cov --lcov`, c8 and
//!   istanbul/nyc, `coverage lcov`, gcov via lcov): `SF:` and `DA:line,hits`;
//! - Cobertura XML (coverage.py's `coverage xml`, pytest-cov, gcovr,
//!   istanbul's cobertura reporter): each class's `lines/line`, paths under
//!   the report's `sources`;
//! - JaCoCo XML: each `sourcefile`'s `line` (`ci` > 0: covered), paths from
//!   the package name;
//! - Go cover profiles (`go test -coverprofile`): each block's lines;
//! - llvm-cov's JSON export (`cargo llvm-cov --json`, `llvm-cov export`):
//!   each file's segments, turned into lines as llvm-cov itself does.

use std::collections::BTreeMap;
use std::io::BufRead;

use serde::Deserialize;

use crate::paths::Resolver;
use crate::xml::{Element, Item, Xml};

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Lcov,
    Cobertura,
    Jacoco,
    GoCover,
    LlvmCovJson,
}

/// Lines beyond this are not a source file's.
const MAX_LINE: u32 = 1_000_000;

/// The lines of one file a report measured, and those that ran. LCOV
/// also says where functions start and where branches are; like
/// diff-cover, coverage on new code counts those lines too (a function's
/// first line ran when the function was called; a line with branches and
/// no line count ran when all its branches did, and a line counted 0 ran
/// when one of its branches did), while overall coverage stays the tool's
/// own line count.
#[derive(Debug, Default, Clone)]
pub struct FileCov {
    measured: Vec<u64>,
    covered: Vec<u64>,
    also_measured: Vec<u64>,
    also_covered: Vec<u64>,
}

fn set(words: &mut Vec<u64>, line: u32) {
    let word = (line / 64) as usize;
    if words.len() <= word {
        words.resize(word + 1, 0);
    }
    words[word] |= 1u64 << (line % 64);
}

fn bit(words: &[u64], line: u32) -> bool {
    words
        .get((line / 64) as usize)
        .is_some_and(|w| w & (1u64 << (line % 64)) != 0)
}

fn or(into: &mut Vec<u64>, from: &[u64]) {
    if into.len() < from.len() {
        into.resize(from.len(), 0);
    }
    for (i, w) in from.iter().enumerate() {
        into[i] |= w;
    }
}

fn last(words: &[u64]) -> u32 {
    words
        .iter()
        .rposition(|w| *w != 0)
        .map_or(0, |i| i as u32 * 64 + 63 - words[i].leading_zeros())
}

impl FileCov {
    fn mark(&mut self, line: u32, hit: bool) {
        set(&mut self.measured, line);
        if hit {
            set(&mut self.covered, line);
        }
    }

    /// A line LCOV knows from a function or branch record.
    fn mark_also(&mut self, line: u32, hit: bool) {
        set(&mut self.also_measured, line);
        if hit {
            set(&mut self.also_covered, line);
        }
    }

    /// Whether a line counts for coverage on new code, and if so whether
    /// it ran.
    pub fn new_code(&self, line: u32) -> Option<bool> {
        if bit(&self.measured, line) {
            Some(bit(&self.covered, line) || bit(&self.also_covered, line))
        } else if bit(&self.also_measured, line) {
            Some(bit(&self.also_covered, line))
        } else {
            None
        }
    }

    /// (covered, measured) lines, as the tool counts them.
    pub fn counts(&self) -> (u64, u64) {
        let ones = |w: &[u64]| w.iter().map(|x| u64::from(x.count_ones())).sum();
        (ones(&self.covered), ones(&self.measured))
    }

    /// The last line that counts for anything.
    pub fn last_line(&self) -> u32 {
        last(&self.measured).max(last(&self.also_measured))
    }

    fn merge(&mut self, other: &FileCov) {
        or(&mut self.measured, &other.measured);
        or(&mut self.covered, &other.covered);
        or(&mut self.also_measured, &other.also_measured);
        or(&mut self.also_covered, &other.also_covered);
    }
}

/// Coverage of a run, by repository path (or by the report's own path when
/// it is not a file of the repository).
#[derive(Debug, Default)]
pub struct Coverage {
    pub files: BTreeMap<String, FileCov>,
    /// Report paths that are not files of the repository.
    pub unmapped: std::collections::BTreeSet<String>,
    /// Go profiles: (covered, total) statements, Go's own measure.
    pub statements: Option<(u64, u64)>,
}

impl Coverage {
    /// (covered, measured) lines over every file.
    pub fn totals(&self) -> (u64, u64) {
        self.files.values().fold((0, 0), |(c, m), f| {
            let (fc, fm) = f.counts();
            (c + fc, m + fm)
        })
    }

    fn add(&mut self, key: String, file: &FileCov) {
        self.files.entry(key).or_default().merge(file);
    }
}

/// The percentage `covered` of `measured` (100 when nothing is measured).
pub fn percent(covered: u64, measured: u64) -> f64 {
    if measured == 0 {
        100.0
    } else {
        covered as f64 * 100.0 / measured as f64
    }
}

/// Read one report into `into`, its paths resolved to the repository's.
pub fn read<R: BufRead>(
    format: Format,
    input: R,
    path: &str,
    file: &std::path::Path,
    resolver: &Resolver,
    into: &mut Coverage,
) -> Result<(), String> {
    let mut raw: BTreeMap<String, FileCov> = BTreeMap::new();
    let mut sources = Vec::new();
    match format {
        Format::Lcov => lcov(input, path, &mut raw)?,
        Format::GoCover => go(input, path, &mut raw, into)?,
        Format::Cobertura => cobertura(&mut Xml::new(input, path, file), &mut raw, &mut sources)?,
        Format::Jacoco => jacoco(&mut Xml::new(input, path, file), &mut raw)?,
        Format::LlvmCovJson => llvm_cov_json(input, path, &mut raw)?,
    }
    let packages = matches!(format, Format::Jacoco | Format::GoCover);
    for (name, cov) in raw {
        let found = resolver
            .resolve(&name, &sources, packages)
            .map_err(|e| format!("{path}: {e}"))?;
        match found {
            Some(rel) => into.add(rel, &cov),
            None => {
                into.unmapped.insert(name.clone());
                into.add(name, &cov);
            }
        }
    }
    Ok(())
}

/// Lines of a line-based format, each at most this long.
const MAX_TEXT_LINE: usize = 1 << 20;

/// Call `f` with each line (without its end) and its 1-based number.
fn each_line<R: BufRead>(
    input: R,
    path: &str,
    mut f: impl FnMut(&str, u64) -> Result<(), String>,
) -> Result<(), String> {
    each_raw_line(
        input,
        path,
        |_| None,
        |bytes, number| {
            let line =
                std::str::from_utf8(bytes).map_err(|_| format!("{path}:{number}: not UTF-8"))?;
            f(line, number)
        },
    )
}

/// Call `f` with each line's bytes (without `\n` or `\r\n`) and its
/// 1-based number, reading in place from the buffer (a line is copied only
/// when it spans two reads). `fast` is offered the buffer at the start of
/// each line first: it may take the line itself (returning its length
/// with the `\n`) when it is of the common, simple kind.
fn each_raw_line<R: BufRead>(
    mut input: R,
    path: &str,
    mut fast: impl FnMut(&[u8]) -> Option<usize>,
    mut f: impl FnMut(&[u8], u64) -> Result<(), String>,
) -> Result<(), String> {
    let mut carry: Vec<u8> = Vec::new();
    let mut number = 0u64;
    let trim = |l: &[u8]| -> usize { l.len() - usize::from(l.last() == Some(&b'\r')) };
    loop {
        let chunk = input.fill_buf().map_err(|e| format!("{path}: {e}"))?;
        if chunk.is_empty() {
            if !carry.is_empty() {
                number += 1;
                f(&carry[..trim(&carry)], number)?;
            }
            return Ok(());
        }
        let mut start = 0;
        loop {
            if carry.is_empty()
                && let Some(taken) = fast(&chunk[start..])
            {
                number += 1;
                start += taken;
                continue;
            }
            let Some(at) = memchr::memchr(b'\n', &chunk[start..]) else {
                break;
            };
            let end = start + at;
            number += 1;
            if carry.is_empty() {
                let line = &chunk[start..end];
                f(&line[..trim(line)], number)?;
            } else {
                carry.extend_from_slice(&chunk[start..end]);
                f(&carry[..trim(&carry)], number)?;
                carry.clear();
            }
            start = end + 1;
        }
        carry.extend_from_slice(&chunk[start..]);
        if carry.len() > MAX_TEXT_LINE {
            return Err(format!("{path}:{}: a line longer than 1 MiB", number + 1));
        }
        let used = chunk.len();
        input.consume(used);
    }
}

fn line_number(text: &str, path: &str, number: u64) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_LINE).contains(&n) => Ok(n),
        _ => Err(format!("{path}:{number}: `{text}` is not a line number")),
    }
}

/// One LCOV record (`SF:` … `end_of_record`) being read.
#[derive(Default)]
struct Record {
    name: String,
    lines: FileCov,
    /// Function name → first line (`FN`), and calls (`FNDA`).
    functions: std::collections::HashMap<String, u32>,
    calls: std::collections::HashMap<String, bool>,
    /// (line, taken) of each branch (`BRDA`).
    branches: Vec<(u32, bool)>,
}

impl Record {
    fn finish(mut self) -> (String, FileCov) {
        // A line has a count (`DA`) when it is measured.
        self.branches.sort_unstable();
        for same in self.branches.chunk_by(|a, b| a.0 == b.0) {
            let line = same[0].0;
            let (total, taken) = (same.len(), same.iter().filter(|b| b.1).count());
            let counted = bit(&self.lines.measured, line);
            let ran = bit(&self.lines.covered, line);
            match (counted, ran) {
                (false, _) => self.lines.mark_also(line, taken == total),
                (true, false) if taken > 0 => self.lines.mark_also(line, true),
                _ => {}
            }
        }
        for (name, line) in &self.functions {
            if !bit(&self.lines.measured, *line) {
                let called = self.calls.get(name).copied().unwrap_or(false);
                self.lines.mark_also(*line, called);
            }
        }
        (self.name, self.lines)
    }
}

/// A count in LCOV: a number of executions (gcov may write a negative one,
/// read as not run; some tools write a float), or `-` (never taken).
fn ran(text: &str) -> Option<bool> {
    let text = text.trim();
    if text == "-" {
        return Some(false);
    }
    // Digits alone: ran when one is not 0, however many there are (as the
    // in-place scan reads them).
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Some(text.bytes().any(|b| b != b'0'));
    }
    match text.parse::<i128>() {
        Ok(h) => Some(h > 0),
        Err(_) => match text.parse::<f64>() {
            Ok(h) if h.is_finite() => Some(h > 0.0),
            _ => None,
        },
    }
}

/// A line number (at most 8 digits, 1 to [`MAX_LINE`]) at `from` in `buf`,
/// and where it ends.
fn line_at(buf: &[u8], from: usize) -> Option<(u32, usize)> {
    let mut i = from;
    let mut n: u32 = 0;
    while i < buf.len() && buf[i].is_ascii_digit() && i < from + 8 {
        n = n * 10 + u32::from(buf[i] - b'0');
        i += 1;
    }
    (i > from && (1..=MAX_LINE).contains(&n)).then_some((n, i))
}

/// A count (digits) at `from` in `buf`: whether it is not zero, and where
/// it ends.
fn count_at(buf: &[u8], from: usize) -> Option<(bool, usize)> {
    let mut i = from;
    let mut ran = false;
    while i < buf.len() && buf[i].is_ascii_digit() {
        ran |= buf[i] != b'0';
        i += 1;
    }
    (i > from).then_some((ran, i))
}

/// `byte` at `i` in `buf`, then what follows it.
fn expect(buf: &[u8], i: usize, byte: u8) -> Option<usize> {
    (buf.get(i) == Some(&byte)).then_some(i + 1)
}

/// `DA:<line>,<count>\n` at the start of `buf`, the bulk of a big LCOV
/// file: (line, ran, bytes taken with the newline); `None` for anything
/// else (the general reading decides).
fn scan_da(buf: &[u8]) -> Option<(u32, bool, usize)> {
    let (n, i) = line_at(buf, buf.strip_prefix(b"DA:").map(|_| 3)?)?;
    let (ran, i) = count_at(buf, expect(buf, i, b',')?)?;
    Some((n, ran, expect(buf, i, b'\n')?))
}

/// `BRDA:<line>,<block>,<branch>,<taken>\n` at the start of `buf`, like
/// [`scan_da`]: (line, taken, bytes taken with the newline).
fn scan_brda(buf: &[u8]) -> Option<(u32, bool, usize)> {
    let (n, mut i) = line_at(buf, buf.strip_prefix(b"BRDA:").map(|_| 5)?)?;
    for _ in 0..2 {
        i = count_at(buf, expect(buf, i, b',')?)?.1;
    }
    i = expect(buf, i, b',')?;
    let (taken, i) = match expect(buf, i, b'-') {
        Some(next) => (false, next),
        None => count_at(buf, i)?,
    };
    Some((n, taken, expect(buf, i, b'\n')?))
}

fn lcov<R: BufRead>(
    input: R,
    path: &str,
    out: &mut BTreeMap<String, FileCov>,
) -> Result<(), String> {
    let current: std::cell::RefCell<Option<Record>> = Default::default();
    let mut records = 0u64;
    let fast = |buf: &[u8]| {
        let mut current = current.borrow_mut();
        let r = current.as_mut()?;
        if let Some((l, hit, taken)) = scan_da(buf) {
            r.lines.mark(l, hit);
            return Some(taken);
        }
        let (l, hit, taken) = scan_brda(buf)?;
        r.branches.push((l, hit));
        Some(taken)
    };
    each_raw_line(input, path, fast, |bytes, number| {
        let mut current = current.borrow_mut();
        let line = std::str::from_utf8(bytes).map_err(|_| format!("{path}:{number}: not UTF-8"))?;
        let line = line.trim();
        if line.is_empty() {
            return Ok(());
        }
        if line == "end_of_record" {
            let (name, cov) = current
                .take()
                .ok_or_else(|| format!("{path}:{number}: end_of_record without SF"))?
                .finish();
            out.entry(name).or_default().merge(&cov);
            records += 1;
            return Ok(());
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(format!(
                "{path}:{number}: not an LCOV line: `{}`",
                clip(line)
            ));
        };
        if key == "SF" {
            if current.is_some() {
                return Err(format!(
                    "{path}:{number}: SF before the previous record's end_of_record"
                ));
            }
            *current = Some(Record {
                name: value.to_string(),
                ..Record::default()
            });
            return Ok(());
        }
        let in_record =
            |what: &str| format!("{path}:{number}: {what} outside a record (no SF before it)");
        let count = |text: &str| {
            ran(text).ok_or_else(|| format!("{path}:{number}: `{}` is not a count", clip(text)))
        };
        match key {
            "DA" => {
                let r = current.as_mut().ok_or_else(|| in_record("DA"))?;
                let mut parts = value.split(',');
                let l = line_number(parts.next().unwrap_or_default(), path, number)?;
                let hit = count(parts.next().unwrap_or_default())?;
                r.lines.mark(l, hit);
            }
            "BRDA" => {
                let r = current.as_mut().ok_or_else(|| in_record("BRDA"))?;
                let parts: Vec<&str> = value.split(',').collect();
                if parts.len() != 4 {
                    return Err(format!(
                        "{path}:{number}: BRDA needs line,block,branch,taken"
                    ));
                }
                let l = line_number(parts[0], path, number)?;
                let taken = count(parts[3])?;
                r.branches.push((l, taken));
            }
            "FN" => {
                let r = current.as_mut().ok_or_else(|| in_record("FN"))?;
                // FN:<line>,[<end line>,]<name>
                let (l, rest) = value
                    .split_once(',')
                    .ok_or_else(|| format!("{path}:{number}: FN needs line,name"))?;
                let l = line_number(l, path, number)?;
                let name = match rest.split_once(',') {
                    Some((end, name)) if end.trim().parse::<u32>().is_ok() => name,
                    _ => rest,
                };
                r.functions.insert(name.to_string(), l);
            }
            "FNDA" => {
                let r = current.as_mut().ok_or_else(|| in_record("FNDA"))?;
                let (hits, name) = value
                    .split_once(',')
                    .ok_or_else(|| format!("{path}:{number}: FNDA needs count,name"))?;
                let called = count(hits)?;
                let seen = r.calls.entry(name.to_string()).or_insert(false);
                *seen |= called;
            }
            k if k.bytes().all(|b| b.is_ascii_uppercase()) => {}
            _ => {
                return Err(format!(
                    "{path}:{number}: not an LCOV line: `{}`",
                    clip(line)
                ));
            }
        }
        Ok(())
    })?;
    if current.borrow().is_some() {
        return Err(format!("{path}: the last record has no end_of_record"));
    }
    if records == 0 {
        return Err(format!("{path}: no LCOV record (SF … end_of_record)"));
    }
    Ok(())
}

fn go<R: BufRead>(
    input: R,
    path: &str,
    out: &mut BTreeMap<String, FileCov>,
    into: &mut Coverage,
) -> Result<(), String> {
    let mut mode = false;
    let (mut covered, mut total) = into.statements.unwrap_or((0, 0));
    // A block listed twice (several test binaries) counts once.
    let mut blocks: std::collections::HashMap<String, (u64, bool)> = Default::default();
    each_line(input, path, |line, number| {
        if line.trim().is_empty() {
            return Ok(());
        }
        if !mode {
            if !line.starts_with("mode: ") {
                return Err(format!(
                    "{path}:{number}: not a Go cover profile (no `mode:` line)"
                ));
            }
            mode = true;
            return Ok(());
        }
        let bad = || {
            format!(
                "{path}:{number}: not a cover profile line: `{}`",
                clip(line)
            )
        };
        // file.go:12.34,15.2 3 1
        let (loc, rest) = line.rsplit_once(' ').ok_or_else(bad)?;
        let count: u64 = rest.trim().parse().map_err(|_| bad())?;
        let (loc, stmts) = loc.rsplit_once(' ').ok_or_else(bad)?;
        let stmts: u64 = stmts.trim().parse().map_err(|_| bad())?;
        let (file, span) = loc.rsplit_once(':').ok_or_else(bad)?;
        let (start, end) = span.split_once(',').ok_or_else(bad)?;
        let first = line_number(start.split_once('.').ok_or_else(bad)?.0, path, number)?;
        let last = line_number(end.split_once('.').ok_or_else(bad)?.0, path, number)?;
        if last < first {
            return Err(bad());
        }
        let cov = out.entry(file.to_string()).or_default();
        for l in first..=last {
            cov.mark(l, count > 0);
        }
        let e = blocks.entry(loc.to_string()).or_insert((stmts, false));
        e.1 |= count > 0;
        Ok(())
    })?;
    if !mode {
        return Err(format!("{path}: empty, not a Go cover profile"));
    }
    for (stmts, hit) in blocks.values() {
        total += stmts;
        if *hit {
            covered += stmts;
        }
    }
    into.statements = Some((covered, total));
    Ok(())
}

/// Whether the last elements open are `path`.
fn inside(stack: &[crate::xml::Name], path: &[&str]) -> bool {
    stack.len() >= path.len()
        && stack[stack.len() - path.len()..]
            .iter()
            .zip(path)
            .all(|(a, b)| **a == *b.as_bytes())
}

/// `true` when `e`, the first element, is `name`; else the error that the
/// file is not a `format` report.
fn is_root<R: BufRead>(
    xml: &Xml<R>,
    e: &Element,
    name: &str,
    format: &str,
) -> Result<bool, String> {
    if e.is(name) {
        Ok(true)
    } else {
        Err(xml.error_at(
            e.offset,
            &format!("not a {format} report: the root element is not <{name}>"),
        ))
    }
}

/// The line number in the attribute `key` of a `<line>` element.
fn line_attr<R: BufRead>(xml: &Xml<R>, e: &Element, key: &str) -> Result<u32, String> {
    let value = e.get(key).unwrap_or_default();
    match value.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_LINE).contains(&n) => Ok(n),
        _ => Err(xml.error_at(
            e.offset,
            &format!("<line {key}=\"{value}\"> is not a line number"),
        )),
    }
}

fn cobertura<R: BufRead>(
    xml: &mut Xml<R>,
    out: &mut BTreeMap<String, FileCov>,
    sources: &mut Vec<String>,
) -> Result<(), String> {
    let mut stack: Vec<crate::xml::Name> = Vec::new();
    let mut file: Option<String> = None;
    let mut source = String::new();
    let mut root = false;
    loop {
        match xml.next()? {
            Item::Eof => break,
            Item::Start(e) => {
                if stack.is_empty() {
                    root = is_root(xml, &e, "coverage", "Cobertura")?;
                }
                if e.is("class") {
                    file = Some(
                        e.get("filename")
                            .ok_or_else(|| xml.error_at(e.offset, "<class> without filename"))?
                            .to_string(),
                    );
                } else if e.is("line") && inside(&stack, &["class", "lines"]) {
                    let name = file.clone().unwrap_or_default();
                    let l = line_attr(xml, &e, "number")?;
                    let hits = e.get("hits").unwrap_or_default().trim();
                    let hit = match hits.parse::<f64>() {
                        Ok(h) if h.is_finite() => h > 0.0,
                        _ => {
                            return Err(xml.error_at(
                                e.offset,
                                &format!("<line hits=\"{hits}\"> is not a hit count"),
                            ));
                        }
                    };
                    out.entry(name).or_default().mark(l, hit);
                } else if e.is("source") {
                    source.clear();
                    xml.want_text(true);
                }
                stack.push(e.name);
            }
            Item::Text(t) => {
                if stack.last().is_some_and(|n| **n == *b"source") && source.len() < 4096 {
                    source.push_str(&t);
                }
            }
            Item::End(name) => {
                if name == b"source" {
                    xml.want_text(false);
                    sources.push(source.trim().to_string());
                } else if name == b"class" {
                    file = None;
                }
                stack.pop();
            }
        }
    }
    if !root {
        return Err(format!(
            "{}: not a Cobertura report: no <coverage>",
            xml.path
        ));
    }
    Ok(())
}

fn jacoco<R: BufRead>(xml: &mut Xml<R>, out: &mut BTreeMap<String, FileCov>) -> Result<(), String> {
    let mut stack: Vec<crate::xml::Name> = Vec::new();
    let mut package = String::new();
    let mut file: Option<String> = None;
    let mut root = false;
    loop {
        match xml.next()? {
            Item::Eof => break,
            Item::Start(e) => {
                if stack.is_empty() {
                    root = is_root(xml, &e, "report", "JaCoCo")?;
                }
                if e.is("package") {
                    package = e.get("name").unwrap_or_default().to_string();
                } else if e.is("sourcefile") {
                    let name = e
                        .get("name")
                        .ok_or_else(|| xml.error_at(e.offset, "<sourcefile> without name"))?;
                    file = Some(if package.is_empty() {
                        name.to_string()
                    } else {
                        format!("{package}/{name}")
                    });
                } else if e.is("line") && inside(&stack, &["sourcefile"]) {
                    let l = line_attr(xml, &e, "nr")?;
                    let ci = e.get("ci").unwrap_or("0").trim();
                    let ci: u64 = ci.parse().map_err(|_| {
                        xml.error_at(e.offset, &format!("<line ci=\"{ci}\"> is not a count"))
                    })?;
                    out.entry(file.clone().unwrap_or_default())
                        .or_default()
                        .mark(l, ci > 0);
                }
                stack.push(e.name);
            }
            Item::End(name) => {
                if name == b"sourcefile" {
                    file = None;
                }
                stack.pop();
            }
            Item::Text(_) => {}
        }
    }
    if !root {
        return Err(format!("{}: not a JaCoCo report: no <report>", xml.path));
    }
    Ok(())
}

fn clip(s: &str) -> String {
    let s: String = s.chars().take(80).collect();
    portcullis_sdk::text::escape_controls(&s)
}

/// `llvm-cov export` (what `cargo llvm-cov --json` writes): the parts read.
#[derive(Deserialize)]
struct LlvmExport {
    #[serde(rename = "type")]
    kind: Option<String>,
    data: Vec<LlvmData>,
}

#[derive(Deserialize)]
struct LlvmData {
    files: Vec<LlvmFile>,
}

#[derive(Deserialize)]
struct LlvmFile {
    filename: String,
    segments: Vec<Segment>,
}

/// `[line, column, count, has count, is region entry, is gap region]`
/// (the last one absent in older exports).
#[derive(Deserialize)]
struct Segment(
    u32,
    serde::de::IgnoredAny,
    u64,
    bool,
    bool,
    #[serde(default)] bool,
);

fn llvm_cov_json<R: BufRead>(
    input: R,
    path: &str,
    out: &mut BTreeMap<String, FileCov>,
) -> Result<(), String> {
    let export: LlvmExport = serde_json::from_reader(input).map_err(|e| {
        format!(
            "{path}:{}:{}: not llvm-cov's JSON export: {e}",
            e.line(),
            e.column()
        )
    })?;
    if export.kind.as_deref() != Some("llvm.coverage.json.export") {
        return Err(format!(
            "{path}: not llvm-cov's JSON export (its `type` is not \"llvm.coverage.json.export\")"
        ));
    }
    for file in export.data.into_iter().flat_map(|d| d.files) {
        if let Some(s) = file
            .segments
            .iter()
            .find(|s| !(1..=MAX_LINE).contains(&s.0))
        {
            return Err(format!(
                "{path}: `{}` has a segment at line {}, not a line number",
                portcullis_sdk::text::escape_controls(&file.filename),
                s.0
            ));
        }
        let cov = out.entry(file.filename).or_default();
        for (line, ran) in llvm_lines(&file.segments) {
            cov.mark(line, ran);
        }
    }
    Ok(())
}

/// Each line llvm-cov counts, and whether it ran, from a file's segments
/// in order, the way llvm-cov's own line statistics read them: a line is
/// counted when a region with a count starts on it (not a gap, not a
/// skipped region) or a region with a count runs into it from above; its
/// count is the largest of those.
fn llvm_lines(segments: &[Segment]) -> Vec<(u32, bool)> {
    let mut lines = Vec::new();
    let Some(first) = segments.first() else {
        return lines;
    };
    let mut line = first.0;
    let mut i = 0;
    let mut wrapped: Option<&Segment> = None;
    while i < segments.len() {
        let start = i;
        while i < segments.len() && segments[i].0 <= line {
            i += 1;
        }
        let here = &segments[start..i];
        let starts_region = |s: &&Segment| !s.5 && s.3 && s.4;
        let starts = here.iter().filter(starts_region).count();
        let skipped = here.first().is_some_and(|s| !s.3 && s.4);
        let mapped = !skipped && (wrapped.is_some_and(|w| w.3) || starts > 0);
        if mapped {
            let mut count = wrapped.map_or(0, |w| w.2);
            for s in here.iter().filter(starts_region) {
                count = count.max(s.2);
            }
            lines.push((line, count > 0));
        }
        if let Some(last) = here.last() {
            wrapped = Some(last);
        }
        line = line.saturating_add(1);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines read in place (LF) and by the general reader (CRLF) agree.
    #[test]
    fn the_in_place_scan_reads_lcov_as_the_general_reader_does() {
        let records = [
            "SF:a.py",
            "DA:3,0",
            "DA:4,12",
            "DA:5,1,abc",
            "DA:6,0",
            "BRDA:6,0,0,-",
            "BRDA:6,0,1,3",
            "BRDA:8,0,0,1",
            "BRDA:8,0,1,1",
            "BRDA:9,0,0,0",
            "FN:10,f",
            "FNDA:1,f",
            "DA:11,000",
            "end_of_record",
        ];
        let read = |eol: &str| {
            let text = records.join(eol) + eol;
            let mut out = BTreeMap::new();
            lcov(text.as_bytes(), "t.lcov", &mut out).expect("read");
            out.remove("a.py").expect("a.py")
        };
        let (lf, crlf) = (read("\n"), read("\r\n"));
        let view = |f: &FileCov| -> Vec<(u32, Option<bool>)> {
            (1..=12).map(|l| (l, f.new_code(l))).collect()
        };
        assert_eq!(view(&lf), view(&crlf));
        assert_eq!(lf.counts(), crlf.counts());
        // DA 3, 6, 11 did not run (6 ran a branch: new code counts it);
        // 8: both branches taken; 9: not; 10: a called function.
        assert_eq!(lf.counts(), (2, 5));
        assert_eq!(
            view(&lf)
                .into_iter()
                .filter_map(|(l, r)| r.map(|r| (l, r)))
                .collect::<Vec<_>>(),
            [
                (3, false),
                (4, true),
                (5, true),
                (6, true),
                (8, true),
                (9, false),
                (10, true),
                (11, false)
            ]
        );
    }
}
