//! The run as an OpenTelemetry trace, exported over OTLP/HTTP when the
//! standard environment asks for it (`OTEL_EXPORTER_OTLP_ENDPOINT` or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): a root span for the run, one for
//! evidence collection, one per plugin with its load, describe and evaluate
//! phases, and one for the gate, with the plugin's id, digest, findings and
//! cache hit, and the verdict. A CI's trace context (`TRACEPARENT`,
//! `TRACESTATE`) is continued. Unset, nothing is built or sent.
//!
//! A trace is telemetry, not part of the verdict: a failed export is one
//! warning line, and the run keeps its exit code.

use std::time::{Duration, SystemTime};

use crate::diag::Exit;
use crate::outcome::{Outcome, PluginRun};

/// Where and how to export, from the environment; `None` when tracing is
/// off (no endpoint, `OTEL_SDK_DISABLED=true`, `OTEL_TRACES_EXPORTER=none`).
#[derive(Debug)]
pub struct Exporter {
    url: String,
    protocol: Protocol,
    headers: Vec<(String, String)>,
    timeout: Duration,
    ca_file: Option<std::path::PathBuf>,
    resource: Vec<(String, Value)>,
    parent: Option<Parent>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Protocol {
    Protobuf,
    Json,
}

/// A W3C trace context to continue.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Parent {
    trace_id: [u8; 16],
    span_id: [u8; 8],
    flags: u8,
    state: String,
}

/// An attribute's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
}

/// One span, its times as UNIX nanoseconds.
#[derive(Debug, Clone)]
struct Span {
    span_id: [u8; 8],
    parent: Option<[u8; 8]>,
    name: String,
    start: u64,
    end: u64,
    attributes: Vec<(String, Value)>,
    /// `Some(message)` for an error status.
    error: Option<String>,
}

