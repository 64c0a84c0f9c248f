//! Streaming XML for reports: one event at a time from a buffered file, so
//! a report of any size is read in bounded memory. A DOCTYPE with an
//! internal subset (where entities are declared: billion laughs, external
//! entities) is refused; an external DTD named by a DOCTYPE (JaCoCo writes
//! one) is never read; references other than XML's five and character
//! references are errors.

use std::borrow::Cow;
use std::io::BufRead;

use quick_xml::events::{BytesRef, BytesStart, Event};

/// One report's reader, with the report's display path for messages.
pub struct Xml<R: BufRead> {
    reader: quick_xml::Reader<R>,
    buf: Vec<u8>,
    /// The report as the config names it.
    pub path: String,
    /// Where the report is read from, to turn a byte offset into a line.
    pub file: std::path::PathBuf,
    /// The elements open, innermost last: a file that ends with some open
    /// was cut short.
    open: Vec<Vec<u8>>,
}

/// What the reader hands on: the parts of XML the reports use.
pub enum Item {
    Start(Element),
    /// An element closed (`<a/>` gives `Start` then `End`).
    End(Vec<u8>),
    /// Text or CDATA content, references resolved.
    Text(String),
    Eof,
}

/// An element's local name and attributes (unescaped).
pub struct Element {
    pub name: Vec<u8>,
    pub attrs: Vec<(Vec<u8>, String)>,
    /// Byte offset where it starts.
    pub offset: u64,
}

impl Element {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == key.as_bytes())
            .map(|(_, v)| v.as_str())
    }

    pub fn is(&self, name: &str) -> bool {
        self.name == name.as_bytes()
    }
}

impl<R: BufRead> Xml<R> {
    pub fn new(input: R, path: &str, file: &std::path::Path) -> Self {
        let mut reader = quick_xml::Reader::from_reader(input);
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        Xml {
            reader,
            buf: Vec::with_capacity(64 << 10),
            path: path.to_string(),
            file: file.to_path_buf(),
            open: Vec::new(),
        }
    }

    /// An error at the reader's position: `path:line: message`.
    pub fn error_at(&self, offset: u64, message: &str) -> String {
        format!("{}:{}: {message}", self.path, line_of(&self.file, offset))
    }

    pub fn position(&self) -> u64 {
        self.reader.buffer_position()
    }

    pub fn next(&mut self) -> Result<Item, String> {
        loop {
            self.buf.clear();
            let at = self.reader.buffer_position();
            let (path, file) = (&self.path, &self.file);
            let fail = |offset: u64, m: &str| format!("{path}:{}: {m}", line_of(file, offset));
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(e) => e,
                Err(e) => {
                    let pos = self.reader.error_position();
                    return Err(fail(pos, &format!("not well-formed XML: {e}")));
                }
            };
            let item = match event {
                Event::Start(e) => {
                    let e = element(&e, at).map_err(|m| fail(at, &m))?;
                    self.open.push(e.name.clone());
                    Item::Start(e)
                }
                Event::End(e) => {
                    self.open.pop();
                    Item::End(e.local_name().as_ref().to_vec())
                }
                Event::Empty(_) => unreachable!("empty elements are expanded"),
                Event::Text(t) => {
                    let text = t.decode().map_err(|e| fail(at, &e.to_string()))?;
                    Item::Text(text.into_owned())
                }
                Event::CData(t) => {
                    let text = t.decode().map_err(|e| fail(at, &e.to_string()))?;
                    Item::Text(text.into_owned())
                }
                Event::GeneralRef(r) => {
                    Item::Text(reference(&r).map_err(|m| fail(at, &m))?.into_owned())
                }
                Event::DocType(d) => {
                    if d.contains(&b'[') {
                        return Err(fail(
                            at,
                            "a DOCTYPE with declarations is refused (entities could expand without bound or read other files)",
                        ));
                    }
                    continue;
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => continue,
                Event::Eof => {
                    if let Some(name) = self.open.last() {
                        let message = format!(
                            "the file ends inside <{}>: cut short (did the run that writes it finish?)",
                            String::from_utf8_lossy(name)
                        );
                        return Err(fail(at, &message));
                    }
                    Item::Eof
                }
            };
            return Ok(item);
        }
    }

    /// Skip to the end of the element just started (its content ignored).
    pub fn skip(&mut self, name: &[u8]) -> Result<(), String> {
        let mut depth = 1usize;
        loop {
            match self.next()? {
                Item::Start(e) if e.name == name => depth += 1,
                Item::End(n) if n == name => {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Item::Eof => return Err(self.error_at(self.position(), "the file ends early")),
                _ => {}
            }
        }
    }
}

fn element(e: &BytesStart<'_>, offset: u64) -> Result<Element, String> {
    let mut attrs = Vec::new();
    for a in e.attributes() {
        let a = a.map_err(|e| format!("not well-formed XML: {e}"))?;
        let value = a.unescape_value().map_err(|e| {
            format!(
                "attribute `{}`: {e}",
                String::from_utf8_lossy(a.key.as_ref())
            )
        })?;
        // The whole name: `x:failures` is not `failures`.
        attrs.push((a.key.as_ref().to_vec(), value.into_owned()));
    }
    Ok(Element {
        name: e.local_name().as_ref().to_vec(),
        attrs,
        offset,
    })
}

/// `&name;` in text: one of XML's five, or a character reference.
fn reference<'a>(r: &BytesRef<'a>) -> Result<Cow<'a, str>, String> {
    if r.is_char_ref() {
        return match r.resolve_char_ref() {
            Ok(Some(c)) => Ok(Cow::Owned(c.to_string())),
            _ => Err("an invalid character reference".into()),
        };
    }
    let name = r.decode().map_err(|e| e.to_string())?;
    Ok(Cow::Borrowed(match name.as_ref() {
        "lt" => "<",
        "gt" => ">",
        "amp" => "&",
        "apos" => "'",
        "quot" => "\"",
        other => {
            return Err(format!(
                "undefined entity `&{other};` (only XML's own are read)"
            ));
        }
    }))
}

/// The 1-based line of byte `offset` in `file` (read again, only for an
/// error message).
pub fn line_of(file: &std::path::Path, offset: u64) -> u64 {
    use std::io::Read;
    let Ok(f) = std::fs::File::open(file) else {
        return 1;
    };
    let mut line = 1u64;
    let mut reader = std::io::BufReader::new(f.take(offset));
    let mut chunk = [0u8; 64 << 10];
    while let Ok(n) = reader.read(&mut chunk) {
        if n == 0 {
            break;
        }
        line += chunk[..n].iter().filter(|&&b| b == b'\n').count() as u64;
    }
    line
}
