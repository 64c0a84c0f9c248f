//! Long text cut short before the XML reader sees it, so one text node of
//! any size (a test's `<system-out>` of hundreds of megabytes) costs a
//! bounded buffer: of each run of text or CDATA, the first [`KEEP`] bytes
//! are handed on, and the rest is checked as the reader would check it
//! (UTF-8; in text, only XML's own references) and dropped. Markup is
//! handed on byte for byte. Offsets the reader reports are mapped back to
//! the file's with [`Compact::raw`].

use std::io::{self, BufRead, Read};

/// Bytes of each text or CDATA run handed on (messages keep far less).
pub const KEEP: u64 = 64 << 10;

/// Where the scanner is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Text,
    /// After `<`: how much of `![CDATA[` (1–7) or `!-` (`DASH`) matched.
    Open(u8),
    /// In a tag: the quote it is inside (0: none).
    Tag(u8),
    /// In a declaration (`<!DOCTYPE …>`): ended by the first `>`, as the
    /// XML reader ends it (quotes do not count there); a `<` or `[` in it
    /// is refused, as the reader refuses a DOCTYPE with declarations.
    Decl,
    /// In a comment: how many `-` just passed.
    Comment(u8),
    /// In a processing instruction: whether `?` just passed.
    Pi(bool),
    /// In CDATA: how many `]` just passed.
    CData(u8),
}

/// `State::Open` after `<!-`.
const DASH: u8 = 100;
const CDATA: &[u8] = b"![CDATA[";

pub struct Compact<R> {
    inner: R,
    state: State,
    /// Bytes of the current text or CDATA run so far.
    run: u64,
    /// Dropping the rest of the current run.
    dropping: bool,
    /// The text handed on is inside a reference (never cut there).
    kept_reference: bool,
    /// An incomplete UTF-8 sequence at the end of what was dropped.
    partial: Vec<u8>,
    /// A reference being read in dropped text.
    reference: Option<Vec<u8>>,
    out: Vec<u8>,
    out_at: usize,
    /// Bytes read from the file, and handed on.
    raw_pos: u64,
    out_pos: u64,
    /// (offset handed on, bytes dropped before it), in order.
    map: Vec<(u64, u64)>,
    dropped: u64,
    /// The first problem found in dropped bytes, with its file offset.
    pub problem: Option<(u64, String)>,
    /// Spans handled at once (off: byte by byte, to test one against the
    /// other).
    spans: bool,
}

impl<R: BufRead> Compact<R> {
    pub fn new(inner: R) -> Compact<R> {
        Compact {
            inner,
            state: State::Text,
            run: 0,
            dropping: false,
            kept_reference: false,
            partial: Vec::new(),
            reference: None,
            out: Vec::with_capacity(64 << 10),
            out_at: 0,
            raw_pos: 0,
            out_pos: 0,
            map: Vec::new(),
            dropped: 0,
            problem: None,
            spans: true,
        }
    }

    /// The file offset of `offset` in what was handed on.
    pub fn raw(&self, offset: u64) -> u64 {
        let i = self.map.partition_point(|(at, _)| *at <= offset);
        offset + if i == 0 { 0 } else { self.map[i - 1].1 }
    }

    fn fail(&mut self, at: u64, message: &str) -> io::Error {
        if self.problem.is_none() {
            self.problem = Some((at, message.to_string()));
        }
        io::Error::new(io::ErrorKind::InvalidData, message.to_string())
    }

    fn emit(&mut self, b: u8) {
        self.out.push(b);
        self.out_pos += 1;
    }

    fn stop_dropping(&mut self, at: u64) -> io::Result<()> {
        if !self.partial.is_empty() {
            return Err(self.fail(at, "text that is not UTF-8"));
        }
        if self.reference.is_some() {
            return Err(self.fail(at, "a reference with no `;`"));
        }
        self.dropping = false;
        self.map.push((self.out_pos, self.dropped));
        Ok(())
    }

