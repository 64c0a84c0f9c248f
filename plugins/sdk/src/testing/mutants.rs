//! Mutation testing of parsers: deterministic mutants of real inputs, each
//! fed to a parser that must either accept it or reject it with one line
//! that says why (and where, when there is a place to point at) — never a
//! panic, never a hang.
//!
//! ```no_run
//! use portcullis_sdk::testing::mutants::{Mutants, json_place};
//! let seed = r#"{"benchmarks": []}"#;
//! Mutants::new("my-format", &[seed], 2_000).check(|text| {
//!     serde_json::from_str::<serde::de::IgnoredAny>(text)
//!         .map(drop)
//!         .map_err(|e| format!("r.json:{}:{}: {e}", e.line(), e.column()))
//! }, |text, message| match json_place(text) {
//!     Some((line, col)) if !message.contains(&format!("r.json:{line}:{col}")) => {
//!         Err(format!("broken JSON without its place"))
//!     }
//!     _ => Ok(()),
//! });
//! ```

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// Tokens that break parsers in practice: structure, extremes of numbers,
/// types in the wrong place, control and bidi characters, long runs.
pub const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    "=",
    "\n",
    "\r\n",
    "\t",
    " ",
    "null",
    "true",
    "false",
    "0",
    "-1",
    "-0",
    "1e308",
    "-1e308",
    "1e-320",
    "NaN",
    "inf",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967296",
    "\"\"",
    "[]",
    "{}",
    "\\u0000",
    "\\ud800",
    "\u{0}",
    "\u{1b}[31m",
    "\u{202e}",
    "\u{feff}",
    "é",
    "../",
    "/",
    "*",
    "**",
    "#",
    "[[",
    "]]",
    "'''",
    "\"\"\"",
    "-",
    "+",
    ".",
    "0x10",
    "1_000",
    "2026-02-30",
    "9999-99-99",
    "\\",
    "%",
    "%2e%2e/",
];

/// A deterministic set of mutants of `seeds`.
pub struct Mutants {
    format: String,
    texts: Vec<String>,
    /// Extra tokens of the format (its keys and keywords).
    tokens: Vec<String>,
    /// The slowest one mutant may take ([`HANG`] unless set).
    hang: Duration,
}

/// What one run of mutants came to.
#[derive(Debug, Clone, Copy)]
pub struct Outcome {
    pub mutants: usize,
    pub accepted: usize,
    pub rejected: usize,
    pub elapsed: Duration,
}

/// The slowest a parser may take on one mutant before it counts as a hang.
pub const HANG: Duration = Duration::from_secs(2);

/// How long one mutant may run before the watchdog ends the test process.
pub const STUCK: Duration = Duration::from_secs(60);

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Silence panic output on this thread only (a mutant's panic is a test
/// failure reported with the mutant; other tests' panics still print).
fn quiet_this_thread(quiet: bool) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(quiet));
}

impl Mutants {
    /// `count` mutants spread over `seeds`, from the format's own tokens
    /// (`words`) and [`TOKENS`]. The same arguments give the same mutants.
    pub fn new(format: &str, seeds: &[&str], count: usize) -> Mutants {
        Mutants::with_words(format, seeds, count, &[])
    }

