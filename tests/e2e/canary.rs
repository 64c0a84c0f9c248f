//! The canary plugin against a real Prometheus (Debian's `prometheus`,
//! installed by `scripts/test-tools`): series written as OpenMetrics,
//! backfilled with `promtool tsdb create-blocks-from openmetrics`, served by
//! a server started on a free loopback port with a temporary data
//! directory, and stopped when the test ends.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{Repo, Run, finding_messages, results};

/// 2026-01-01T00:00:00Z: the backfilled series start here and run 40 minutes.
const T0: i64 = 1_767_225_600;
const MINUTES: i64 = 40;
/// The analysis window of the tests: minutes 20 to 30.
/// The policy keys that take the server from `PROMETHEUS_URL`.
const URL_ENV: &str = r#"url-env = "PROMETHEUS_URL""#;
const SINCE: &str = "2026-01-01T00:20:00Z";
const UNTIL: &str = "2026-01-01T00:30:00Z";

/// How each scenario's canary and baseline behave.
struct Track {
    scenario: &'static str,
    track: &'static str,
    /// Requests per second.
    rps: f64,
    /// Fraction of requests answered 500.
    errors: f64,
    /// Fraction of requests faster than each bucket bound.
    latency: [f64; 5],
    /// CPU seconds a second.
    cpu: f64,
}

const BOUNDS: [&str; 5] = ["0.05", "0.1", "0.25", "0.5", "1"];
const FAST: [f64; 5] = [0.50, 0.80, 0.95, 0.99, 0.998];
const SLOW: [f64; 5] = [0.20, 0.45, 0.75, 0.93, 0.985];

const TRACKS: &[Track] = &[
    Track {
        scenario: "healthy",
        track: "canary",
        rps: 20.0,
        errors: 0.003,
        latency: FAST,
        cpu: 0.3,
    },
    Track {
        scenario: "healthy",
        track: "baseline",
        rps: 20.0,
        errors: 0.003,
        latency: FAST,
        cpu: 0.3,
    },
    Track {
        scenario: "errors",
        track: "canary",
        rps: 20.0,
        errors: 0.04,
        latency: FAST,
        cpu: 0.3,
    },
    Track {
        scenario: "errors",
        track: "baseline",
        rps: 20.0,
        errors: 0.003,
        latency: FAST,
        cpu: 0.3,
    },
    Track {
        scenario: "latency",
        track: "canary",
        rps: 20.0,
        errors: 0.003,
        latency: SLOW,
        cpu: 0.5,
    },
    Track {
        scenario: "latency",
        track: "baseline",
        rps: 20.0,
        errors: 0.003,
        latency: FAST,
        cpu: 0.3,
    },
    Track {
        scenario: "quiet",
        track: "canary",
        rps: 0.1,
        errors: 0.003,
        latency: FAST,
        cpu: 0.3,
    },
    Track {
        scenario: "quiet",
        track: "baseline",
        rps: 20.0,
        errors: 0.003,
        latency: FAST,
        cpu: 0.3,
    },
];

/// Deterministic noise in [-0.5, 0.5) for step `i` of series `seed`.
fn noise(i: i64, seed: i64) -> f64 {
    ((i * 7_919 + seed * 104_729 + i * i * 31) % 1_000) as f64 / 1_000.0 - 0.5
}