/// The trace of a run: its id and spans.
#[derive(Debug)]
pub struct Trace {
    trace_id: [u8; 16],
    flags: u8,
    state: String,
    spans: Vec<Span>,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl Exporter {
    /// From the standard OpenTelemetry variables. `Ok(None)`: tracing is
    /// off. `Err`: it is asked for but cannot be honoured (the run warns
    /// and goes on).
    pub fn from_env() -> Result<Option<Exporter>, String> {
        if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
            || var("OTEL_TRACES_EXPORTER").is_some_and(|v| v.trim() == "none")
        {
            return Ok(None);
        }
        let url = match (
            var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            var("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(url), _) => url.trim().to_string(),
            (None, Some(base)) => format!("{}/v1/traces", base.trim().trim_end_matches('/')),
            (None, None) => return Ok(None),
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| "the OTLP endpoint is not an http:// or https:// URL".to_string())?;
        if scheme != "http" && scheme != "https" {
            return Err(format!(
                "the OTLP endpoint's scheme `{}` is not http or https",
                crate::report::text::visible(&crate::diag::one_line(scheme, 40))
            ));
        }
        let protocol = match var("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"))
            .as_deref()
            .map(str::trim)
        {
            None | Some("http/protobuf") => Protocol::Protobuf,
            Some("http/json") => Protocol::Json,
            Some(other) => {
                return Err(format!(
                    "OTLP protocol `{other}` is not supported (http/protobuf or http/json)"
                ));
            }
        };
        let mut headers = Vec::new();
        for name in [
            "OTEL_EXPORTER_OTLP_HEADERS",
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
        ] {
            // Header values are credentials: an error names the item by
            // its position, never its text. The traces-only list wins over
            // the general one, key by key.
            for (k, v) in parse_pairs(&var(name).unwrap_or_default(), name, Secret::Values)? {
                headers.retain(|(h, _): &(String, String)| !h.eq_ignore_ascii_case(&k));
                headers.push((k, v));
            }
        }
        for (name, _) in &headers {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
            {
                return Err(
                    "OTEL_EXPORTER_OTLP_HEADERS: a header name is not a valid token".into(),
                );
            }
        }
        // Headers usually carry a token: never sent in clear text off
        // this machine.
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty() || host.contains('@') || rest.chars().any(char::is_control) {
            return Err("the OTLP endpoint must be an address without credentials".into());
        }
        if !headers.is_empty() && scheme == "http" && !crate::http::is_loopback(host) {
            return Err(format!(
                "OTLP headers are set but the endpoint {scheme}://{host} is neither https nor loopback: not sending them in clear text"
            ));
        }
        let timeout = match var("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
            .or_else(|| var("OTEL_EXPORTER_OTLP_TIMEOUT"))
        {
            None => Duration::from_secs(10),
            Some(ms) => Duration::from_millis(
                ms.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|ms| (1..=600_000).contains(ms))
                    .ok_or_else(|| {
                        format!("OTLP timeout `{ms}` is not milliseconds between 1 and 600000")
                    })?,
            ),
        };
        let ca_file = var("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE")
            .or_else(|| var("OTEL_EXPORTER_OTLP_CERTIFICATE"))
            .map(std::path::PathBuf::from);
        let mut resource: Vec<(String, Value)> = parse_pairs(
            &var("OTEL_RESOURCE_ATTRIBUTES").unwrap_or_default(),
            "OTEL_RESOURCE_ATTRIBUTES",
            Secret::None,
        )?
        .into_iter()
        .map(|(k, v)| (k, Value::Str(v)))
        .collect();
        // OTEL_SERVICE_NAME wins over a `service.name` in the attributes;
        // with neither, the service is `portcullis`.
        let service = var("OTEL_SERVICE_NAME").or_else(|| {
            resource.iter().find_map(|(k, v)| match v {
                Value::Str(s) if k == "service.name" => Some(s.clone()),
                _ => None,
            })
        });
        resource.retain(|(k, _)| k != "service.name");
        resource.insert(
            0,
            (
                "service.name".into(),
                Value::Str(service.unwrap_or_else(|| "portcullis".into())),
            ),
        );
        resource.push((
            "service.version".into(),
            Value::Str(env!("CARGO_PKG_VERSION").into()),
        ));
        // A TRACEPARENT that is not a trace context is ignored, as the W3C
        // specification says: the run starts a trace of its own.
        let parent = var("TRACEPARENT").and_then(|tp| {
            parse_traceparent(tp.trim(), var("TRACESTATE").unwrap_or_default()).ok()
        });
        // A parent that was not sampled is not recorded below it either
        // (the default parent-based sampler).
        if parent.as_ref().is_some_and(|p| p.flags & 1 == 0) {
            return Ok(None);
        }
        Ok(Some(Exporter {
            url,
            protocol,
            headers,
            timeout,
            ca_file,
            resource,
            parent,
        }))
    }

    /// Send `trace`; the error says why it was not accepted.
    pub fn export(&self, trace: &Trace) -> Result<(), String> {
        let shown = crate::http::shown(&self.url);
        let mut tls = ureq::tls::TlsConfig::builder();
        if let Some(ca) = &self.ca_file {
            tls = tls.root_certs(crate::evidence::metrics::read_cas(ca)?);
        }
        let agent = crate::http::agent(self.timeout, tls.build());
        let (content_type, body) = match self.protocol {
            Protocol::Protobuf => ("application/x-protobuf", protobuf(trace, &self.resource)),
            Protocol::Json => ("application/json", json(trace, &self.resource).into_bytes()),
        };
        let mut request = agent.post(&self.url).header("Content-Type", content_type);
        for (k, v) in &self.headers {
            request = request.header(k, v);
        }
        let mut response = request
            .send(&body[..])
            .map_err(|e| format!("{shown}: {}", crate::diag::one_line(&e.to_string(), 200)))?;
        crate::http::check_status(&mut response).map_err(|e| format!("{shown}: {e}"))
    }

    /// The trace of a finished run.
    pub fn trace(&self, outcome: &Outcome, group: &super::openmetrics::Group) -> Trace {
        let mut ids = Ids::new();
        let (trace_id, flags, state, remote) = self.context(&mut ids);
        let t = &outcome.timeline;
        let root_id = ids.span();
        let mut spans = Vec::new();
        let verdict = match outcome.verdict.exit {
            Exit::Pass => "pass",
            Exit::Fail => "fail",
            Exit::Error => "error",
        };
        let c = outcome.verdict.counts;
        spans.push(Span {
            span_id: root_id,
            parent: remote,
            name: "portcullis check".into(),
            start: nanos(t.started),
            end: nanos(t.started) + outcome.elapsed.as_nanos() as u64,
            attributes: vec![
                ("portcullis.verdict".into(), Value::Str(verdict.into())),
                (
                    "portcullis.exit_code".into(),
                    Value::Int(outcome.verdict.exit as i64),
                ),
                (
                    "portcullis.fail_at".into(),
                    Value::Str(outcome.fail_at.as_str().into()),
                ),
                (
                    "portcullis.policy".into(),
                    Value::Str(outcome.shown(&outcome.policy.origin)),
                ),
                (
                    "portcullis.findings.error".into(),
                    Value::Int(c.error as i64),
                ),
                (
                    "portcullis.findings.warning".into(),
                    Value::Int(c.warning as i64),
                ),
                ("portcullis.findings.note".into(), Value::Int(c.note as i64)),
                (
                    "portcullis.findings.waived".into(),
                    Value::Int(c.waived as i64),
                ),
                (
                    "portcullis.findings.baselined".into(),
                    Value::Int(c.baselined as i64),
                ),
                (
                    "vcs.repository.name".into(),
                    Value::Str(group.repository.clone()),
                ),
                ("vcs.ref.head.name".into(), Value::Str(group.branch.clone())),
            ],
            error: (outcome.verdict.exit == Exit::Error).then(|| {
                format!(
                    "{} could not be evaluated",
                    crate::report::html::page::count(
                        outcome.verdict.failed_plugins,
                        "plugin",
                        "plugins"
                    )
                )
            }),
        });
        spans.push(Span {
            span_id: ids.span(),
            parent: Some(root_id),
            name: "evidence".into(),
            start: nanos(t.evidence.0),
            end: nanos(t.evidence.0) + t.evidence.1.as_nanos() as u64,
            attributes: Vec::new(),
            error: None,
        });
        for run in outcome.runs.iter().filter(|r| !r.is_host()) {
            let source = outcome.shown(&run.origin);
            plugin_spans(run, &source, root_id, &mut ids, &mut spans);
        }
        spans.push(Span {
            span_id: ids.span(),
            parent: Some(root_id),
            name: "gate".into(),
            start: nanos(t.gate.0),
            end: nanos(t.gate.0) + t.gate.1.as_nanos() as u64,
            attributes: vec![
                ("portcullis.verdict".into(), Value::Str(verdict.into())),
                (
                    "portcullis.failing".into(),
                    Value::Int(outcome.verdict.failing as i64),
                ),
            ],
            error: None,
        });
        Trace {
            trace_id,
            flags,
            state,
            spans,
        }
    }

    /// The trace of a run stopped before any plugin ran: its root span,
    /// with why.
    pub fn trace_stopped(&self, started: SystemTime, why: &str) -> Trace {
        let mut ids = Ids::new();
        let (trace_id, flags, state, remote) = self.context(&mut ids);
        Trace {
            trace_id,
            flags,
            state,
            spans: vec![Span {
                span_id: ids.span(),
                parent: remote,
                name: "portcullis check".into(),
                start: nanos(started),
                end: nanos(SystemTime::now()),
                attributes: vec![
                    ("portcullis.verdict".into(), Value::Str("error".into())),
                    ("portcullis.exit_code".into(), Value::Int(2)),
                ],
                error: Some(why.to_string()),
            }],
        }
    }

    /// The trace id, flags and state, and the remote parent span, if any.
    fn context(&self, ids: &mut Ids) -> ([u8; 16], u8, String, Option<[u8; 8]>) {
        match &self.parent {
            Some(p) => (p.trace_id, p.flags, p.state.clone(), Some(p.span_id)),
            None => (ids.trace(), 1, String::new(), None),
        }
    }
}

/// A plugin's span and its phases' (`source` as reports show it: no host
/// path).
fn plugin_spans(
    run: &PluginRun,
    source: &str,
    root: [u8; 8],
    ids: &mut Ids,
    spans: &mut Vec<Span>,
) {
    let id = ids.span();
    let start = nanos(run.started);
    let mut end = start + (run.load_duration + run.describe_duration).as_nanos() as u64;
    let mut attributes = vec![
        ("portcullis.plugin.id".into(), Value::Str(run.id.clone())),
        (
            "portcullis.plugin.source".into(),
            Value::Str(source.to_string()),
        ),
        (
            "portcullis.plugin.findings".into(),
            Value::Int(run.findings.len() as i64),
        ),
        (
            "portcullis.plugin.cache_hit".into(),
            Value::Bool(run.compiled_from_cache),
        ),
        (
            "portcullis.plugin.precompiled".into(),
            Value::Bool(run.precompiled),
        ),
    ];
    if let Some(sha) = &run.sha256 {
        attributes.push(("portcullis.plugin.sha256".into(), Value::Str(sha.clone())));
    }
    if let Some(info) = &run.info {
        attributes.push((
            "portcullis.plugin.version".into(),
            Value::Str(info.version.clone()),
        ));
    }
    let mut phase = |name: &str, from: u64, took: Duration| {
        let to = from + took.as_nanos() as u64;
        spans.push(Span {
            span_id: ids.span(),
            parent: Some(id),
            name: name.into(),
            start: from,
            end: to,
            attributes: Vec::new(),
            error: None,
        });
        to
    };
    let loaded = phase("load", start, run.load_duration);
    if !run.describe_duration.is_zero() {
        phase("describe", loaded, run.describe_duration);
    }
    if let Some(at) = run.evaluate_started {
        end = phase("evaluate", nanos(at), run.evaluate_duration);
    }
    if let Some(f) = &run.failure {
        attributes.push((
            "portcullis.plugin.error_kind".into(),
            Value::Str(f.kind().into()),
        ));
    }
    spans.push(Span {
        span_id: id,
        parent: Some(root),
        name: format!("plugin {}", run.id),
        start,
        end,
        attributes,
        error: run.failure.as_ref().map(ToString::to_string),
    });
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Whether a list's values may be shown in messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Secret {
    None,
    Values,
}

/// `k=v,k2=v2` with percent-encoded keys and values (the OpenTelemetry
/// environment's form).
fn parse_pairs(s: &str, what: &str, secret: Secret) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    for (i, item) in s
        .split(',')
        .map(str::trim)
        .filter(|i| !i.is_empty())
        .enumerate()
    {
        let shown = if secret == Secret::Values {
            format!("item {}", i + 1)
        } else {
            format!(
                "`{}`",
                crate::diag::one_line(&crate::report::text::visible(item), 100)
            )
        };
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("{what}: {shown} is not key=value"))?;
        let key = percent_decode(k.trim()).ok_or_else(|| format!("{what}: {shown}: a bad key"))?;
        let value = percent_decode(v.trim()).ok_or_else(|| {
            format!("{what}: {shown}: a bad value (percent escapes, UTF-8, no control characters)")
        })?;
        out.push((key, value));
    }
    Ok(out)
}