    pub fn with_words(format: &str, seeds: &[&str], count: usize, words: &[&str]) -> Mutants {
        assert!(!seeds.is_empty(), "mutants of nothing");
        let mut tokens: Vec<String> = TOKENS.iter().map(|t| t.to_string()).collect();
        tokens.extend(words.iter().map(|w| w.to_string()));
        let mut m = Mutants {
            format: format.to_string(),
            texts: Vec::with_capacity(count),
            tokens,
            hang: HANG,
        };
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ count as u64);
        for i in 0..count {
            let seed = seeds[i % seeds.len()];
            let rounds = 1 + rng.below(3);
            let mut text = seed.to_string();
            for _ in 0..rounds {
                text = m.mutate(&text, &mut rng);
            }
            m.texts.push(text);
        }
        m
    }

    /// The mutants.
    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    fn mutate(&self, text: &str, rng: &mut Rng) -> String {
        let chars: Vec<char> = text.chars().collect();
        let n = chars.len();
        let at = rng.below(n + 1);
        let span = (1 + rng.below(24)).min(n - at.min(n));
        let picked = self.tokens[rng.below(self.tokens.len())].clone();
        let token = || picked.clone();
        let slice = |a: usize, b: usize| chars[a..b].iter().collect::<String>();
        let op = rng.below(9);
        rng.next();
        match op {
            // Delete a span.
            0 => slice(0, at) + &slice(at + span, n),
            // Insert a token.
            1 => slice(0, at) + &token() + &slice(at, n),
            // Replace a span with a token.
            2 => slice(0, at) + &token() + &slice(at + span, n),
            // Cut the text short.
            3 => slice(0, at),
            // Repeat a span, up to thousands of times.
            4 => {
                let times = [2, 10, 1000, 5000][rng.below(4)];
                slice(0, at) + &slice(at, at + span).repeat(times) + &slice(at, n)
            }
            // Swap two lines.
            5 => {
                let mut lines: Vec<&str> = text.split('\n').collect();
                let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                lines.swap(a, b);
                lines.join("\n")
            }
            // Drop a line.
            6 => {
                let mut lines: Vec<&str> = text.split('\n').collect();
                let a = rng.below(lines.len());
                lines.remove(a);
                lines.join("\n")
            }
            // Replace a number with an extreme one.
            7 => {
                let starts: Vec<usize> = (0..n)
                    .filter(|&i| {
                        chars[i].is_ascii_digit() && (i == 0 || !chars[i - 1].is_ascii_digit())
                    })
                    .collect();
                if starts.is_empty() {
                    return slice(0, at) + &token() + &slice(at, n);
                }
                let s = starts[rng.below(starts.len())];
                let e = (s..n).find(|&i| !chars[i].is_ascii_digit()).unwrap_or(n);
                let extreme = [
                    "0",
                    "-1",
                    "1e308",
                    "18446744073709551616",
                    "4294967296",
                    "999999999",
                ][rng.below(6)];
                slice(0, s) + extreme + &slice(e, n)
            }
            // Flip one character to another printable or control one.
            _ => {
                if n == 0 {
                    return token();
                }
                let c =
                    [' ', '"', '\'', '\\', '\u{0}', '\u{7f}', 'x', '9', '\n', '{'][rng.below(10)];
                let at = at.min(n - 1);
                slice(0, at) + &c.to_string() + &slice(at + 1, n)
            }
        }
    }

    /// Allow each mutant `hang` instead of [`HANG`]: for work that is
    /// linear but large per unit of input (a policy of many rules run over
    /// each of thousands of repeated documents).
    pub fn hang(mut self, hang: Duration) -> Mutants {
        self.hang = hang;
        self
    }

    /// Feed every mutant to `parse`. A rejection must be one non-empty line
    /// and pass `expect(mutant, message)` (the format's own rule, such as
    /// "broken JSON names its line and column"). Panics — failing the test —
    /// listing the first failures, if any mutant made `parse` panic, run past
    /// [`HANG`] (or [`Mutants::hang`]), or be rejected badly. Prints one summary line.
    pub fn check<T>(
        &self,
        parse: impl Fn(&str) -> Result<T, String>,
        expect: impl Fn(&str, &str) -> Result<(), String>,
    ) -> Outcome {
        let started = Instant::now();
        let (mut accepted, mut rejected) = (0, 0);
        let mut failures: Vec<String> = Vec::new();
        quiet_this_thread(true);
        // A parser that never returns would hang the test run: a watchdog
        // ends the process, naming the mutant, past [`STUCK`].
        let current = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (watched, finished, format) = (current.clone(), done.clone(), self.format.clone());
        let watchdog = std::thread::spawn(move || {
            use std::sync::atomic::Ordering;
            let (mut seen, mut since) = (usize::MAX, Instant::now());
            while !finished.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
                let now = watched.load(Ordering::Relaxed);
                if now != seen {
                    (seen, since) = (now, Instant::now());
                } else if since.elapsed() > STUCK {
                    summary(format_args!(
                        "{format} mutant {now} has not returned in {STUCK:?}: a hang"
                    ));
                    std::process::abort();
                }
            }
        });
        for (i, text) in self.texts.iter().enumerate() {
            current.store(i, std::sync::atomic::Ordering::Relaxed);
            let t0 = Instant::now();
            let result = catch_unwind(AssertUnwindSafe(|| parse(text)));
            let took = t0.elapsed();
            let fail = |why: String| format!("mutant {i} {why}\n--- mutant ---\n{}", preview(text));
            if took > self.hang {
                failures.push(fail(format!("took {took:?}")));
            }
            match result {
                Err(panic) => {
                    let what = panic
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push(fail(format!("panicked: {what}")));
                }
                Ok(Ok(_)) => accepted += 1,
                Ok(Err(message)) => {
                    rejected += 1;
                    if message.trim().is_empty() {
                        failures.push(fail("was rejected with an empty message".into()));
                    } else if message.contains('\n') {
                        failures.push(fail(format!(
                            "was rejected with more than one line: {message}"
                        )));
                    } else if let Err(why) = expect(text, &message) {
                        failures.push(fail(format!("was rejected badly ({why}): {message}")));
                    }
                }
            }
        }
        quiet_this_thread(false);
        done.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = watchdog.join();
        let outcome = Outcome {
            mutants: self.texts.len(),
            accepted,
            rejected,
            elapsed: started.elapsed(),
        };
        summary(format_args!(
            "mutants {}: {} ({} rejected, {} accepted) in {} ms",
            self.format,
            outcome.mutants,
            outcome.rejected,
            outcome.accepted,
            outcome.elapsed.as_millis()
        ));
        assert!(
            failures.is_empty(),
            "{} of {} {} mutants failed; the first:\n{}",
            failures.len(),
            self.texts.len(),
            self.format,
            failures
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n\n")
        );
        assert!(
            rejected > 0,
            "no {} mutant was rejected: the parser checks nothing",
            self.format
        );
        outcome
    }
}

