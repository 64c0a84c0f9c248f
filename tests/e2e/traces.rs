//! OpenTelemetry traces through the binary: an OTLP/HTTP receiver on a
//! loopback port takes what a run exports and decodes it with the
//! OpenTelemetry project's own message definitions (the
//! `opentelemetry-proto` crate): protobuf, and the JSON encoding.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::{Span, status::StatusCode};
use prost::Message as _;

use crate::common::*;

/// One HTTP request as the receiver read it.
struct Received {
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A receiver that answers every request 200 and hands it over.
fn receiver() -> (String, mpsc::Receiver<Received>) {
    receiver_answering("200 OK", "")
}

/// A receiver that answers every request with `status` and `body`.
fn receiver_answering(
    status: &'static str,
    answer: &'static str,
) -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().expect("clone"));
            let mut line = String::new();
            reader.read_line(&mut line).expect("request line");
            let path = line.split(' ').nth(1).unwrap_or_default().to_string();
            let mut headers = Vec::new();
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).expect("header");
                let h = h.trim_end();
                if h.is_empty() {
                    break;
                }
                if let Some((k, v)) = h.split_once(':') {
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                }
            }
            let len: usize = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                .map_or(0, |(_, v)| v.parse().expect("length"));
            let mut body = vec![0; len];
            reader.read_exact(&mut body).expect("body");
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                    answer.len()
                )
                .as_bytes(),
            );
            if tx
                .send(Received {
                    path,
                    headers,
                    body,
                })
                .is_err()
            {
                return;
            }
        }
    });
    (url, rx)
}

fn attr<'a>(list: &'a [KeyValue], key: &str) -> Option<&'a any_value::Value> {
    list.iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v: &AnyValue| v.value.as_ref())
}

fn str_attr<'a>(list: &'a [KeyValue], key: &str) -> &'a str {
    match attr(list, key) {
        Some(any_value::Value::StringValue(s)) => s,
        other => panic!("{key}: {other:?}"),
    }
}

fn int_attr(list: &[KeyValue], key: &str) -> i64 {
    match attr(list, key) {
        Some(any_value::Value::IntValue(i)) => *i,
        other => panic!("{key}: {other:?}"),
    }
}

fn span<'a>(spans: &'a [Span], name: &str) -> &'a Span {
    spans.iter().find(|s| s.name == name).unwrap_or_else(|| {
        panic!(
            "no span `{name}` in {:?}",
            spans.iter().map(|s| &s.name).collect::<Vec<_>>()
        )
    })
}

/// `child` lies within `parent`, in time and in the tree.
fn assert_within(child: &Span, parent: &Span) {
    assert_eq!(
        child.parent_span_id, parent.span_id,
        "{} under {}",
        child.name, parent.name
    );
    assert_eq!(child.trace_id, parent.trace_id);
    assert!(
        child.start_time_unix_nano >= parent.start_time_unix_nano,
        "{} starts in {}",
        child.name,
        parent.name
    );
    assert!(
        child.end_time_unix_nano <= parent.end_time_unix_nano,
        "{} ends in {}",
        child.name,
        parent.name
    );
    assert!(child.end_time_unix_nano >= child.start_time_unix_nano);
}

fn lint_repo() -> Repo {
    let repo = Repo::new();
    repo.write("a.txt", "<<<<<<< HEAD\n").write(
        "portcullis.toml",
        "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n",
    );
    repo
}