    /// Check a dropped byte as the reader would check it: UTF-8, and in
    /// text (not CDATA) references.
    fn drop_byte(&mut self, b: u8, at: u64, text: bool) -> io::Result<()> {
        self.dropped += 1;
        if b >= 0x80 || !self.partial.is_empty() {
            self.partial.push(b);
            match std::str::from_utf8(&self.partial) {
                Ok(_) => self.partial.clear(),
                Err(e) if e.error_len().is_none() => {}
                Err(_) => return Err(self.fail(at, "text that is not UTF-8")),
            }
        }
        if !text {
            return Ok(());
        }
        match (&mut self.reference, b) {
            (None, b'&') => self.reference = Some(Vec::new()),
            (None, _) => {}
            (Some(name), b';') => {
                let name = std::mem::take(name);
                self.reference = None;
                if !known_reference(&name) {
                    let shown = String::from_utf8_lossy(&name).into_owned();
                    return Err(self.fail(
                        at,
                        &format!("undefined entity `&{shown};` (only XML's own are read)"),
                    ));
                }
            }
            (Some(name), _) if name.len() < 16 && (b.is_ascii_alphanumeric() || b == b'#') => {
                name.push(b)
            }
            (Some(_), _) => return Err(self.fail(at, "an invalid reference")),
        }
        Ok(())
    }

    /// A tag's next byte.
    fn tag(quote: u8, b: u8) -> State {
        match (quote, b) {
            (0, b'"' | b'\'') => State::Tag(b),
            (0, b'>') => State::Text,
            (q, c) if q != 0 && q == c => State::Tag(0),
            _ => State::Tag(quote),
        }
    }

    /// A declaration's next byte.
    fn decl(&mut self, b: u8, at: u64) -> io::Result<State> {
        match b {
            b'>' => Ok(State::Text),
            b'<' | b'[' => Err(self.fail(
                at,
                "a DOCTYPE with declarations is refused (entities could expand without bound or read other files)",
            )),
            _ => Ok(State::Decl),
        }
    }

    /// The bytes at the start of `rest` that need no decision one by one
    /// (plain text, CDATA with no `]`, a quoted attribute value), handled
    /// at once; 0 when the next byte needs [`Compact::step`].
    fn span(&mut self, rest: &[u8]) -> io::Result<usize> {
        let room = KEEP.saturating_sub(self.run);
        let (end, keep) = match self.state {
            State::Text if !self.dropping && !self.kept_reference && room > 0 => {
                let end = memchr::memchr2(b'<', b'&', rest).unwrap_or(rest.len());
                (end.min(usize::try_from(room).unwrap_or(usize::MAX)), true)
            }
            State::Text if self.dropping && self.reference.is_none() && self.partial.is_empty() => {
                (
                    memchr::memchr2(b'<', b'&', rest).unwrap_or(rest.len()),
                    false,
                )
            }
            State::CData(0) if !self.dropping && room > 0 => {
                let end = memchr::memchr(b']', rest).unwrap_or(rest.len());
                (end.min(usize::try_from(room).unwrap_or(usize::MAX)), true)
            }
            State::CData(0) if self.dropping && self.partial.is_empty() => {
                (memchr::memchr(b']', rest).unwrap_or(rest.len()), false)
            }
            State::Tag(quote) if quote != 0 => {
                (memchr::memchr(quote, rest).unwrap_or(rest.len()), true)
            }
            State::Tag(0) => (
                memchr::memchr3(b'"', b'\'', b'>', rest).unwrap_or(rest.len()),
                true,
            ),
            _ => return Ok(0),
        };
        let span = &rest[..end];
        if keep {
            if matches!(self.state, State::Text | State::CData(_)) {
                self.run += end as u64;
            }
            self.out.extend_from_slice(span);
            self.out_pos += end as u64;
        } else {
            // Dropped: UTF-8 checked, an incomplete character at the end
            // kept for the next bytes.
            if let Err(e) = std::str::from_utf8(span) {
                if e.error_len().is_some() {
                    let at = self.raw_pos + e.valid_up_to() as u64;
                    return Err(self.fail(at, "text that is not UTF-8"));
                }
                self.partial.extend_from_slice(&span[e.valid_up_to()..]);
            }
            self.run += end as u64;
            self.dropped += end as u64;
        }
        self.raw_pos += end as u64;
        Ok(end)
    }

