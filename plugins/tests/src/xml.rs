//! Streaming XML for reports: one event at a time from a buffered file, so
//! a report of any size is read in bounded memory. A DOCTYPE with an
//! internal subset (where entities are declared: billion laughs, external
//! entities) is refused; an external DTD named by a DOCTYPE (JaCoCo writes
//! one) is never read; references other than XML's five and character
//! references are errors. Text runs longer than [`compact::KEEP`] are
//! checked and cut before the reader holds them ([`compact`]).

mod compact;

use std::borrow::Cow;
use std::io::BufRead;

use quick_xml::events::{BytesRef, BytesStart, Event};

/// One report's reader, with the report's display path for messages.
pub struct Xml<R: BufRead> {
    reader: quick_xml::Reader<compact::Compact<R>>,
    buf: Vec<u8>,
    /// The report as the config names it.
    pub path: String,
    /// Where the report is read from, to turn a byte offset into a line.
    pub file: std::path::PathBuf,
    /// The elements open, innermost last: a file that ends with some open
    /// was cut short.
    open: Vec<Name>,
    /// Whether text is handed on; when not (between elements), it is
    /// skipped undecoded.
    text: bool,
}

/// What the reader hands on: the parts of XML the reports use.
// Boxing `Element` would allocate for every element of a report; moving it
// costs less.
#[allow(clippy::large_enum_variant)]
pub enum Item {
    Start(Element),
    /// An element closed (`<a/>` gives `Start` then `End`).
    End(Name),
    /// Text or CDATA content, references resolved.
    Text(String),
    Eof,
}

/// An element's local name, kept inline when short (every name the
/// reports use is), so reading an element allocates nothing for it.
#[derive(Clone, PartialEq, Eq)]
pub enum Name {
    Inline(u8, [u8; 31]),
    Heap(Box<[u8]>),
}

impl Name {
    fn new(bytes: &[u8]) -> Name {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= 31 => {
                let mut buf = [0u8; 31];
                buf[..bytes.len()].copy_from_slice(bytes);
                Name::Inline(len, buf)
            }
            _ => Name::Heap(bytes.into()),
        }
    }
}

impl std::ops::Deref for Name {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Name::Inline(len, buf) => &buf[..usize::from(*len)],
            Name::Heap(b) => b,
        }
    }
}

impl<const N: usize> PartialEq<&[u8; N]> for Name {
    fn eq(&self, other: &&[u8; N]) -> bool {
        **self == other[..]
    }
}

/// The attributes the reports use; others are skipped unread.
const KEYS: [&str; 16] = [
    "name",
    "classname",
    "file",
    "filepath",
    "line",
    "time",
    "message",
    "failures",
    "errors",
    "filename",
    "number",
    "hits",
    "nr",
    "ci",
    "type",
    "tests",
];

/// An element's local name and the attributes of [`KEYS`] it has
/// (unescaped; a prefixed name such as `x:failures` is another attribute).
pub struct Element {
    pub name: Name,
    attrs: [Option<String>; KEYS.len()],
    /// Byte offset where it starts.
    pub offset: u64,
}

impl Element {
    fn slot(key: &str) -> usize {
        KEYS.iter()
            .position(|k| *k == key)
            .unwrap_or_else(|| unreachable!("`{key}` is not among the attributes read"))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.attrs[Self::slot(key)].as_deref()
    }

    /// The attribute's value, moved out.
    pub fn take(&mut self, key: &str) -> Option<String> {
        self.attrs[Self::slot(key)].take()
    }

    pub fn is(&self, name: &str) -> bool {
        *self.name == *name.as_bytes()
    }
}

impl<R: BufRead> Xml<R> {
    pub fn new(input: R, path: &str, file: &std::path::Path) -> Self {
        let mut reader = quick_xml::Reader::from_reader(compact::Compact::new(input));
        let config = reader.config_mut();
        config.expand_empty_elements = true;
        config.check_end_names = true;
        Xml {
            reader,
            buf: Vec::with_capacity(64 << 10),
            path: path.to_string(),
            file: file.to_path_buf(),
            open: Vec::new(),
            text: false,
        }
    }

    /// Hand on text (`true`) or skip it (`false`, the default).
    pub fn want_text(&mut self, on: bool) {
        self.text = on;
    }

    /// An error at the reader's position: `path:line: message`.
    pub fn error_at(&self, offset: u64, message: &str) -> String {
        format!("{}:{}: {message}", self.path, line_of(&self.file, offset))
    }

    /// The file offset the reader is at.
    pub fn position(&self) -> u64 {
        self.reader.get_ref().raw(self.reader.buffer_position())
    }

    pub fn next(&mut self) -> Result<Item, String> {
        loop {
            self.buf.clear();
            let at = self.position();
            let (path, file) = (&self.path, &self.file);
            let fail = |offset: u64, m: &str| format!("{path}:{}: {m}", line_of(file, offset));
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(e) => e,
                Err(e) => {
                    let compact = self.reader.get_ref();
                    if let Some((pos, problem)) = &compact.problem {
                        return Err(fail(*pos, problem));
                    }
                    let pos = compact.raw(self.reader.error_position());
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
                    Item::End(Name::new(e.local_name().as_ref()))
                }
                Event::Empty(_) => unreachable!("empty elements are expanded"),
                // Skipped text is still checked: a reference must be one of
                // XML's, and text must be UTF-8, wherever they are.
                Event::GeneralRef(r) if !self.text => {
                    reference(&r).map_err(|m| fail(at, &m))?;
                    continue;
                }
                Event::Text(t) if !self.text => {
                    if std::str::from_utf8(&t).is_err() {
                        return Err(fail(at, "text that is not UTF-8"));
                    }
                    continue;
                }
                Event::CData(t) if !self.text => {
                    if std::str::from_utf8(&t).is_err() {
                        return Err(fail(at, "text that is not UTF-8"));
                    }
                    continue;
                }
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
                            String::from_utf8_lossy(&name[..])
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
                Item::Start(e) if *e.name == *name => depth += 1,
                Item::End(n) if *n == *name => {
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
    let mut attrs: [Option<String>; KEYS.len()] = Default::default();
    for a in e.attributes() {
        let a = a.map_err(|e| format!("not well-formed XML: {e}"))?;
        // The whole name: `x:failures` is not `failures`.
        let Some(slot) = KEYS.iter().position(|k| k.as_bytes() == a.key.as_ref()) else {
            // Not read, but checked like the rest: references must be XML's.
            if a.value.contains(&b'&') {
                a.unescape_value().map_err(|e| {
                    format!(
                        "attribute `{}`: {e}",
                        String::from_utf8_lossy(a.key.as_ref())
                    )
                })?;
            }
            continue;
        };
        let value = a.unescape_value().map_err(|e| {
            format!(
                "attribute `{}`: {e}",
                String::from_utf8_lossy(a.key.as_ref())
            )
        })?;
        attrs[slot] = Some(value.into_owned());
    }
    Ok(Element {
        name: Name::new(e.local_name().as_ref()),
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
