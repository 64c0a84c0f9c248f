//! Metrics evidence: PromQL range queries the host runs for a plugin
//! (plugins have no network) against the Prometheus-compatible server the
//! policy grants it (`[plugins.<id>.prometheus]`), over one analysis window.
//!
//! Data path: the policy's [`Grant`] and the run's [`Clock`] open a
//! [`Session`] for the plugin's evaluation; the plugin's `query-metrics`
//! call runs its queries here ([`Session::run`]: `POST /api/v1/query_range`,
//! bounded, retried, in parallel) and gets typed [`Series`] back. Every
//! failure is kept: a plugin whose query failed fails closed whatever it
//! returns ([`Session::failure`]). Credentials are read when the session
//! opens and never appear in a message.

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::diag::one_line;
use crate::policy::date::Date;

/// A value from the policy or from an environment variable it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setting {
    Literal(String),
    Env(String),
}

/// A secret: the content of a file (trimmed), or of an environment variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    File(PathBuf),
    Env(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    Bearer(Secret),
    Basic { username: String, password: Secret },
}

/// `[plugins.<id>.prometheus]`: the server a plugin may query, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The server's base URL (`http(s)://host:port[/prefix]`).
    pub url: Setting,
    pub auth: Auth,
    /// PEM file of the certificate authorities to trust instead of the
    /// built-in roots.
    pub ca_file: Option<PathBuf>,
    /// `X-Scope-OrgID`, the tenant header of Mimir, Cortex and Thanos.
    pub tenant: Option<String>,
    /// Per attempt.
    pub timeout: Duration,
    /// Attempts after the first, for a failure that may pass (the server
    /// unreachable, a timeout, 429, 502, 503, 504).
    pub retries: u32,
    /// How far back from the end the window reaches (unless `--since`).
    pub window: Duration,
    pub step: Duration,
    /// Where the table is written (`file:line:col`), for messages.
    pub at: String,
}

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
pub const DEFAULT_RETRIES: u32 = 2;
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(600);
pub const DEFAULT_STEP: Duration = Duration::from_secs(30);

/// Points one series may have (Prometheus's own limit).
const MAX_POINTS: i64 = 11_000;
/// Queries in one `query-metrics` call.
pub const MAX_QUERIES: usize = 256;
/// Bytes of one answer.
const MAX_BODY: u64 = 64 << 20;
/// Series in one answer.
const MAX_SERIES: usize = 10_000;
/// Bytes of a secret file.
const MAX_SECRET: u64 = 64 << 10;
/// Bytes of a CA file.
const MAX_CA: u64 = 1 << 20;
/// Samples in one answer, all series together.
const MAX_SAMPLES: usize = 4_000_000;
/// How long one evaluation may spend on metrics, all queries together.
pub const MAX_WAIT: Duration = Duration::from_secs(600);
/// Queries one evaluation may ask.
pub const MAX_ASKED: usize = 1_024;

/// When the run's analysis ends, and where it starts if the command line
/// says (`--until`, `--since`); the window of each grant follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// Milliseconds since the Unix epoch.
    pub until: i64,
    pub since: Option<i64>,
}

impl Clock {
    /// Ends now.
    pub fn now() -> Clock {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        Clock {
            until: now,
            since: None,
        }
    }
}

impl Default for Clock {
    fn default() -> Self {
        Clock::now()
    }
}

/// The window every query of a session covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Milliseconds since the Unix epoch, inclusive.
    pub start: i64,
    pub end: i64,
    pub step_ms: u32,
}

/// One query: PromQL, and how many seconds before the window it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub promql: String,
    pub shift_seconds: u32,
}

/// One series of an answer: labels sorted by name, samples in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Vec<(String, String)>,
    pub samples: Vec<(i64, f64)>,
}