    /// One byte of the file.
    fn step(&mut self, b: u8) -> io::Result<()> {
        let at = self.raw_pos;
        self.raw_pos += 1;
        match self.state {
            State::Text => {
                if b == b'<' {
                    if self.dropping {
                        self.stop_dropping(at)?;
                    }
                    self.state = State::Open(0);
                    self.run = 0;
                    self.kept_reference = false;
                    self.emit(b);
                    return Ok(());
                }
                self.run += 1;
                if !self.dropping && self.run > KEEP {
                    if self.kept_reference {
                        // A reference is short: this one never ends.
                        if self.run > KEEP + 32 {
                            return Err(self.fail(at, "an invalid reference"));
                        }
                    } else if b & 0xC0 != 0x80 {
                        self.dropping = true;
                    }
                }
                if self.dropping {
                    return self.drop_byte(b, at, true);
                }
                match b {
                    b'&' => self.kept_reference = true,
                    b';' => self.kept_reference = false,
                    _ => {}
                }
                self.emit(b);
                Ok(())
            }
            State::Open(seen) => {
                self.emit(b);
                let n = usize::from(seen);
                self.state = match (seen, b) {
                    (0, b'?') => State::Pi(false),
                    (1, b'-') => State::Open(DASH),
                    (DASH, b'-') => State::Comment(0),
                    _ if n < CDATA.len() && CDATA[n] == b => {
                        if n + 1 == CDATA.len() {
                            self.run = 0;
                            State::CData(0)
                        } else {
                            State::Open(seen + 1)
                        }
                    }
                    // After `<!`: a declaration (DOCTYPE); else a tag.
                    _ if seen >= 1 => self.decl(b, at)?,
                    _ => Self::tag(0, b),
                };
                Ok(())
            }
            State::Tag(quote) => {
                self.emit(b);
                self.state = Self::tag(quote, b);
                Ok(())
            }
            State::Decl => {
                self.emit(b);
                self.state = self.decl(b, at)?;
                Ok(())
            }
            State::Comment(dashes) => {
                self.emit(b);
                self.state = match b {
                    b'-' => State::Comment(dashes.saturating_add(1)),
                    b'>' if dashes >= 2 => State::Text,
                    _ => State::Comment(0),
                };
                Ok(())
            }
            State::Pi(question) => {
                self.emit(b);
                self.state = match b {
                    b'>' if question => State::Text,
                    _ => State::Pi(b == b'?'),
                };
                Ok(())
            }
            State::CData(brackets) => {
                if b == b'>' && brackets >= 2 {
                    if self.dropping {
                        // The `]]` before this `>` were held back: they
                        // are handed on with it.
                        self.dropped -= 2;
                        self.stop_dropping(at - 2)?;
                        self.emit(b']');
                        self.emit(b']');
                    }
                    self.emit(b);
                    self.state = State::Text;
                    self.run = 0;
                    return Ok(());
                }
                self.state = State::CData(if b == b']' {
                    brackets.saturating_add(1)
                } else {
                    0
                });
                self.run += 1;
                // Never cut inside a character, nor between `]`s.
                if !self.dropping && self.run > KEEP && b & 0xC0 != 0x80 && b != b']' {
                    self.dropping = true;
                }
                if self.dropping {
                    self.drop_byte(b, at, false)
                } else {
                    self.emit(b);
                    Ok(())
                }
            }
        }
    }
}

/// `&name;`: one of XML's five, or a character reference to a character.
fn known_reference(name: &[u8]) -> bool {
    match name {
        b"lt" | b"gt" | b"amp" | b"apos" | b"quot" => true,
        [b'#', b'x', hex @ ..] if !hex.is_empty() => std::str::from_utf8(hex)
            .ok()
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .and_then(char::from_u32)
            .is_some_and(|c| c != '\0'),
        [b'#', dec @ ..] if !dec.is_empty() => std::str::from_utf8(dec)
            .ok()
            .and_then(|d| d.parse::<u32>().ok())
            .and_then(char::from_u32)
            .is_some_and(|c| c != '\0'),
        _ => false,
    }
}