/// Percent-decoded `s`, when it decodes to UTF-8 text without control
/// characters.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .ok()
        .filter(|t| !t.chars().any(char::is_control))
}

/// `TRACEPARENT`: `version-traceid-parentid-flags` (W3C Trace Context).
fn parse_traceparent(tp: &str, state: String) -> Result<Parent, String> {
    let bad = || {
        format!(
            "TRACEPARENT `{}` is not a W3C trace context",
            crate::report::text::visible(tp)
        )
    };
    let parts: Vec<&str> = tp.split('-').collect();
    let [version, trace, span, flags, ..] = parts[..] else {
        return Err(bad());
    };
    let hex = |s: &str, n: usize| -> Option<Vec<u8>> {
        if s.len() != n * 2
            || !s
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return None;
        }
        (0..n)
            .map(|i| u8::from_str_radix(&s[i * 2..i * 2 + 2], 16).ok())
            .collect()
    };
    let version = hex(version, 1).ok_or_else(bad)?[0];
    // Version 00 has exactly four parts; ff is invalid.
    if version == 0xff || (version == 0 && parts.len() != 4) {
        return Err(bad());
    }
    let trace_id: [u8; 16] = hex(trace, 16)
        .ok_or_else(bad)?
        .try_into()
        .map_err(|_| bad())?;
    let span_id: [u8; 8] = hex(span, 8)
        .ok_or_else(bad)?
        .try_into()
        .map_err(|_| bad())?;
    let flags = hex(flags, 1).ok_or_else(bad)?[0];
    if trace_id == [0; 16] || span_id == [0; 8] {
        return Err(bad());
    }
    // TRACESTATE is passed on as given, when it is printable and bounded.
    let state = if state.len() <= 512 && state.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        state
    } else {
        String::new()
    };
    Ok(Parent {
        trace_id,
        span_id,
        flags,
        state,
    })
}