/// A plugin's connection to its granted server for one evaluation.
pub struct Session {
    agent: ureq::Agent,
    /// `…/api/v1/query_range`.
    endpoint: String,
    /// The base URL for messages (no credentials can be in it).
    shown: String,
    authorization: Option<String>,
    tenant: Option<String>,
    retries: u32,
    /// No query starts after this: an evaluation's metrics take at most
    /// [`MAX_WAIT`].
    budget: Instant,
    /// Queries asked so far (at most [`MAX_ASKED`] an evaluation).
    asked: std::sync::atomic::AtomicUsize,
    window: Window,
    failures: Mutex<Vec<String>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.shown)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Resolve the grant's address, credentials and CA file, and the
    /// window from `clock`. An error names the setting and why, never a
    /// secret's value.
    pub fn open(grant: &Grant, clock: Clock) -> Result<Session, String> {
        let (base, named) = match &grant.url {
            Setting::Literal(u) => (u.clone(), "url".to_string()),
            Setting::Env(var) => (
                std::env::var(var)
                    .ok()
                    .filter(|v| !v.trim().is_empty())
                    .ok_or_else(|| {
                        format!("url-env: environment variable {var} is not set (or not UTF-8)")
                    })?,
                format!("url-env {var}"),
            ),
        };
        let base = base.trim().trim_end_matches('/').to_string();
        let base =
            check_url(&base, grant.auth != Auth::None).map_err(|e| format!("{named}: {e}"))?;
        let authorization = match &grant.auth {
            Auth::None => None,
            Auth::Bearer(s) => Some(format!("Bearer {}", secret(s, "bearer token")?)),
            Auth::Basic { username, password } => {
                use base64::Engine as _;
                let password = secret(password, "password")?;
                let pair = format!("{username}:{password}");
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                ))
            }
        };
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(ca) = &grant.ca_file {
            tls = tls.root_certs(read_cas(ca)?);
        }
        let agent = crate::http::agent(grant.timeout, tls.build());
        let end = clock.until;
        let start = match clock.since {
            Some(s) => s,
            None => end.saturating_sub(grant.window.as_millis() as i64),
        };
        let step_ms = grant.step.as_millis().clamp(1, u32::MAX as u128) as u32;
        if start >= end {
            return Err(format!(
                "the analysis window is empty: it starts at {} and ends at {}",
                rfc3339(start),
                rfc3339(end)
            ));
        }
        if end.saturating_sub(start) / i64::from(step_ms) >= MAX_POINTS {
            return Err(format!(
                "the analysis window ({}) at a step of {} would give more than {MAX_POINTS} points a series: raise `step`",
                human(Duration::from_millis((end - start) as u64)),
                human(grant.step)
            ));
        }
        Ok(Session {
            agent,
            endpoint: format!("{base}/api/v1/query_range"),
            shown: base,
            authorization,
            tenant: grant.tenant.clone(),
            retries: grant.retries,
            budget: Instant::now() + MAX_WAIT,
            asked: std::sync::atomic::AtomicUsize::new(0),
            window: Window {
                start,
                end,
                step_ms,
            },
            failures: Mutex::new(Vec::new()),
        })
    }

    pub fn window(&self) -> Window {
        self.window
    }

    /// Run `queries`, a few at a time; one result per query, in order.
    /// Each failure is also kept for [`Session::failure`].
    pub fn run(&self, queries: &[Query]) -> Vec<Result<Vec<Series>, String>> {
        use std::sync::atomic::Ordering;
        let asked = self.asked.fetch_add(queries.len(), Ordering::Relaxed) + queries.len();
        let results = if asked > MAX_ASKED {
            queries
                .iter()
                .map(|_| Err(format!("more than {MAX_ASKED} queries in one evaluation")))
                .collect()
        } else {
            crate::check::parallel(queries, 4, |q| self.query(q))
        };
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for (q, r) in queries.iter().zip(&results) {
            if let Err(e) = r {
                failures.push(format!("query `{}`: {e}", one_line(&q.promql, 200)));
            }
        }
        results
    }

    /// The first query that failed in this session, if any.
    pub fn failure(&self) -> Option<String> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let first = failures.first()?;
        Some(match failures.len() {
            1 => first.clone(),
            n => format!("{first} (and {} more failed)", n - 1),
        })
    }

    /// One query, retried while the failure may pass.
    fn query(&self, q: &Query) -> Result<Vec<Series>, String> {
        if q.promql.trim().is_empty() {
            return Err("the query is empty".into());
        }
        let shift = i64::from(q.shift_seconds) * 1000;
        let (start, end) = (self.window.start - shift, self.window.end - shift);
        let form = [
            ("query", q.promql.clone()),
            ("start", seconds(start)),
            ("end", seconds(end)),
            ("step", seconds(i64::from(self.window.step_ms))),
            // Thanos answers `success` with stores missing unless told not
            // to; Prometheus ignores it.
            ("partial_response", "false".into()),
        ];
        let mut attempt = 0;
        let started = Instant::now();
        loop {
            if Instant::now() >= self.budget {
                return Err(format!(
                    "the evaluation's {} for metrics are spent",
                    human(MAX_WAIT)
                ));
            }
            match self.attempt(&form) {
                Ok(series) => return Ok(series),
                Err(Failure::Final(e)) => return Err(format!("{}: {e}", self.shown)),
                Err(Failure::Passing(e)) if attempt >= self.retries => {
                    let tries = match attempt {
                        0 => String::new(),
                        n => format!(" (tried {} times in {})", n + 1, human(started.elapsed())),
                    };
                    return Err(format!("{}: {e}{tries}", self.shown));
                }
                Err(Failure::Passing(_)) => {
                    std::thread::sleep(Duration::from_millis(200 << attempt.min(4)));
                    attempt += 1;
                }
            }
        }
    }

    fn attempt(&self, form: &[(&str, String); 5]) -> Result<Vec<Series>, Failure> {
        let mut req = self.agent.post(&self.endpoint);
        if let Some(a) = &self.authorization {
            req = req.header("Authorization", a);
        }
        if let Some(t) = &self.tenant {
            req = req.header("X-Scope-OrgID", t);
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut response = req.send_form(pairs).map_err(|e| match e {
            ureq::Error::Timeout(_) => Failure::Passing("no answer in time".into()),
            ureq::Error::Io(e) => Failure::Passing(one_line(&e.to_string(), 200)),
            ureq::Error::ConnectionFailed | ureq::Error::HostNotFound => {
                Failure::Passing(one_line(&e.to_string(), 200))
            }
            e => Failure::Final(one_line(&e.to_string(), 200)),
        })?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => {
                    Failure::Final(format!("the answer is over {} MiB", MAX_BODY >> 20))
                }
                ureq::Error::Timeout(_) => {
                    Failure::Passing("the answer did not finish in time".into())
                }
                e => Failure::Passing(one_line(&e.to_string(), 200)),
            })?;
        let passing = matches!(status, 429 | 502 | 503 | 504);
        match parse(&body) {
            Ok(Answer::Series(series)) if status == 200 => Ok(series),
            Ok(Answer::Series(_)) => Err(Failure::Final(format!(
                "answered HTTP {status} with a success body"
            ))),
            Ok(Answer::Error { kind, message }) => {
                let e = format!(
                    "answered HTTP {status}, {}: {}",
                    one_line(&kind, 40),
                    one_line(&message, 400)
                );
                Err(if passing {
                    Failure::Passing(e)
                } else {
                    Failure::Final(e)
                })
            }
            Err(why) => {
                let e = format!("answered HTTP {status} with {why}");
                Err(if passing || status >= 500 && status != 501 {
                    Failure::Passing(e)
                } else {
                    Failure::Final(e)
                })
            }
        }
    }
}

