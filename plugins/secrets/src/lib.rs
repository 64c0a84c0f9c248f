//! The secrets plugin: committed credentials in every file of the tree,
//! dotfiles included.
//!
//! Data path: the file list → batches read by the host (large files
//! streamed) → [`scan::Scanner`] (keyword pass, then per-line regexes of the
//! detectors in [`detectors`], filtered by [`decoy`] and the allowlists) →
//! findings that carry only a redacted prefix of each secret.

mod config;
mod decoy;
mod detectors;
mod generic;
mod private_key;
mod rules;
mod scan;

use std::io::Read;

use portcullis_sdk::{
    Context, Evaluation, FileEntry, FileKind, Location, Plugin, PluginInfo, Region, export_plugin,
    memo, text::looks_binary,
};
use sha2::{Digest, Sha256};

pub use config::Config;
pub use rules::RULES;
use scan::{Hit, Scanner};

pub struct Secrets;

/// Files up to this size are read whole, in batches; larger ones are
/// streamed in chunks of whole lines.
const STREAM_BYTES: u64 = 16 << 20;
const BATCH_BYTES: u64 = 32 << 20;
const CHUNK_BYTES: usize = 8 << 20;

pub(crate) fn is_rule(id: &[u8]) -> bool {
    RULES.iter().any(|r| r.id().as_bytes() == id)
}

impl Plugin for Secrets {
    fn describe() -> PluginInfo {
        PluginInfo::new("secrets", env!("CARGO_PKG_VERSION"))
            .rules(RULES)
            .reads_files()
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        let config: Config = ctx.config()?;
        let allow = config.allow()?;
        // Built when a file is to be scanned: a warm run over unchanged
        // files scans none.
        let scanner = std::cell::OnceCell::new();
        let scanner = || -> Result<&Scanner, String> {
            if let Some(s) = scanner.get() {
                return Ok(s);
            }
            let built = Scanner::new(config.entropy)?;
            Ok(scanner.get_or_init(|| built))
        };
        let mut out = Evaluation::default();
        let mut small = Vec::new();
        for file in ctx.files_to_read() {
            if file.kind != FileKind::File || file.size == 0 || allow.path_allowed(&file.path) {
                continue;
            }
            if file.size > STREAM_BYTES {
                stream(ctx, scanner()?, &allow, file, &mut out)?;
            } else {
                small.push(file);
            }
        }
        // Each file's findings depend on its path, its content and the
        // config only: kept between runs for content already scanned.
        let found = memo::per_file(
            ctx,
            "findings",
            &ctx.config_json(),
            &small,
            BATCH_BYTES,
            |file, content| {
                let bytes = content.map_err(|e| cannot_read(&file.path, &e))?;
                let mut found = Evaluation::default();
                if !looks_binary(&bytes) {
                    let hits = scanner()?.scan(&bytes, is_code(&file.path), &allow);
                    report(&file.path, &bytes, 1, &hits, &mut found);
                }
                Ok(memo::Findings(found.findings))
            },
        )?;
        out.findings
            .extend(found.into_iter().flat_map(|memo::Findings(f)| f));
        Ok(out)
    }
}

fn cannot_read(path: &str, e: &dyn std::fmt::Display) -> String {
    Context::cannot_read("secrets", path, &e.to_string())
}

/// Scan a large file in chunks that end at a line break.
fn stream(
    ctx: &Context,
    scanner: &Scanner,
    allow: &config::Allow,
    file: &FileEntry,
    out: &mut Evaluation,
) -> Result<(), String> {
    let mut f = ctx
        .open(&file.path)
        .map_err(|e| cannot_read(&file.path, &e))?;
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK_BYTES * 2);
    let mut first_line = 1u32;
    let mut first = true;
    loop {
        let old = buf.len();
        buf.resize(old + CHUNK_BYTES, 0);
        let n = read_full(&mut f, &mut buf[old..]).map_err(|e| cannot_read(&file.path, &e))?;
        buf.truncate(old + n);
        if first {
            if looks_binary(&buf) {
                return Ok(());
            }
            first = false;
        }
        let eof = n == 0;
        let cut = if eof {
            buf.len()
        } else {
            match memchr::memrchr(b'\n', &buf) {
                Some(i) => i + 1,
                // One line longer than the chunk: keep reading it.
                None => continue,
            }
        };
        let hits = scanner.scan(&buf[..cut], is_code(&file.path), allow);
        report(&file.path, &buf[..cut], first_line, &hits, out);
        first_line += memchr::memchr_iter(b'\n', &buf[..cut]).count() as u32;
        buf.drain(..cut);
        if eof {
            return Ok(());
        }
    }
}

fn read_full(f: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match f.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

/// Source files, where the generic rule takes only quoted values (an
/// unquoted `token = other_value` is code, not a credential).
fn is_code(path: &str) -> bool {
    const CODE: &[&str] = &[
        "rs", "js", "mjs", "cjs", "jsx", "ts", "tsx", "py", "go", "java", "kt", "kts", "scala",
        "rb", "php", "c", "h", "cc", "cpp", "hpp", "cs", "swift", "m", "mm", "dart", "lua", "pl",
        "ex", "exs", "erl", "hs", "clj", "groovy", "vue", "svelte", "md", "rst", "txt", "html",
        "ps1", "psm1", "psd1", "map",
    ];
    path.rsplit_once('.')
        .is_some_and(|(_, ext)| CODE.contains(&ext.to_ascii_lowercase().as_str()))
}

/// Turn hits in `buf` (whose first line is `first_line`) into findings.
fn report(path: &str, buf: &[u8], first_line: u32, hits: &[Hit], out: &mut Evaluation) {
    let mut line = first_line;
    let mut counted = 0;
    for hit in hits {
        line += memchr::memchr_iter(b'\n', &buf[counted..hit.start]).count() as u32;
        counted = hit.start;
        let line_start = memchr::memrchr(b'\n', &buf[..hit.start]).map_or(0, |i| i + 1);
        let col = chars(&buf[line_start..hit.start]) + 1;
        let end_col = col + chars(&buf[hit.start..hit.end]);
        let secret = &buf[hit.start..hit.end];
        let mut h = Sha256::new();
        for part in [hit.rule.id().as_bytes(), path.as_bytes(), secret] {
            h.update(part);
            h.update([0]);
        }
        let fingerprint: String = h.finalize()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let mut what = hit.what.to_string();
        if let Some(c) = what.get_mut(0..1) {
            c.make_ascii_uppercase();
        }
        out.push(
            hit.rule
                .finding(format!("{what} `{}` committed in plain text", hit.redacted))
                .location(Location::at(path, Region::span(line, col, line, end_col)))
                .fingerprint(format!("secrets/{fingerprint}"))
                .properties(serde_json::json!({
                    "redacted": hit.redacted,
                    "length": secret.len(),
                })),
        );
    }
}

fn chars(b: &[u8]) -> u32 {
    String::from_utf8_lossy(b).chars().count() as u32
}

export_plugin!(Secrets);