/// The scenarios' series as OpenMetrics text, one sample every 15 s.
fn openmetrics() -> String {
    let mut requests = String::from("# TYPE http_requests counter\n");
    let mut buckets = String::from("# TYPE http_request_duration_seconds_bucket gauge\n");
    let mut cpu = String::from("# TYPE process_cpu_seconds counter\n");
    for (seed, t) in TRACKS.iter().enumerate() {
        let labels = format!("scenario=\"{}\",track=\"{}\"", t.scenario, t.track);
        let (mut ok, mut failed, mut total) = (0.0f64, 0.0f64, 0.0f64);
        let mut cumulative = [0.0f64; 5];
        let mut lines_ok = String::new();
        let mut lines_failed = String::new();
        let mut lines_buckets = vec![String::new(); 6];
        let mut used = 0.0f64;
        for i in 0..=(MINUTES * 4) {
            let ts = T0 + i * 15;
            let n = (t.rps * 15.0 * (1.0 + 0.2 * noise(i, seed as i64))).round();
            let e = (n * t.errors * (1.0 + noise(i + 7, seed as i64))).round();
            ok += n - e;
            failed += e;
            total += n;
            lines_ok.push_str(&format!(
                "http_requests_total{{code=\"200\",{labels}}} {ok} {ts}\n"
            ));
            lines_failed.push_str(&format!(
                "http_requests_total{{code=\"500\",{labels}}} {failed} {ts}\n"
            ));
            for (b, frac) in t.latency.iter().enumerate() {
                cumulative[b] += (n * frac).round();
                lines_buckets[b].push_str(&format!(
                    "http_request_duration_seconds_bucket{{le=\"{}\",{labels}}} {} {ts}\n",
                    BOUNDS[b], cumulative[b]
                ));
            }
            used += 15.0 * t.cpu * (1.0 + 0.1 * noise(i + 3, seed as i64));
            cpu.push_str(&format!(
                "process_cpu_seconds_total{{{labels}}} {used:.3} {ts}\n"
            ));
            lines_buckets[5].push_str(&format!(
                "http_request_duration_seconds_bucket{{le=\"+Inf\",{labels}}} {total} {ts}\n"
            ));
        }
        requests.push_str(&lines_ok);
        requests.push_str(&lines_failed);
        for l in lines_buckets {
            buckets.push_str(&l);
        }
    }
    format!("{requests}{buckets}{cpu}# EOF\n")
}

/// A Prometheus serving the scenarios, stopped (and its data removed) on drop.
pub struct Prometheus {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    pub fn start() -> Prometheus {
        Prometheus::start_with(None)
    }