enum Failure {
    /// Worth another attempt.
    Passing(String),
    Final(String),
}

#[derive(Debug)]
enum Answer {
    Series(Vec<Series>),
    Error { kind: String, message: String },
}

/// Parse Prometheus's `query_range` JSON: a `matrix` on success, or
/// `errorType` and `error`. `Err` says, in a few words, what else it was.
fn parse(body: &[u8]) -> Result<Answer, String> {
    #[derive(serde::Deserialize)]
    struct Envelope<'a> {
        status: String,
        #[serde(borrow)]
        data: Option<Data<'a>>,
        #[serde(rename = "errorType")]
        error_type: Option<String>,
        error: Option<String>,
        #[serde(default)]
        warnings: Vec<String>,
    }
    #[derive(serde::Deserialize)]
    struct Data<'a> {
        #[serde(rename = "resultType")]
        result_type: String,
        #[serde(borrow)]
        result: Vec<Raw<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Raw<'a> {
        metric: std::collections::BTreeMap<String, String>,
        /// Sample values are plain numbers in quotes: borrowed, not copied.
        #[serde(default, borrow)]
        values: Vec<(f64, &'a str)>,
        #[serde(default)]
        histograms: Option<serde::de::IgnoredAny>,
    }
    let not_json = || {
        let head: String = String::from_utf8_lossy(&body[..body.len().min(60)]).into_owned();
        format!(
            "something that is not Prometheus's JSON (it begins `{}`)",
            one_line(&head, 60)
        )
    };
    let env: Envelope = serde_json::from_slice(body).map_err(|_| not_json())?;
    match env.status.as_str() {
        "success" => {}
        "error" => {
            return Ok(Answer::Error {
                kind: env.error_type.unwrap_or_else(|| "error".into()),
                message: env.error.unwrap_or_default(),
            });
        }
        _ => return Err(not_json()),
    }
    // A partial answer (a store or remote read missing) is not an answer.
    if let Some(w) = env.warnings.first() {
        return Ok(Answer::Error {
            kind: "warning".into(),
            message: format!("a partial answer: {}", one_line(w, 300)),
        });
    }
    let data = env.data.ok_or_else(not_json)?;
    if data.result_type != "matrix" {
        return Err(format!(
            "a `{}` where a range query gives a `matrix`",
            one_line(&data.result_type, 20)
        ));
    }
    if data.result.len() > MAX_SERIES {
        return Err(format!(
            "{} series (at most {MAX_SERIES}): aggregate the query",
            data.result.len()
        ));
    }
    let total: usize = data.result.iter().map(|r| r.values.len()).sum();
    if total > MAX_SAMPLES {
        return Err(format!(
            "{total} samples (at most {MAX_SAMPLES}): narrow the window or raise the step"
        ));
    }
    let mut out = Vec::with_capacity(data.result.len());
    for raw in data.result {
        if raw.values.len() as i64 > MAX_POINTS {
            return Err(format!(
                "a series of {} points (at most {MAX_POINTS})",
                raw.values.len()
            ));
        }
        if raw.histograms.is_some() {
            return Err(
                "native histogram samples: use histogram_quantile() or a function that gives numbers"
                    .into(),
            );
        }
        let mut samples = Vec::with_capacity(raw.values.len());
        for (t, v) in raw.values {
            let value = parse_value(v).ok_or_else(|| {
                format!("a sample value `{}` that is not a number", one_line(v, 30))
            })?;
            if !t.is_finite() {
                return Err("a sample without a finite time".into());
            }
            samples.push(((t * 1000.0).round() as i64, value));
        }
        if !samples.is_sorted_by(|a, b| a.0 < b.0) {
            return Err("samples out of time order".into());
        }
        out.push(Series {
            labels: raw.metric.into_iter().collect(),
            samples,
        });
    }
    Ok(Answer::Series(out))
}