impl<R: BufRead> Read for Compact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = {
            let got = self.fill_buf()?;
            let n = got.len().min(buf.len());
            buf[..n].copy_from_slice(&got[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Compact<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.out_at >= self.out.len() {
            self.out.clear();
            self.out_at = 0;
            let chunk = self.inner.fill_buf()?;
            if self.raw_pos == 0 && chunk.starts_with(b"\xEF\xBB\xBF") {
                // The reader would drop a byte order mark without counting
                // it in its offsets: it is dropped here, and counted.
                self.inner.consume(3);
                self.raw_pos = 3;
                self.dropped = 3;
                self.map.push((0, 3));
                continue;
            }
            if chunk.is_empty() {
                if self.dropping {
                    if !self.partial.is_empty() || self.reference.is_some() {
                        let at = self.raw_pos;
                        return Err(
                            self.fail(at, "the file ends inside a character or a reference")
                        );
                    }
                    // Offsets at the end are the file's end.
                    self.dropping = false;
                    self.map.push((self.out_pos, self.dropped));
                }
                break;
            }
            let chunk = chunk.to_vec();
            let mut i = 0;
            while i < chunk.len() {
                let n = if self.spans {
                    self.span(&chunk[i..])?
                } else {
                    0
                };
                if n == 0 {
                    self.step(chunk[i])?;
                    i += 1;
                } else {
                    i += n;
                }
            }
            self.inner.consume(chunk.len());
        }
        Ok(&self.out[self.out_at..])
    }

    fn consume(&mut self, amt: usize) {
        self.out_at = (self.out_at + amt).min(self.out.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xml::{Item, Xml};

    fn through(input: &[u8]) -> io::Result<Vec<u8>> {
        let mut c = Compact::new(io::BufReader::with_capacity(1000, input));
        let mut out = Vec::new();
        c.read_to_end(&mut out)?;
        Ok(out)
    }

    /// Every item of `text`, as the report readers get them; `Err` with
    /// the message (`path:line: …`). The file is written for line numbers.
    fn items(text: &[u8]) -> Result<Vec<String>, String> {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("r.xml");
        std::fs::write(&file, text).expect("write");
        let mut xml = Xml::new(
            io::BufReader::new(std::fs::File::open(&file).expect("open")),
            "r.xml",
            &file,
        );
        xml.want_text(true);
        let mut out = Vec::new();
        loop {
            match xml.next()? {
                Item::Eof => return Ok(out),
                Item::Start(e) => out.push(format!("<{}>", String::from_utf8_lossy(&e.name))),
                Item::End(n) => out.push(format!("</{}>", String::from_utf8_lossy(&n))),
                Item::Text(t) => out.push(format!("{} bytes", t.len())),
            }
        }
    }

    /// Spans handled at once give what byte-by-byte scanning gives, on
    /// documents made of every kind of part, cut anywhere.
    #[test]
    fn spans_agree_with_single_bytes() {
        let long_cdata = format!("<![CDATA[{}]]>", "ab]c]]d é ".repeat(10_000));
        let parts: [&[u8]; 12] = [
            b"<!DOCTYPE x PUBLIC \"a>b\" 'c'>",
            "é".as_bytes(),
            b"&amp;",
            b"&#233;",
            b"<a x=\"]>\" y='<'>",
            b"</a>",
            b"<![CDATA[ ]] ]]] x ]]>",
            b"<!-- - -- > -->",
            b"<?pi ? > ?>",
            b"]]",
            b"plain text ",
            long_cdata.as_bytes(),
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut cut = 0;
        for round in 0..40 {
            let mut doc = Vec::new();
            let target = [1_000, 70_000, 140_000, 300_000][round % 4];
            while doc.len() < target {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let i = (seed % parts.len() as u64) as usize;
                // Long runs of text cross the cut.
                let times = match i {
                    1 | 2 | 3 | 9 | 10 if seed.is_multiple_of(3) => 20_000,
                    _ => 1,
                };
                for _ in 0..times {
                    doc.extend_from_slice(parts[i]);
                }
            }
            let run = |spans: bool, capacity: usize| {
                let mut c = Compact::new(io::BufReader::with_capacity(capacity, &doc[..]));
                c.spans = spans;
                let mut out = Vec::new();
                let ok = c.read_to_end(&mut out).is_ok();
                (ok, out, c.map.clone())
            };
            let bytes = run(false, 4096);
            assert!(bytes.0, "round {round}: every part is well-formed");
            cut += usize::from(!bytes.2.is_empty());
            assert_eq!(run(true, 4096), bytes, "round {round}");
            assert_eq!(run(true, 977), bytes, "round {round}");
        }
        assert!(cut >= 5, "only {cut} documents had a run cut");
    }

    /// What the XML reader makes of a document, text and CDATA content
    /// left out (they are what is cut); `Err` when it refuses it.
    fn tokens<R: BufRead>(r: R) -> Result<Vec<String>, ()> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_reader(r);
        reader.config_mut().expand_empty_elements = true;
        reader.config_mut().check_end_names = true;
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let lossy = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        loop {
            buf.clear();
            out.push(match reader.read_event_into(&mut buf).map_err(|_| ())? {
                Event::Eof => return Ok(out),
                Event::Start(e) => format!("<{}", lossy(e.name().as_ref())),
                Event::End(e) => format!("</{}", lossy(e.name().as_ref())),
                Event::Comment(c) => format!("<!--{}", lossy(&c)),
                Event::DocType(d) => format!("<!D{}", lossy(&d)),
                Event::PI(p) => format!("<?{}", lossy(&p)),
                Event::CData(_) => "<![CDATA[".into(),
                Event::Decl(_) => "<?xml".into(),
                Event::Text(_) | Event::GeneralRef(_) | Event::Empty(_) => continue,
            });
        }
    }

    /// Through the cut, the reader sees the same elements, comments and
    /// declarations as without it, or the document is refused: markup is
    /// never taken for text (a failure cannot be dropped as text).
    #[test]
    fn the_reader_sees_the_same_markup_or_a_refusal() {
        let long_text = "log line é &amp; x\n".repeat(5_000);
        let long_cdata = format!("<![CDATA[{}]]>", "a]b]]c é ".repeat(10_000));
        let parts: [&[u8]; 12] = [
            b"<testcase name=\"a\"><failure message=\"boom\"/></testcase>",
            b"<t x='\">' y=\"'<\">z</t>",
            long_text.as_bytes(),
            long_cdata.as_bytes(),
            b"<![CDATA[ ]] x ]]>",
            b"<!-- ' > \" - -->",
            b"<?pi ' > ?>",
            b"<!DOCTYPE x PUBLIC \"a>b\" 'c'>",
            b"<!DOCTYPE x <>",
            b"<!DOCTYPE x '>",
            b"<!-x>",
            b"text ] ]] > ",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let (mut same, mut refused) = (0, 0);
        for round in 0..200 {
            let mut doc = b"<r>".to_vec();
            for _ in 0..[3, 12, 30][round % 3] {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // The parts that break the document are rare.
                let i = (seed % 40) as usize;
                let i = if i < parts.len() { i } else { i % 8 };
                doc.extend_from_slice(parts[i]);
            }
            doc.extend_from_slice(b"</r>");
            let raw = tokens(&doc[..]);
            let cut = tokens(io::BufReader::new(Compact::new(
                io::BufReader::with_capacity(977, &doc[..]),
            )));
            match (raw, cut) {
                (_, Err(())) => refused += 1,
                (Err(()), Ok(t)) => panic!("round {round}: accepted through the cut: {t:?}"),
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "round {round}");
                    same += 1;
                }
            }
        }
        assert!(
            same > 100 && refused > 10,
            "{same} the same, {refused} refused"
        );
    }

    #[test]
    fn markup_and_short_text_pass_byte_for_byte() {
        let doc = br#"<?xml version="1.0"?><!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd"><!-- a < b --> -->
<?pi a > b ?><testsuite name="a>b" x='"'><testcase name="t"><failure message="&lt;x&gt;"><![CDATA[a ] ]] <b> ]]></failure></testcase></testsuite>"#;
        assert_eq!(through(doc).expect("ok"), doc.to_vec());
        for f in [
            "python/reports/junit.xml",
            "maven/reports/TEST-com.example.PriceTest.xml",
            "java/reports/jacoco.xml",
            "python/reports/coverage.xml",
        ] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../tests/fixtures/tests")
                .join(f);
            let text = std::fs::read(path).expect("ok");
            assert_eq!(through(&text).expect("ok"), text, "{f}");
        }
    }

    #[test]
    fn long_text_and_cdata_are_cut_and_still_checked() {
        let long = "é&amp;x&#233;]] ".repeat(40_000); // 640 000 bytes
        let doc = format!(
            "<s>\n<system-out>{long}</system-out>\n<system-err><![CDATA[{long}]]]]></system-err>\n<bad>&nope;</bad></s>"
        );
        let out = through(doc.as_bytes()).expect("ok");
        assert!(
            out.len() < 3 * KEEP as usize,
            "{} bytes handed on",
            out.len()
        );
        // The cut text is text still, and an error after it is on its line.
        let err = items(doc.as_bytes()).expect_err("undefined entity");
        assert!(err.starts_with("r.xml:4: "), "{err}");
        let ok = doc.replace("&nope;", "&lt;");
        let got = items(ok.as_bytes()).expect("ok");
        assert_eq!(got[0], "<s>");
        assert!(got.contains(&"</system-err>".to_string()), "{got:?}");
        assert!(
            got.iter().all(|i| !i.ends_with(" bytes") || i.len() < 12),
            "{got:?}"
        );

        // In the dropped part: bad UTF-8, an unknown entity, a reference
        // cut by the next tag — each on its own line.
        let pad = "x".repeat(KEEP as usize + 10);
        for (bad, want) in [
            (&b"\n\xff"[..], "r.xml:2: text that is not UTF-8"),
            (&b"\n&bogus;"[..], "r.xml:2: undefined entity `&bogus;`"),
            (&b"\n&amp"[..], "r.xml:2: a reference with no `;`"),
        ] {
            let mut doc = format!("<s>{pad}").into_bytes();
            doc.extend_from_slice(bad);
            doc.extend_from_slice(b"</s>");
            let err = items(&doc).expect_err("bad");
            assert!(err.starts_with(want), "{err} (wanted {want})");
        }
        // A stray `&` near the cut never makes the reader hold the rest.
        let doc = format!(
            "<s>{}&{}</s>",
            "x".repeat(KEEP as usize - 2),
            "y".repeat(1000)
        );
        assert!(items(doc.as_bytes()).is_err());
        // A byte order mark, and a file ending inside a cut run: lines
        // stay the file's.
        let mut doc = b"\xEF\xBB\xBF<s>\n<o>".to_vec();
        doc.extend_from_slice(pad.as_bytes());
        doc.extend_from_slice(b"</o>\n</t>");
        let err = items(&doc).expect_err("mismatched");
        assert!(err.starts_with("r.xml:3: "), "{err}");
        let mut doc = b"<s>\n<o>".to_vec();
        doc.extend_from_slice(pad.as_bytes());
        doc.extend_from_slice(b"\n\n");
        let err = items(&doc).expect_err("ends inside");
        assert!(
            err.starts_with("r.xml:4: the file ends inside <o>"),
            "{err}"
        );
        // A DOCTYPE the reader would read on past what looks like its end.
        let err = items(b"<s><!DOCTYPE x <>a>").expect_err("doctype");
        assert!(
            err.contains("a DOCTYPE with declarations is refused"),
            "{err}"
        );
        // A file cut inside a character while dropping.
        let mut doc = format!("<s><![CDATA[{pad}").into_bytes();
        doc.push(0xc3);
        assert!(through(&doc).is_err());
    }
}
