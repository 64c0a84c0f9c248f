//! `--metrics` and `--pushgateway` against the real servers: Debian's
//! `prometheus-pushgateway` and `prometheus` (installed by
//! `scripts/test-tools`), started on loopback ports with temporary data and
//! stopped at the end; every panel of the shipped Grafana dashboard is
//! queried and must answer.

#![allow(clippy::unwrap_used)] // in tests a panic is the failure report

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::canary::Prometheus;
use crate::common::{Repo, copy_dir, fixtures};

/// A Pushgateway on a free loopback port, stopped on drop.
struct Pushgateway {
    child: Child,
    addr: String,
    _dir: tempfile::TempDir,
}

impl Pushgateway {
    fn start() -> Pushgateway {
        let bin = Path::new("/usr/bin/prometheus-pushgateway");
        assert!(
            bin.exists(),
            "{} is missing: run scripts/test-tools (it installs Debian's prometheus-pushgateway)",
            bin.display()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(bin)
            .arg(format!("--web.listen-address={addr}"))
            .arg(format!(
                "--persistence.file={}",
                dir.path().join("pushgateway.data").display()
            ))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus-pushgateway");
        let gateway = Pushgateway {
            child,
            addr,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(format!("http://{}/-/ready", gateway.addr))
            .call()
            .is_err()
        {
            assert!(Instant::now() < deadline, "the Pushgateway did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        gateway
    }
}

impl Drop for Pushgateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A waiver date `days` from today, as the policy writes it.
fn in_days(days: i64) -> String {
    use portcullis::policy::date::Date;
    let today = Date::today().expect("today");
    Date::from_days(Date::from_days(0).days_until(today) + days).to_string()
}

#[test]
fn metrics_reach_prometheus_through_the_pushgateway_and_every_dashboard_panel_answers() {
    let gateway = Pushgateway::start();
    let prometheus = Prometheus::scraping(&gateway.addr);

    // A failing run: a merge conflict (lint, error), a perf regression
    // (warning), and a waiver that runs out in 5 days.
    let repo = Repo::new();
    repo.write(".gitignore", "target/\n")
        .write(
            "notes.txt",
            "<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> branch\n",
        )
        .write(
            "portcullis.toml",
            format!(
                r#"
[plugins.lint]
source = "builtin:lint"
read = ["."]

[plugins.perf]
source = "builtin:perf"
read = ["target/criterion"]

[plugins.perf.config]
benchmarks = [{{ format = "criterion", current = "target/criterion", saved-baseline = "main" }}]

[[waivers]]
rule = "lint/large-file"
paths = ["assets/**"]
reason = "artwork, moving to LFS"
owner = "design@example.com"
expires = "{}"
"#,
                in_days(5)
            ),
        );
    copy_dir(
        &fixtures().join("perf/criterion"),
        &repo.path().join("target/criterion"),
    );
    let textfile = repo.path().join("target/portcullis.prom");
    let env = [
        ("GITHUB_REPOSITORY", "octo/app"),
        ("GITHUB_REF_NAME", "main"),
    ];
    let url = format!("http://{}", gateway.addr);
    let textfile_arg = textfile.to_string_lossy().into_owned();
    let publish = || {
        repo.run_env(
            &[
                "check",
                ".",
                "--metrics",
                &textfile_arg,
                "--pushgateway",
                &url,
            ],
            &env,
        )
    };
    let run = publish();
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);

    // The textfile is what node_exporter's collector reads: promtool
    // accepts it.
    let text = std::fs::read_to_string(&textfile).expect("metrics written");
    let check = Command::new("/usr/bin/promtool")
        .args(["check", "metrics"])
        .stdin(std::fs::File::open(&textfile).expect("open"))
        .output()
        .expect("promtool");
    assert!(
        check.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    assert!(
        text.contains(
            "portcullis_findings{repository=\"octo/app\",branch=\"main\",plugin=\"lint\",rule=\"lint/merge-conflict\",level=\"error\"} 3"
        ),
        "{text}"
    );

    // Prometheus scrapes the Pushgateway every second.
    prometheus.wait_for(
        r#"portcullis_gate_passed{repository="octo/app",branch="main"}"#,
        "Prometheus never saw the push",
    );

    // Every panel of the shipped dashboard answers, with the run's numbers.
    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("../../docs/grafana/portcullis-dashboard.json"))
            .expect("docs/grafana/portcullis-dashboard.json"),
    )
    .expect("dashboard JSON");
    let mut answers = std::collections::BTreeMap::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        let title = panel["title"].as_str().expect("title").to_string();
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"]
                .as_str()
                .expect("expr")
                .replace("$repository", ".*")
                .replace("$perf_plugin", "perf")
                .replace("$__range", "1m");
            let result = prometheus.query(&expr);
            assert!(!result.is_empty(), "panel `{title}`: `{expr}` gave nothing");
            answers.insert(title.clone(), result);
        }
    }
    let value = |title: &str, label: Option<(&str, &str)>| -> f64 {
        answers[title]
            .iter()
            .find(|r| label.is_none_or(|(k, v)| r["metric"][k] == v))
            .and_then(|r| r["value"][1].as_str())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{title}: {:?}", answers[title]))
    };
    assert_eq!(
        value("Share of time green", Some(("repository", "octo/app"))),
        0.0
    );
    assert_eq!(
        value(
            "Latest verdict by repository and branch",
            Some(("verdict", "fail"))
        ),
        1.0
    );
    assert_eq!(
        value(
            "Top rules failing at error level",
            Some(("rule", "lint/merge-conflict"))
        ),
        3.0
    );
    let days = value(
        "Waivers expired or expiring within 14 days",
        Some(("owner", "design@example.com")),
    );
    assert!((5.0..=6.0).contains(&days), "{days}");
    assert_eq!(value("Perf trend", Some(("rule", "perf/regression"))), 1.0);
    assert!(value("Time per plugin", Some(("plugin", "perf"))) > 0.0);
    assert!(value("Run time", None) > 0.0);
    assert!(value("Last run age", Some(("branch", "main"))) < 120.0);

    // A run that stops before any verdict (a policy error) still pushes
    // exit 2, replacing the failing run's push.
    repo.write("portcullis.toml", "[plugins.lint]\nread = [\".\"]\n");
    let run = publish();
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    let text = std::fs::read_to_string(&textfile).expect("metrics written");
    assert!(
        text.contains(
            "portcullis_gate_exit_code{repository=\"octo/app\",branch=\"main\",verdict=\"error\"} 2"
        ),
        "{text}"
    );
    prometheus.wait_for(
        r#"portcullis_gate_exit_code{repository="octo/app",verdict="error"}"#,
        "Prometheus never saw the stopped run",
    );

    // A Pushgateway that is not there: the verdict is printed first; a
    // failed gate stays exit 1, a passing one is exit 2.
    let gone = format!("http://{}", gateway.addr);
    drop(gateway);
    repo.write(
        "portcullis.toml",
        "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n",
    );
    let run = repo.run_env(&["check", ".", "--pushgateway", &gone], &env);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("pushing to http://127.0.0.1:"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.contains("gate FAILED"), "{}", run.stdout);
    std::fs::remove_file(repo.path().join("notes.txt")).expect("remove");
    let run = repo.run_env(&["check", ".", "--pushgateway", &gone], &env);
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("gate passed"), "{}", run.stdout);
}