/// A sample value as Prometheus writes it: a decimal, `NaN`, `+Inf`, `-Inf`.
fn parse_value(v: &str) -> Option<f64> {
    match v {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ if v
            .bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b)) =>
        {
            v.parse().ok()
        }
        _ => None,
    }
}

/// Milliseconds as the API's seconds.
fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

/// Check a server's URL and return it as messages may show it (scheme,
/// host and path). Errors never repeat the value, which may hold a secret.
fn check_url(url: &str, authenticated: bool) -> Result<String, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("the server's URL must start with http:// or https://")?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err("the server's URL must start with http:// or https://".into());
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') {
        return Err(
            "the server's URL must not carry credentials: use username with password-file or password-env"
                .into(),
        );
    }
    if authority.is_empty() || rest.contains(['?', '#']) || rest.chars().any(char::is_control) {
        return Err("the server's URL must be an address (no query or fragment)".into());
    }
    let loopback = crate::http::is_loopback(authority);
    if authenticated && scheme == "http" && !loopback {
        return Err(
            "credentials are only sent over https:// (or to a loopback address): the server's URL is http://"
                .into(),
        );
    }
    Ok(format!("{scheme}://{rest}"))
}

fn secret(s: &Secret, what: &str) -> Result<String, String> {
    let value = match s {
        Secret::Env(var) => std::env::var(var).map_err(|_| {
            format!("the {what}'s environment variable {var} is not set (or not UTF-8)")
        })?,
        Secret::File(path) => {
            use std::io::Read;
            let file = regular_file(path).map_err(|e| format!("the {what} file {e}"))?;
            let mut buf = String::new();
            file.take(MAX_SECRET + 1)
                .read_to_string(&mut buf)
                .map_err(|_| format!("the {what} file {} is not text", path.display()))?;
            if buf.len() as u64 > MAX_SECRET {
                return Err(format!("the {what} file {} is too large", path.display()));
            }
            buf
        }
    };
    let value = value.trim().to_string();
    if value.is_empty() || value.contains(['\r', '\n']) {
        return Err(format!("the {what} is empty or more than one line"));
    }
    Ok(value)
}