#[test]
fn a_run_exports_its_trace_continuing_the_ci_trace_context() {
    let (url, rx) = receiver();
    let repo = lint_repo();
    let run = repo.run_env(
        &["check", "."],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", url.as_str()),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20t0ken,x-team=gate",
            ),
            ("OTEL_SERVICE_NAME", "gate-ci"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=ci,service.name=ignored",
            ),
            (
                "TRACEPARENT",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
            ("TRACESTATE", "congo=t61rcWkgMzE"),
            ("GITHUB_REPOSITORY", "org/app"),
            ("GITHUB_REF_NAME", "main"),
        ],
    );
    assert_eq!(
        run.code, 1,
        "the verdict is the gate's: {}{}",
        run.stdout, run.stderr
    );
    assert!(!run.stderr.contains("trace"), "{}", run.stderr);
    let got = rx.recv_timeout(Duration::from_secs(10)).expect("a trace");
    assert_eq!(got.path, "/v1/traces");
    assert_eq!(got.header("content-type"), Some("application/x-protobuf"));
    assert_eq!(got.header("authorization"), Some("Bearer t0ken"));
    assert_eq!(got.header("x-team"), Some("gate"));
    let request = ExportTraceServiceRequest::decode(&got.body[..]).expect("OTLP protobuf");
    let rs = &request.resource_spans[0];
    let resource = &rs.resource.as_ref().expect("resource").attributes;
    assert_eq!(str_attr(resource, "service.name"), "gate-ci");
    assert_eq!(str_attr(resource, "deployment.environment"), "ci");
    assert_eq!(
        str_attr(resource, "service.version"),
        env!("CARGO_PKG_VERSION")
    );
    let scope = &rs.scope_spans[0];
    assert_eq!(scope.scope.as_ref().expect("scope").name, "portcullis");
    let spans = &scope.spans;

    let root = span(spans, "portcullis check");
    assert_eq!(
        hex(&root.trace_id),
        "4bf92f3577b34da6a3ce929d0e0e4736",
        "the CI's trace"
    );
    assert_eq!(
        hex(&root.parent_span_id),
        "00f067aa0ba902b7",
        "under the CI's span"
    );
    assert_eq!(root.trace_state, "congo=t61rcWkgMzE");
    assert_eq!(root.flags & 0x301, 0x301, "sampled, with a remote parent");
    assert_eq!(str_attr(&root.attributes, "portcullis.verdict"), "fail");
    assert_eq!(int_attr(&root.attributes, "portcullis.exit_code"), 1);
    assert_eq!(int_attr(&root.attributes, "portcullis.findings.error"), 1);
    assert_eq!(str_attr(&root.attributes, "vcs.repository.name"), "org/app");
    assert_eq!(str_attr(&root.attributes, "vcs.ref.head.name"), "main");
    assert_ne!(
        root.status.as_ref().map_or(0, |s| s.code),
        StatusCode::Error as i32
    );

    let plugin = span(spans, "plugin lint");
    assert_within(plugin, root);
    assert_eq!(str_attr(&plugin.attributes, "portcullis.plugin.id"), "lint");
    assert_eq!(
        str_attr(&plugin.attributes, "portcullis.plugin.source"),
        "builtin:lint"
    );
    assert_eq!(
        str_attr(&plugin.attributes, "portcullis.plugin.sha256").len(),
        64
    );
    assert_eq!(
        int_attr(&plugin.attributes, "portcullis.plugin.findings"),
        1
    );
    assert!(matches!(
        attr(&plugin.attributes, "portcullis.plugin.cache_hit"),
        Some(any_value::Value::BoolValue(_))
    ));
    for phase in ["load", "describe", "evaluate"] {
        assert_within(span(spans, phase), plugin);
    }
    let (evidence, gate) = (span(spans, "evidence"), span(spans, "gate"));
    assert_within(evidence, root);
    assert_within(gate, root);
    assert!(span(spans, "evaluate").start_time_unix_nano >= evidence.end_time_unix_nano);
    assert!(gate.start_time_unix_nano >= span(spans, "evaluate").end_time_unix_nano);
    assert_eq!(spans.len(), 7);
    let mut ids: Vec<&[u8]> = spans.iter().map(|s| &s.span_id[..]).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 7, "span ids are unique");
}