/// Random trace and span ids, from the system's generator.
struct Ids {
    pool: Vec<u8>,
}

impl Ids {
    fn new() -> Ids {
        Ids { pool: Vec::new() }
    }

    fn take<const N: usize>(&mut self) -> [u8; N] {
        loop {
            if self.pool.len() < N {
                self.refill();
            }
            let mut id = [0u8; N];
            id.copy_from_slice(&self.pool[..N]);
            self.pool.drain(..N);
            // All zeros is invalid in OTLP.
            if id != [0u8; N] {
                return id;
            }
        }
    }

    fn refill(&mut self) {
        use std::io::Read as _;
        let mut buf = [0u8; 256];
        let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf));
        if read.is_err() {
            // No /dev/urandom: std's per-process random hasher keys.
            use std::hash::{BuildHasher as _, Hasher as _};
            for chunk in buf.chunks_mut(8) {
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_u128(nanos(SystemTime::now()) as u128);
                chunk.copy_from_slice(&h.finish().to_le_bytes()[..chunk.len()]);
            }
        }
        self.pool.extend_from_slice(&buf);
    }

    fn trace(&mut self) -> [u8; 16] {
        self.take()
    }

    fn span(&mut self) -> [u8; 8] {
        self.take()
    }
}

/// Protocol Buffers wire format, as much of it as OTLP's trace messages
/// need.
mod wire {
    pub fn varint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push((v as u8) | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    fn tag(out: &mut Vec<u8>, field: u32, wire: u8) {
        varint(out, (u64::from(field) << 3) | u64::from(wire));
    }

    pub fn bytes(out: &mut Vec<u8>, field: u32, b: &[u8]) {
        tag(out, field, 2);
        varint(out, b.len() as u64);
        out.extend_from_slice(b);
    }

    pub fn string(out: &mut Vec<u8>, field: u32, s: &str) {
        if !s.is_empty() {
            bytes(out, field, s.as_bytes());
        }
    }

    pub fn uint(out: &mut Vec<u8>, field: u32, v: u64) {
        if v != 0 {
            tag(out, field, 0);
            varint(out, v);
        }
    }

    pub fn fixed64(out: &mut Vec<u8>, field: u32, v: u64) {
        tag(out, field, 1);
        out.extend_from_slice(&v.to_le_bytes());
    }

    pub fn fixed32(out: &mut Vec<u8>, field: u32, v: u32) {
        tag(out, field, 5);
        out.extend_from_slice(&v.to_le_bytes());
    }

    pub fn message(out: &mut Vec<u8>, field: u32, build: impl FnOnce(&mut Vec<u8>)) {
        let mut inner = Vec::new();
        build(&mut inner);
        bytes(out, field, &inner);
    }
}

/// A span's flags: the trace flags, and whether its parent is remote (only
/// the root's parent, from `TRACEPARENT`, is).
fn flags(trace: &Trace, index: usize, span: &Span) -> u32 {
    let remote = u32::from(index == 0 && span.parent.is_some());
    u32::from(trace.flags) | 0x100 | (remote << 9)
}

/// `ExportTraceServiceRequest` in the protobuf encoding.
fn protobuf(trace: &Trace, resource: &[(String, Value)]) -> Vec<u8> {
    fn key_value(out: &mut Vec<u8>, field: u32, key: &str, value: &Value) {
        wire::message(out, field, |kv| {
            wire::string(kv, 1, key);
            // AnyValue: always written, even when empty or zero.
            wire::message(kv, 2, |any| match value {
                Value::Str(s) => wire::bytes(any, 1, s.as_bytes()),
                Value::Bool(b) => {
                    any.push(2 << 3);
                    any.push(u8::from(*b));
                }
                Value::Int(i) => {
                    any.push(3 << 3);
                    wire::varint(any, *i as u64);
                }
            });
        });
    }
    let mut out = Vec::new();
    wire::message(&mut out, 1, |rs| {
        wire::message(rs, 1, |r| {
            for (k, v) in resource {
                key_value(r, 1, k, v);
            }
        });
        wire::message(rs, 2, |ss| {
            wire::message(ss, 1, |scope| {
                wire::string(scope, 1, "portcullis");
                wire::string(scope, 2, env!("CARGO_PKG_VERSION"));
            });
            for (i, span) in trace.spans.iter().enumerate() {
                wire::message(ss, 2, |s| {
                    wire::bytes(s, 1, &trace.trace_id);
                    wire::bytes(s, 2, &span.span_id);
                    wire::string(s, 3, &trace.state);
                    if let Some(p) = &span.parent {
                        wire::bytes(s, 4, p);
                    }
                    wire::string(s, 5, &span.name);
                    wire::uint(s, 6, 1); // SPAN_KIND_INTERNAL
                    wire::fixed64(s, 7, span.start);
                    wire::fixed64(s, 8, span.end.max(span.start));
                    for (k, v) in &span.attributes {
                        key_value(s, 9, k, v);
                    }
                    wire::message(s, 15, |status| {
                        if let Some(m) = &span.error {
                            wire::string(status, 2, m);
                            wire::uint(status, 3, 2); // STATUS_CODE_ERROR
                        }
                    });
                    wire::fixed32(s, 16, flags(trace, i, span));
                });
            }
        });
    });
    out
}

/// `ExportTraceServiceRequest` in OTLP's JSON encoding (ids in hex).
fn json(trace: &Trace, resource: &[(String, Value)]) -> String {
    use serde_json::json;
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let attrs = |list: &[(String, Value)]| -> Vec<serde_json::Value> {
        list.iter()
            .map(|(k, v)| {
                let value = match v {
                    Value::Str(s) => json!({ "stringValue": s }),
                    Value::Int(i) => json!({ "intValue": i.to_string() }),
                    Value::Bool(b) => json!({ "boolValue": b }),
                };
                json!({ "key": k, "value": value })
            })
            .collect()
    };
    let spans: Vec<serde_json::Value> = trace
        .spans
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut span = json!({
                "traceId": hex(&trace.trace_id),
                "spanId": hex(&s.span_id),
                "name": s.name,
                "kind": 1,
                "startTimeUnixNano": s.start.to_string(),
                "endTimeUnixNano": s.end.max(s.start).to_string(),
                "attributes": attrs(&s.attributes),
                "status": match &s.error {
                    Some(m) => json!({ "code": 2, "message": m }),
                    None => json!({}),
                },
            });
            if let Some(p) = &s.parent {
                span["parentSpanId"] = hex(p).into();
            }
            if !trace.state.is_empty() {
                span["traceState"] = trace.state.clone().into();
            }
            span["flags"] = flags(trace, i, s).into();
            span
        })
        .collect();
    json!({
        "resourceSpans": [{
            "resource": { "attributes": attrs(resource) },
            "scopeSpans": [{
                "scope": { "name": "portcullis", "version": env!("CARGO_PKG_VERSION") },
                "spans": spans,
            }],
        }],
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_is_read_as_the_w3c_spec_says() {
        let p = parse_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "congo=t61rcWkgMzE".into(),
        )
        .expect("valid");
        assert_eq!(p.trace_id[0], 0x4b);
        assert_eq!(p.span_id[7], 0xb7);
        assert_eq!(p.flags, 1);
        assert_eq!(p.state, "congo=t61rcWkgMzE");
        for bad in [
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "",
        ] {
            assert!(parse_traceparent(bad, String::new()).is_err(), "{bad}");
        }
        // A later version may carry more parts.
        assert!(
            parse_traceparent(
                "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
                String::new()
            )
            .is_ok()
        );
    }

    #[test]
    fn header_and_resource_pairs_are_percent_decoded() {
        assert_eq!(
            parse_pairs("api-key=a%20b, x=1", "H", Secret::None).expect("pairs"),
            [
                ("api-key".to_string(), "a b".to_string()),
                ("x".into(), "1".into())
            ]
        );
        assert!(parse_pairs("novalue", "H", Secret::None).is_err());
        assert!(
            parse_pairs("k=%0a", "H", Secret::None).is_err(),
            "a header value cannot hold a newline"
        );
        assert!(parse_pairs("k=%zz", "H", Secret::None).is_err());
        // Credentials never appear in the message.
        for bad in [
            "Authorization: Bearer tok3n",
            "a=1,Authorization=Bearer%zztok3n",
        ] {
            let e = parse_pairs(bad, "H", Secret::Values).expect_err(bad);
            assert!(!e.contains("tok3n") && !e.contains("Bearer"), "{e}");
        }
    }

    #[test]
    fn varints_are_little_endian_base_128() {
        let mut out = Vec::new();
        wire::varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
    }
}