/// A test's own report line, shown by `cargo test -- --nocapture`.
#[allow(clippy::disallowed_macros)]
fn summary(line: std::fmt::Arguments<'_>) {
    println!("{line}");
}

/// At most 600 characters around the start of `text`, for a failure report.
fn preview(text: &str) -> String {
    let mut p: String = text.chars().take(600).collect();
    if p.len() < text.len() {
        p.push_str(&format!("… ({} bytes in all)", text.len()));
    }
    p
}

/// Where `text` stops being JSON syntax (line, column, as serde_json
/// counts), or `None` when it is JSON. A typed reader stops there or
/// earlier (at a value of the wrong type), never later.
pub fn json_place(text: &str) -> Option<(usize, usize)> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .err()
        .map(|e| (e.line(), e.column()))
}

/// Whether `message` locates a refusal of `text` as a JSON file named
/// `file` should: when `text` is not JSON, it names `file:LINE:` with LINE no
/// later than where the JSON breaks (a typed reader may stop earlier, at a
/// field that is wrong before the syntax is); otherwise it names `file`.
pub fn json_located(file: &str, text: &str, message: &str) -> Result<(), String> {
    let Some(at) = message.find(&format!("{file}:")) else {
        return match message.contains(file) {
            true if json_place(text).is_none() => Ok(()),
            _ => Err(format!("does not name {file} with a line")),
        };
    };
    let after = &message[at + file.len() + 1..];
    let mut parts = after.split(':');
    let mut line: Option<usize> = parts.next().and_then(|n| n.trim().parse().ok());
    // serde_json's column 0 is the line break ending the line before.
    let column: String = parts
        .next()
        .unwrap_or("")
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    if column == "0" {
        line = line.map(|l| l.saturating_sub(1).max(1));
    }
    match (json_place(text), line) {
        (Some((broken, _)), Some(line)) if line == 0 || line > broken => Err(format!(
            "names line {line}, but the JSON breaks at line {broken}"
        )),
        (Some((broken, _)), None) => Err(format!(
            "names no line, but the JSON breaks at line {broken}"
        )),
        _ => Ok(()),
    }
}

/// A small deterministic generator (xorshift64*); tests need the same
/// mutants on every machine, not good randomness.
#[derive(Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform-ish in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next() % n as u64) as usize
    }
}