#[test]
fn the_json_encoding_a_failed_plugin_and_a_fresh_trace() {
    let (url, rx) = receiver();
    let repo = Repo::new();
    repo.write("README.md", "hello\n");
    repo.policy_with_wasm(
        "hostile",
        HOSTILE_WASM,
        "[plugins.hostile.config]\nattack = \"panic\"\n",
    );
    let endpoint = format!("{url}/custom/traces");
    let run = repo.run_env(
        &["check", "."],
        &[
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9/not-this"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
            // Not a trace context: a new trace starts.
            (
                "TRACEPARENT",
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            ),
        ],
    );
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let got = rx.recv_timeout(Duration::from_secs(10)).expect("a trace");
    assert_eq!(
        got.path, "/custom/traces",
        "a signal endpoint is used as given"
    );
    assert_eq!(got.header("content-type"), Some("application/json"));
    let request: ExportTraceServiceRequest =
        serde_json::from_slice(&got.body).expect("OTLP JSON, as the OpenTelemetry types read it");
    let spans = &request.resource_spans[0].scope_spans[0].spans;
    let root = span(spans, "portcullis check");
    assert!(root.parent_span_id.is_empty(), "no parent");
    assert_eq!(root.trace_id.len(), 16);
    assert_ne!(hex(&root.trace_id), "00000000000000000000000000000000");
    assert_eq!(
        root.status.as_ref().expect("status").code,
        StatusCode::Error as i32
    );
    let plugin = span(spans, "plugin hostile");
    let status = plugin.status.as_ref().expect("status");
    assert_eq!(status.code, StatusCode::Error as i32);
    assert!(
        status
            .message
            .contains("panicked: the hostile plugin panics on purpose"),
        "{}",
        status.message
    );
    assert_eq!(
        str_attr(&plugin.attributes, "portcullis.plugin.error_kind"),
        "panic"
    );
}

#[test]
fn tracing_off_or_failing_never_changes_the_verdict() {
    let (url, rx) = receiver();
    let repo = Repo::new();
    repo.write("README.md", "hello\n").write(
        "portcullis.toml",
        "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n",
    );
    // Unset, or disabled: nothing is sent.
    let run = repo.run(&["check", "."]);
    assert_eq!(run.code, 0);
    let run = repo.run_env(
        &["check", "."],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", url.as_str()),
            ("OTEL_SDK_DISABLED", "true"),
        ],
    );
    assert_eq!(run.code, 0);
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "nothing exported"
    );

    // A CI trace that is not sampled is not recorded below either.
    let run = repo.run_env(
        &["check", "."],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", url.as_str()),
            (
                "TRACEPARENT",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            ),
        ],
    );
    assert_eq!(run.code, 0);
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "not sampled"
    );

    // Nobody listening: a warning, and the run passes.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", l.local_addr().expect("addr"))
    };
    let run = repo.run_env(
        &["check", "."],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", closed.as_str())],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: the trace was not exported: http://127.0.0.1:"),
        "{}",
        run.stderr
    );

    // A collector that refuses: its answer, on one line, in the warning.
    let (busy, _busy_rx) = receiver_answering("503 Service Unavailable", "over\ncapacity");
    let run = repo.run_env(
        &["check", "."],
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", busy.as_str())],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("warning: the trace was not exported: http://127.0.0.1:")
            && run.stderr.contains(": HTTP 503: over capacity"),
        "{}",
        run.stderr
    );

    // A token is never sent in clear text off this machine.
    let run = repo.run_env(
        &["check", "."],
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "http://collector.example:4318",
            ),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20secret",
            ),
        ],
    );
    assert_eq!(run.code, 0);
    assert!(
        run.stderr.contains("neither https nor loopback"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("secret"), "{}", run.stderr);

    // A malformed header list is named by position, its token never shown.
    let run = repo.run_env(
        &["check", "."],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", url.as_str()),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "Authorization: Bearer s3cr3t-t0ken",
            ),
        ],
    );
    assert_eq!(run.code, 0);
    assert!(
        run.stderr
            .contains("OTEL_EXPORTER_OTLP_HEADERS: item 1 is not key=value"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("s3cr3t"), "{}", run.stderr);

    // gRPC is not spoken.
    let run = repo.run_env(
        &["check", "."],
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", url.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ],
    );
    assert_eq!(run.code, 0);
    assert!(
        run.stderr.contains("OTLP protocol `grpc` is not supported"),
        "{}",
        run.stderr
    );
    assert!(
        rx.recv_timeout(Duration::from_millis(300)).is_err(),
        "nothing exported"
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