/// Open a configured file: a regular file only (never a FIFO or a device,
/// which would block or never end).
fn regular_file(path: &std::path::Path) -> Result<std::fs::File, String> {
    let shown = |e: std::io::Error| {
        format!(
            "{}: {}",
            path.display(),
            crate::diag::without_errno(&e.to_string())
        )
    };
    let meta = std::fs::metadata(path).map_err(shown)?;
    if !meta.is_file() {
        return Err(format!("{}: not a regular file", path.display()));
    }
    std::fs::File::open(path).map_err(shown)
}

pub(crate) fn read_cas(path: &std::path::Path) -> Result<ureq::tls::RootCerts, String> {
    use std::io::Read;
    let mut pem = Vec::new();
    regular_file(path)
        .map_err(|e| format!("ca-file {e}"))?
        .take(MAX_CA + 1)
        .read_to_end(&mut pem)
        .map_err(|e| format!("ca-file {}: {e}", path.display()))?;
    if pem.len() as u64 > MAX_CA {
        return Err(format!(
            "ca-file {} is over {} MiB",
            path.display(),
            MAX_CA >> 20
        ));
    }
    let mut certs = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => certs.push(c),
            Ok(_) => {}
            Err(e) => return Err(format!("ca-file {}: {e}", path.display())),
        }
    }
    if certs.is_empty() {
        return Err(format!(
            "ca-file {} holds no PEM certificate",
            path.display()
        ));
    }
    Ok(ureq::tls::RootCerts::new_with_certs(&certs))
}

/// `90s`, `10m`, `1h30m`, `500ms`: a duration as policies and the command
/// line write it.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || {
        format!(
            "`{}` is not a duration (like 30s, 10m, 1h30m, 500ms)",
            one_line(s, 40)
        )
    };
    let mut total: u128 = 0;
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 12 {
            return Err(bad());
        }
        let n: u128 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let ms = match &rest[..unit] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit..];
        total += n * ms;
    }
    if total == 0 || total > 366 * 86_400_000 {
        return Err(bad());
    }
    Ok(Duration::from_millis(total as u64))
}

/// A duration the way [`parse_duration`] reads it: `10m`, `1h30m`, `250ms`.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 || !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let mut s = ms / 1000;
    let mut out = String::new();
    for (unit, len) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if s >= len {
            out.push_str(&format!("{}{unit}", s / len));
            s %= len;
        }
    }
    out
}