    /// With `web`, the server also reads that web configuration
    /// (`--web.config.file`: TLS, basic auth), written beside its data.
    pub fn start_with(web: Option<&str>) -> Prometheus {
        let promtool = tool("promtool");
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().join("data");
        let input = dir.path().join("series.om");
        std::fs::write(&input, openmetrics()).expect("write series");
        let out = Command::new(&promtool)
            .args(["tsdb", "create-blocks-from", "openmetrics"])
            .arg(&input)
            .arg(&data)
            .output()
            .expect("run promtool");
        assert!(
            out.status.success(),
            "promtool backfill: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Prometheus::launch(dir, "global:\n  scrape_interval: 15s\n", web)
    }

    /// A Prometheus with no data of its own, scraping `target` (a
    /// Pushgateway: its labels kept) every second.
    pub fn scraping(target: &str) -> Prometheus {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: pushgateway\n    honor_labels: true\n    static_configs:\n      - targets: [\"{target}\"]\n"
        );
        Prometheus::launch(dir, &config, None)
    }

    fn launch(dir: tempfile::TempDir, config_text: &str, web: Option<&str>) -> Prometheus {
        let prometheus = tool("prometheus");
        let data = dir.path().join("data");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, config_text).expect("config");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("prometheus.log")).expect("log");
        let mut command = Command::new(&prometheus);
        if let Some(web) = web {
            let file = dir.path().join("web.yml");
            std::fs::write(&file, web).expect("web config");
            command.arg(format!("--web.config.file={}", file.display()));
        }
        let child = command
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg("--storage.tsdb.retention.time=100y")
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start prometheus");
        let scheme = if web.is_some_and(|w| w.contains("tls_server_config")) {
            "https"
        } else {
            "http"
        };
        let server = Prometheus {
            child,
            url: format!("{scheme}://127.0.0.1:{port}"),
            _dir: dir,
        };
        if scheme == "http" {
            server.wait_ready();
        }
        server
    }

    /// Answer an instant PromQL query: the `result` array.
    pub fn query(&self, promql: &str) -> Vec<serde_json::Value> {
        let mut response = ureq::post(format!("{}/api/v1/query", self.url))
            .send_form([("query", promql)])
            .unwrap_or_else(|e| panic!("{promql}: {e}"));
        let text = response.body_mut().read_to_string().expect("answer");
        let v: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{promql}: {e}: {text}"));
        assert_eq!(v["status"], "success", "{promql}: {v}");
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// Wait until `promql` has a series (a scrape has happened), or fail
    /// saying `what` never came.
    pub fn wait_for(&self, promql: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.query(promql).is_empty() {
            assert!(Instant::now() < deadline, "{what}");
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = self.url.trim_start_matches("http://").to_string();
        while Instant::now() < deadline {
            if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
                let _ = write!(s, "GET /-/ready HTTP/1.0\r\n\r\n");
                let mut answer = String::new();
                let _ = s.read_to_string(&mut answer);
                if answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200") {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let log =
            std::fs::read_to_string(self._dir.path().join("prometheus.log")).unwrap_or_default();
        panic!("prometheus did not become ready in 30 s: {log}");
    }

    /// Pause the server (SIGSTOP): it accepts connections and answers nothing.
    fn pause(&self, stopped: bool) {
        let signal = if stopped { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .arg(signal)
            .arg(self.child.id().to_string())
            .status()
            .expect("kill");
        assert!(status.success());
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-CONT")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tool `scripts/test-tools` installs from Debian's packages.
fn tool(name: &str) -> PathBuf {
    let path = Path::new("/usr/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/test-tools (it installs Debian's prometheus package)",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// A policy judging `scenario`'s error ratio and p99 latency, canary
/// against baseline; `extra` is appended (rule levels, prometheus keys).
pub fn policy(scenario: &str, prometheus: &str, extra: &str) -> String {
    let sel = |track: &str| format!(r#"scenario="{scenario}",track="{track}""#);
    let ratio = |track: &str| {
        format!(
            r#"sum(rate(http_requests_total{{{s},code="500"}}[1m])) / sum(rate(http_requests_total{{{s}}}[1m]))"#,
            s = sel(track)
        )
    };
    let p99 = |track: &str| {
        format!(
            r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{s}}}[1m])))"#,
            s = sel(track)
        )
    };
    format!(
        r#"[plugins.canary]
source = "builtin:canary"

[plugins.canary.prometheus]
{prometheus}
window = "10m"
step = "30s"
timeout = "2s"
retries = 1

[[plugins.canary.config.metrics]]
name = "error ratio"
unit = "ratio"
query = '{canary_ratio}'
baseline = '{baseline_ratio}'
max = 0.01
max-increase = 0.5
min-difference = 0.002
traffic = 'sum(increase(http_requests_total{{{canary_sel}}}[10m]))'
min-traffic = 100

[[plugins.canary.config.metrics]]
name = "p99 latency"
unit = "seconds"
query = '{canary_p99}'
baseline = '{baseline_p99}'
max = 2.0
max-increase = 0.2
traffic = 'sum(increase(http_requests_total{{{canary_sel}}}[10m]))'
min-traffic = 100
{extra}
"#,
        canary_ratio = ratio("canary"),
        baseline_ratio = ratio("baseline"),
        canary_p99 = p99("canary"),
        baseline_p99 = p99("baseline"),
        canary_sel = sel("canary"),
    )
}

fn check(repo: &Repo, url: &str, extra: &[&str]) -> (Run, serde_json::Value) {
    let mut args = vec![
        "check", ".", "--since", SINCE, "--until", UNTIL, "--format", "json",
    ];
    args.extend_from_slice(extra);
    let run = repo.run_env(&args, &[("PROMETHEUS_URL", url)]);
    let json = if run.stdout.trim().is_empty() {
        serde_json::Value::Null
    } else {
        run.json()
    };
    (run, json)
}

/// Each metric's verdict (rule id) and message from a JSON report.
fn verdicts(json: &serde_json::Value) -> Vec<(String, String)> {
    json["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["rule_id"].as_str().unwrap_or_default().to_string(),
                f["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_canary_is_promoted_rolled_back_or_left_waiting_by_what_prometheus_says() {
    let server = Prometheus::start();
    let repo = Repo::new();

    // Healthy: both metrics pass, each with its numbers.
    repo.write("portcullis.toml", policy("healthy", URL_ENV, ""));
    let (run, json) = check(&repo, &server.url, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let v = verdicts(&json);
    assert_eq!(v.len(), 2, "{v:?}");
    assert!(v.iter().all(|(rule, _)| rule == "canary/healthy"), "{v:?}");
    assert!(
        v[0].1.starts_with(
            "error ratio 0.32 % on canary vs 0.32 % on baseline, within limit 1 % and +50 %"
        ),
        "{v:?}"
    );

    // An error spike on the canary: past the absolute limit.
    repo.write("portcullis.toml", policy("errors", URL_ENV, ""));
    let (sarif_run, sarif) = {
        let sarif_path = repo.path().join("canary.sarif");
        let (run, _) = check(
            &repo,
            &server.url,
            &["--sarif", &sarif_path.to_string_lossy()],
        );
        let text = std::fs::read_to_string(&sarif_path).expect("sarif written");
        (
            run,
            serde_json::from_str::<serde_json::Value>(&text).expect("sarif json"),
        )
    };
    assert_eq!(
        sarif_run.code, 1,
        "{}\n{}",
        sarif_run.stdout, sarif_run.stderr
    );
    crate::common::assert_valid_sarif(&sarif);
    crate::common::assert_github_accepts(&sarif);
    let report = sarif_run.json();
    let msgs = finding_messages(&report);
    let spike = msgs
        .iter()
        .find(|m| m.starts_with("error ratio"))
        .expect("error ratio verdict");
    assert!(
        spike.contains(" % on canary vs 0.32 % on baseline, limit 1 %"),
        "{spike}"
    );
    let canary_ratio: f64 = spike["error ratio ".len()..]
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3.0..5.0).contains(&canary_ratio), "{spike}");
    // The numbers are in the SARIF result's properties, for whoever is on call.
    let result = results(&sarif)
        .into_iter()
        .find(|r| r["ruleId"] == "canary/threshold")
        .expect("threshold result");
    assert_eq!(result["level"], "error");
    let props = &result["properties"];
    assert!(
        props["canary"]["samples"].as_u64().unwrap() >= 20,
        "{props}"
    );
    assert_eq!(props["verdict"], "threshold");

    // A latency regression: not past the limit, but far worse than the
    // baseline and significant.
    repo.write("portcullis.toml", policy("latency", URL_ENV, ""));
    let (run, json) = check(&repo, &server.url, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let v = verdicts(&json);
    let (rule, msg) = v
        .iter()
        .find(|(_, m)| m.starts_with("p99 latency"))
        .expect("p99");
    assert_eq!(rule, "canary/regression", "{msg}");
    assert!(
        msg.contains("higher, allowed 20 % (Mann-Whitney p < 0.0001, 21 vs 21 samples)"),
        "{msg}"
    );
    assert_eq!(
        v.iter().filter(|(r, _)| r == "canary/healthy").count(),
        1,
        "{v:?}"
    );

    // Too little traffic: inconclusive, which is never promoted unless the
    // policy says so.
    repo.write("portcullis.toml", policy("quiet", URL_ENV, ""));
    let (run, json) = check(&repo, &server.url, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let v = verdicts(&json);
    assert_eq!(v.len(), 2, "{v:?}");
    for (rule, message) in &v {
        assert_eq!(rule, "canary/inconclusive", "{message}");
        let served: f64 = message
            .split("only ")
            .nth(1)
            .and_then(|m| m.split(' ').next())
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{message}"));
        assert!((40.0..100.0).contains(&served), "{message}");
        assert!(
            message.ends_with(" requests on canary, at least 100 needed"),
            "{message}"
        );
    }
    repo.write(
        "portcullis.toml",
        policy(
            "quiet",
            URL_ENV,
            "\n[rules]\n\"canary/inconclusive\" = \"warning\"\n",
        ),
    );
    let (run, _) = check(&repo, &server.url, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);

    // A baseline measured just before the window, from the same query.
    let shifted = policy("errors", URL_ENV, "")
        .replace(
            &format!("baseline = '{}'", "sum(rate(http_requests_total{scenario=\"errors\",track=\"baseline\",code=\"500\"}[1m])) / sum(rate(http_requests_total{scenario=\"errors\",track=\"baseline\"}[1m]))"),
            "baseline-shift = \"window\"",
        );
    assert!(shifted.contains("baseline-shift"), "{shifted}");
    repo.write("portcullis.toml", shifted);
    let (run, json) = check(&repo, &server.url, &[]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let v = verdicts(&json);
    let (_, msg) = v
        .iter()
        .find(|(_, m)| m.starts_with("error ratio"))
        .expect("ratio");
    // The canary before the window had the same 4 % errors.
    assert!(!msg.contains("vs 0.32 %"), "{msg}");
}

#[test]
fn analysis_over_time_ends_early_on_failures_and_promotes_after_count() {
    let server = Prometheus::start();
    let repo = Repo::new();
    repo.write("portcullis.toml", policy("healthy", URL_ENV, ""));
    // An analysis that could never fail, or a window in the future, is
    // refused before anything runs.
    for (args, says) in [
        (
            vec!["--interval", "1s", "--count", "2", "--failure-limit", "2"],
            "could never fail",
        ),
        (
            vec!["--until", "2999-01-01T00:00:00Z"],
            "--until is in the future",
        ),
    ] {
        let mut all = vec!["check", "."];
        all.extend(args);
        let run = repo.run_env(&all, &[("PROMETHEUS_URL", &server.url)]);
        exit_2_saying(&run, says);
    }
    let started = Instant::now();
    let (run, json) = check(&repo, &server.url, &["--interval", "1s", "--count", "3"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr.matches("measurement ").count(),
        3,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("measurement 3/3 at 2026-01-01T00:30:00Z: passed"),
        "{}",
        run.stderr
    );
    assert!(started.elapsed() >= Duration::from_secs(2));
    let notices = json["notices"].to_string();
    assert!(
        notices.contains("analysis passed: 0 of 3 measurements failed, 0 tolerated"),
        "{notices}"
    );

    // Failing: the first failure past the limit ends it, with exit 1.
    repo.write("portcullis.toml", policy("errors", URL_ENV, ""));
    let (run, json) = check(
        &repo,
        &server.url,
        &["--interval", "1s", "--count", "10", "--failure-limit", "1"],
    );
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(
        run.stderr.matches("measurement ").count(),
        2,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("measurement 2/10 at 2026-01-01T00:30:00Z: FAILED (2 failed, 1 tolerated): canary/threshold: error ratio"),
        "{}",
        run.stderr
    );
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == "canary/threshold")
        .expect("threshold")
        .clone();
    assert_eq!(
        finding["properties"]["portcullis/measurement"], 2,
        "{finding}"
    );
    assert_eq!(
        finding["properties"]["portcullis/measured-at"],
        "2026-01-01T00:30:00Z"
    );
}

#[test]
fn prometheus_down_slow_failing_or_lying_is_exit_2_never_a_pass() {
    let server = Prometheus::start();
    let repo = Repo::new();

    // A PromQL error: Prometheus's own message, no retry.
    let bad = policy("healthy", URL_ENV, "")
        .replace("histogram_quantile(0.99,", "histogram_quantile(0.99");
    repo.write("portcullis.toml", bad);
    let (run, _) = check(&repo, &server.url, &[]);
    exit_2_saying(&run, "answered HTTP 400, bad_data: ");

    // A query that names nothing: no data where data is required.
    repo.write("portcullis.toml", policy("nosuch", URL_ENV, ""));
    let (run, _) = check(&repo, &server.url, &[]);
    exit_2_saying(&run, "returned no data in the window");

    // Slow: the server stopped mid-flight accepts and never answers.
    repo.write("portcullis.toml", policy("healthy", URL_ENV, ""));
    server.pause(true);
    let started = Instant::now();
    let (run, _) = check(&repo, &server.url, &[]);
    server.pause(false);
    exit_2_saying(&run, "no answer in time (tried 2 times");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    // Garbage: something else answers on the port.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let garbage = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 27\r\nconnection: close\r\n\r\n<html>Welcome nginx</html>\n",
            );
        }
    });
    let (run, _) = check(&repo, &garbage, &[]);
    exit_2_saying(&run, "not Prometheus's JSON (it begins `<html>Welcome");

    // A partial answer (Thanos with a store down): not an answer.
    let partial = serve(
        "200 OK",
        r#"{"status":"success","warnings":["store 10.0.0.7:10901 unavailable"],"data":{"resultType":"matrix","result":[]}}"#,
    );
    let (run, _) = check(&repo, &partial, &[]);
    exit_2_saying(&run, "a partial answer: store 10.0.0.7:10901 unavailable");

    // Down: nothing listens any more.
    let url = server.url.clone();
    drop(server);
    let (run, _) = check(&repo, &url, &[]);
    exit_2_saying(&run, &url);

    // No address at all: the policy names a variable that is not set.
    let (run, _) = {
        let args = ["check", ".", "--since", SINCE, "--until", UNTIL];
        (repo.run(&args), ())
    };
    exit_2_saying(&run, "environment variable PROMETHEUS_URL is not set");
}

#[test]
fn credentials_reach_the_server_and_never_the_output() {
    // A server that records what it was sent and answers like Prometheus.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let record = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut buf = vec![0u8; 65536];
            let n = stream.read(&mut buf).unwrap_or(0);
            record
                .lock()
                .unwrap()
                .push(String::from_utf8_lossy(&buf[..n]).into_owned());
            let body = r#"{"status":"error","errorType":"bad_data","error":"no such tenant"}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    let repo = Repo::new();
    let token = ["s3cr3t", "token", "value"].join("-");
    repo.write("token", format!("{token}\n"));
    repo.write(
        "portcullis.toml",
        policy(
            "healthy",
            &format!("url = \"{url}\"\nbearer-token-file = \"token\"\ntenant = \"team-a\""),
            "",
        ),
    );
    let sarif_path = repo.path().join("out.sarif");
    let (run, _) = check(
        &repo,
        &url,
        &["--sarif", &sarif_path.to_string_lossy(), "--verbose"],
    );
    exit_2_saying(&run, "no such tenant");
    let sarif = std::fs::read_to_string(&sarif_path).expect("sarif");
    for out in [&run.stdout, &run.stderr, &sarif] {
        assert!(!out.contains(&token), "the token leaked: {out}");
    }
    let seen = seen.lock().unwrap();
    assert!(!seen.is_empty());
    let first = seen[0].to_ascii_lowercase();
    assert!(first.starts_with("post /api/v1/query_range "), "{first}");
    assert!(
        first.contains(&format!("authorization: bearer {token}")),
        "{first}"
    );
    assert!(first.contains("x-scope-orgid: team-a"), "{first}");
}

#[test]
fn the_shipped_canary_policy_promotes_a_healthy_canary_and_rolls_back_an_erring_one() {
    let server = Prometheus::start();
    let shipped = std::fs::read_to_string(
        crate::common::fixtures().join("../../policies/canary/prometheus.toml"),
    )
    .expect("policies/canary/prometheus.toml");
    let repo = Repo::new();
    for (scenario, code, failing) in [
        ("healthy", 0, None),
        ("errors", 1, Some("canary/threshold")),
    ] {
        // The same queries, on one scenario's series.
        let policy = shipped
            .replace(
                r#"track="canary""#,
                &format!(r#"scenario="{scenario}",track="canary""#),
            )
            .replace(
                r#"track="baseline""#,
                &format!(r#"scenario="{scenario}",track="baseline""#),
            );
        repo.write("portcullis.toml", policy);
        let (run, json) = check(&repo, &server.url, &[]);
        assert_eq!(run.code, code, "{scenario}: {}\n{}", run.stdout, run.stderr);
        let v = verdicts(&json);
        assert_eq!(v.len(), 4, "{v:?}");
        match failing {
            None => assert!(v.iter().all(|(r, _)| r == "canary/healthy"), "{v:?}"),
            Some(rule) => assert_eq!(v.iter().filter(|(r, _)| r == rule).count(), 1, "{v:?}"),
        }
    }
}

/// A one-answer HTTP server on loopback: every request gets `status` and
/// the JSON `body`.
fn serve(status: &'static str, body: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 65536];
            let _ = stream.read(&mut buf);
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// Run openssl in `dir`, or fail naming what it said.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl is missing: run scripts/test-tools");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A private certificate authority and a server certificate for
/// 127.0.0.1 signed by it, made with openssl in `dir`.
fn private_ca(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=portcullis test CA",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-copy_extensions",
            "copy",
            "-out",
            "server.pem",
        ],
    );
}

/// Wait until the TLS server answers `/-/ready` with 200 (openssl as the
/// client: the server only speaks TLS and wants the password).
fn wait_ready_tls(url: &str, ca: &Path, authorization: &str) {
    let addr = url.trim_start_matches("https://");
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        let child = Command::new("openssl")
            .args(["s_client", "-quiet", "-connect", addr, "-CAfile"])
            .arg(ca)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        if let Ok(mut child) = child {
            if let Some(mut stdin) = child.stdin.take() {
                let _ = write!(
                    stdin,
                    "GET /-/ready HTTP/1.0\r\nAuthorization: {authorization}\r\n\r\n"
                );
            }
            let out = child.wait_with_output().expect("openssl");
            if String::from_utf8_lossy(&out.stdout).starts_with("HTTP/1.0 200") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("prometheus with TLS did not become ready in 30 s");
}

#[test]
fn tls_with_a_private_ca_and_basic_auth_against_prometheus() {
    use base64::Engine as _;
    let certs = tempfile::tempdir().expect("tempdir");
    private_ca(certs.path());
    let password = "correct horse battery staple";
    // bcrypt of the password (cost 4), as Prometheus's web config wants it.
    let hash = "$2b$04$E2qS6dBiwNcbYN2tLA.yWeIsPEFk4cet6FG1EQl05kqQz9ZWtDlE2";
    let web = format!(
        "tls_server_config:\n  cert_file: {}\n  key_file: {}\nbasic_auth_users:\n  portcullis: {hash}\n",
        certs.path().join("server.pem").display(),
        certs.path().join("server.key").display()
    );
    let server = Prometheus::start_with(Some(&web));
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("portcullis:{password}"));
    let ca = certs.path().join("ca.pem");
    wait_ready_tls(&server.url, &ca, &format!("Basic {basic}"));

    let repo = Repo::new();
    repo.write("password", format!("{password}\n"));
    repo.write("wrong", "tr0ub4dor&3\n");
    std::fs::copy(&ca, repo.path().join("ca.pem")).expect("copy ca");
    let auth = |password_file: &str, ca: bool| {
        let mut keys = format!(
            "url-env = \"PROMETHEUS_URL\"\nusername = \"portcullis\"\npassword-file = \"{password_file}\""
        );
        if ca {
            keys.push_str("\nca-file = \"ca.pem\"");
        }
        policy("healthy", &keys, "")
    };

    // The private CA and the password: judged as over plain HTTP.
    repo.write("portcullis.toml", auth("password", true));
    let (run, json) = check(&repo, &server.url, &[]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(verdicts(&json).iter().all(|(r, _)| r == "canary/healthy"));

    // Without the CA the server is not trusted; with a wrong password it
    // refuses: exit 2 either way, and no password in what is printed.
    repo.write("portcullis.toml", auth("password", false));
    let (run, _) = check(&repo, &server.url, &[]);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.to_lowercase().contains("certificate"),
        "{}",
        run.stderr
    );
    repo.write("portcullis.toml", auth("wrong", true));
    let (run, _) = check(&repo, &server.url, &[]);
    exit_2_saying(&run, "answered HTTP 401");
    for out in [&run.stdout, &run.stderr] {
        assert!(
            !out.contains("tr0ub4dor") && !out.contains(password),
            "{out}"
        );
    }
}

/// The run could not be evaluated (exit 2), and stderr says why.
fn exit_2_saying(run: &Run, says: &str) {
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains(says),
        "wanted `{says}` in: {}",
        run.stderr
    );
}
