//! The rego plugin's speed: the same policies and inputs evaluated natively
//! (the plugin's code, regorus included, run as an ordinary library) and in
//! the sandbox (`portcullis check`, warm), side by side; plus the cold
//! first run, which compiles the component.
//!
//! cargo build --release && cargo run --release -p portcullis-plugin-rego --example bench
#![allow(clippy::disallowed_macros, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use portcullis_plugin_rego::Rego;
use portcullis_sdk::testing::Harness;
use serde_json::json;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn manifests(dir: &Path, files: usize) {
    std::fs::create_dir_all(dir.join("k8s")).unwrap();
    for i in 0..files {
        let privileged = i % 7 == 0;
        let limits = if i % 5 == 0 {
            ""
        } else {
            "\n          resources:\n            limits: {cpu: 100m, memory: 64Mi}"
        };
        let text = format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc{i}\nspec:\n  ports: [{{port: 80}}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web{i}\n  labels: {{app: web{i}}}\nspec:\n  replicas: 3\n  template:\n    spec:\n      containers:\n        - name: app\n          image: ghcr.io/acme/web{i}:{}\n          securityContext: {{privileged: {privileged}}}{limits}\n        - name: sidecar\n          image: envoyproxy/envoy:v1.31.0\n          resources:\n            limits: {{cpu: 50m, memory: 32Mi}}\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: job{i}\nspec:\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers:\n            - name: job\n              image: busybox\n              resources:\n                limits: {{cpu: 10m, memory: 8Mi}}\n",
            if i % 3 == 0 { "latest" } else { "1.2.3" }
        );
        std::fs::write(dir.join(format!("k8s/app{i}.yaml")), text).unwrap();
    }
}

fn plan(dir: &Path, resources: usize) {
    let changes: Vec<serde_json::Value> = (0..resources)
        .map(|i| {
            let (ty, after) = match i % 4 {
                0 => ("aws_s3_bucket", json!({"bucket": format!("b{i}"), "server_side_encryption_configuration": [{"rule": []}]})),
                1 => ("aws_s3_bucket_acl", json!({"bucket": format!("b{}", i - 1), "acl": if i % 9 == 0 { "public-read" } else { "private" }})),
                2 => ("aws_ebs_volume", json!({"size": 10, "encrypted": i % 10 != 2})),
                _ => ("aws_db_instance", json!({"storage_encrypted": true})),
            };
            json!({"address": format!("{ty}.r{i}"), "type": ty, "change": {"actions": ["create"], "after": after}})
        })
        .collect();
    std::fs::create_dir_all(dir.join("infra")).unwrap();
    std::fs::write(
        dir.join("infra/plan.json"),
        json!({"format_version": "1.2", "resource_changes": changes}).to_string(),
    )
    .unwrap();
}

fn main() {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let bin = std::env::var_os("PORTCULLIS_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/release/portcullis"));
    let policies = root.join("policies/rego").canonicalize().unwrap();
    type Make = Box<dyn Fn(&Path)>;
    let cases: [(&str, &str, Make); 2] = [
        (
            "kubernetes, 300 files × 3 documents",
            "kubernetes",
            Box::new(|d: &Path| manifests(d, 300)),
        ),
        (
            "terraform, one plan of 4 000 resources",
            "terraform",
            Box::new(|d: &Path| plan(d, 4000)),
        ),
    ];
    println!(
        "| workload | native | sandbox `evaluate` | sandbox / native | plugin with loading | whole process |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut cold = Vec::new();
    for (what, ns, make) in cases {
        let dir = tempfile::tempdir().unwrap();
        make(dir.path());
        let files = if ns == "kubernetes" {
            "k8s/*.yaml"
        } else {
            "infra/plan.json"
        };
        let config =
            json!({"policy": ["/mnt/p"], "namespaces": [ns], "inputs": [{"files": [files]}]});
        // Native: the plugin's code as a library, the same config.
        let harness = Harness::new(dir.path())
            .mount("p", &policies)
            .config(config.clone());
        let native: Vec<Duration> = (0..7)
            .map(|_| {
                let t = Instant::now();
                let e = harness.run::<Rego>().unwrap();
                assert!(!e.findings.is_empty());
                t.elapsed()
            })
            .collect();
        // Sandbox: the binary, warm.
        let config_toml = format!(
            "policy = [\"/mnt/p\"]\nnamespaces = [\"{ns}\"]\ninputs = [{{ files = [\"{files}\"] }}]\n"
        );
        let policy = format!(
            "[plugins.rego]\nsource = \"builtin:rego\"\nread = [\".\"]\n[plugins.rego.mounts]\np = \"{}\"\n[plugins.rego.config]\n{config_toml}",
            policies.display()
        );
        std::fs::write(dir.path().join("portcullis.toml"), policy).unwrap();
        let cache = tempfile::tempdir().unwrap();
        let run = || {
            let t = Instant::now();
            let out = Command::new(&bin)
                .args(["check", "--format", "json"])
                .current_dir(dir.path())
                .env("PORTCULLIS_CACHE_DIR", cache.path())
                .output()
                .unwrap();
            let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
            assert_eq!(
                doc["verdict"],
                "fail",
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let ms = |k: &str| Duration::from_millis(doc["plugins"][0][k].as_u64().unwrap());
            (t.elapsed(), ms("evaluate_ms"), ms("duration_ms"))
        };
        let (first, _, first_plugin) = run();
        cold.push((first, first_plugin));
        let warm: Vec<(Duration, Duration, Duration)> = (0..7).map(|_| run()).collect();
        let n = median(native);
        let evaluate = median(warm.iter().map(|w| w.1).collect());
        println!(
            "| {what} | {} | {} | {:.2}× | {} | {} |",
            ms(n),
            ms(evaluate),
            evaluate.as_secs_f64() / n.as_secs_f64(),
            ms(median(warm.iter().map(|w| w.2).collect())),
            ms(median(warm.iter().map(|w| w.0).collect()))
        );
        let cached: u64 = walk_size(cache.path());
        if ns == "kubernetes" {
            println!();
            println!(
                "compiled component in the cache: {:.1} MB",
                cached as f64 / 1e6
            );
        }
    }
    for (total, plugin) in cold {
        println!(
            "first run (empty cache, compiles the component): {} whole process, {} the plugin",
            ms(total),
            ms(plugin)
        );
    }
}

fn walk_size(dir: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            total += walk_size(&p);
        } else if p.extension().is_some_and(|x| x == "cwasm") {
            total += e.metadata().map_or(0, |m| m.len());
        }
    }
    total
}