/// A point in time as the command line gives it: RFC 3339
/// (`2026-11-27T10:00:00Z`, an offset, or fractional seconds), or seconds
/// since the Unix epoch. Milliseconds since the epoch.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let bad = || {
        format!(
            "`{}` is not a time (RFC 3339 like 2026-11-27T10:00:00Z, or Unix seconds)",
            one_line(s, 40)
        )
    };
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s
            .parse::<i64>()
            .ok()
            .filter(|v| *v < 253_402_300_800)
            .map(|v| v * 1000)
            .ok_or_else(bad);
    }
    if !s.is_ascii() {
        return Err(bad());
    }
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Result<i64, String> {
        let part = s.get(r).ok_or_else(bad)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    if b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    // The date as policies write theirs (impossible dates refused).
    let date = Date::parse(&s[..10]).ok_or_else(bad)?;
    let year = num(0..4)?;
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut i = 19;
    let mut millis = 0;
    if b[i] == b'.' {
        let digits = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if digits == 0 {
            return Err(bad());
        }
        let frac = &s[i + 1..i + 1 + digits.min(3)];
        millis = frac.parse::<i64>().map_err(|_| bad())? * 10_i64.pow(3 - frac.len() as u32);
        i += 1 + digits;
    }
    let offset = match s.get(i..).ok_or_else(bad)? {
        "Z" | "z" => 0,
        tz if tz.len() == 6
            && matches!(tz.as_bytes()[0], b'+' | b'-')
            && tz.as_bytes()[3] == b':' =>
        {
            let h = num(i + 1..i + 3)?;
            let m = num(i + 4..i + 6)?;
            if h > 23 || m > 59 {
                return Err(bad());
            }
            let sign = if tz.as_bytes()[0] == b'-' { -1 } else { 1 };
            sign * (h * 3600 + m * 60)
        }
        _ => return Err(bad()),
    };
    let valid = (1970..=9999).contains(&year) && hour < 24 && minute < 60 && second < 61;
    if !valid {
        return Err(bad());
    }
    let days = Date::from_days(0).days_until(date);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Ok(secs * 1000 + millis)
}

/// A time for messages and reports: RFC 3339 in UTC, to the second.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        Date::from_days(days),
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times_read_as_written() {
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        for bad in ["", "10", "m", "1x", "-1s", "0s", "1.5m"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(human(Duration::from_secs(5400)), "1h30m");
        assert_eq!(parse_time("2026-01-01T00:00:00Z"), Ok(1_767_225_600_000));
        assert_eq!(
            parse_time("2026-01-01T01:00:00.5+01:00"),
            Ok(1_767_225_600_500)
        );
        assert_eq!(parse_time("1767225600"), Ok(1_767_225_600_000));
        assert_eq!(rfc3339(1_767_225_600_999), "2026-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        for bad in [
            "2026-02-30T00:00:00Z",
            "2026-01-01",
            "2026-01-01T00:00:00",
            "yesterday",
            "2026-01-01T00:00:00é1234",
            "2026-01-01T00:00:00+24:00",
            "0000-01-01T00:00:00Z",
            "9223372036854775",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn answers_are_read_strictly() {
        let ok = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"track":"canary"},"values":[[1767225600,"0.5"],[1767225630.5,"NaN"],[1767225660,"+Inf"]]}]}}"#;
        let Ok(Answer::Series(s)) = parse(ok) else {
            panic!("not read")
        };
        assert_eq!(s[0].labels, vec![("track".into(), "canary".into())]);
        assert_eq!(s[0].samples[0], (1_767_225_600_000, 0.5));
        assert_eq!(s[0].samples[1].0, 1_767_225_630_500);
        assert!(s[0].samples[1].1.is_nan());
        assert_eq!(s[0].samples[2].1, f64::INFINITY);
        let err = br#"{"status":"error","errorType":"bad_data","error":"parse error"}"#;
        assert!(matches!(parse(err), Ok(Answer::Error { .. })));
        let vector = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(parse(vector).expect_err("a vector").contains("vector"));
        assert!(
            parse(b"<html>502 Bad Gateway</html>")
                .expect_err("html")
                .contains("<html>")
        );
        let word = br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"infinity"]]}]}}"#;
        assert!(parse(word).is_err());
    }

    #[test]
    fn urls_never_carry_credentials() {
        assert_eq!(
            check_url("HTTPS://prometheus.example:9090/prefix", true),
            Ok("https://prometheus.example:9090/prefix".into())
        );
        for bad in [
            "https://user:pw@prometheus.example",
            "HTTPS://user:pw@prometheus.example",
            "https//user:pw@prometheus.example",
            "https://prometheus.example/?api_key=pw",
            "ftp://prometheus.example",
            "http://",
        ] {
            let e = check_url(bad, false).expect_err(bad);
            assert!(!e.contains("pw") && !e.contains("example"), "{e}");
        }
        // Credentials go over TLS, or to this machine.
        assert!(check_url("http://prometheus.example:9090", true).is_err());
        assert!(check_url("http://prometheus.example:9090", false).is_ok());
        assert!(check_url("http://127.0.0.1:9090", true).is_ok());
    }
}
