//! The HTML report (`check --html`) and the summary across repositories
//! (`report merge`), each page loaded in a real browser: Debian's Chromium,
//! headless, driven by puppeteer-core (tests/browser/inspect.mjs). A page
//! passes when it logs no console error, requests nothing beyond itself,
//! has no axe-core violation in light or dark mode, lets the keyboard reach
//! the report, prints, and its screenshots are the page's size and not
//! blank. `PORTCULLIS_BLESS=1` also writes the screenshots the README shows
//! (docs/screenshots/).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::*;

/// What the browser saw of `page` (see tests/browser/inspect.mjs), after
/// asserting what every page must satisfy; returns the inspection and the
/// light and dark screenshots.
fn inspect(page: &Path) -> (Value, PathBuf, PathBuf) {
    assert!(
        Path::new("/usr/bin/chromium").is_file(),
        "Chromium is not installed at /usr/bin/chromium: run scripts/test-tools \
         (scripts/test runs it before the tests)"
    );
    let modules = test_tool(
        "puppeteer-core",
        "npm/node_modules/puppeteer-core/package.json",
    );
    let modules = modules
        .parent()
        .and_then(Path::parent)
        .expect("node_modules");
    test_tool("axe-core", "npm/node_modules/axe-core/axe.min.js");
    let shots = page.with_extension("");
    let (light, dark) = (
        shots.with_extension("light.png"),
        shots.with_extension("dark.png"),
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/browser/inspect.mjs");
    let out = Command::new("node")
        .arg(script)
        .arg(page)
        .arg(&light)
        .arg(&dark)
        .arg(modules)
        .output()
        .expect("run node");
    assert!(
        out.status.success(),
        "the browser could not inspect {}: {}",
        page.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).expect("inspection JSON");
    let errors: Vec<&Value> = seen["console"]
        .as_array()
        .expect("console")
        .iter()
        .filter(|m| m["type"] == "error" || m["type"] == "warn")
        .collect();
    assert!(errors.is_empty(), "console: {errors:?}");
    assert_eq!(seen["pageErrors"], serde_json::json!([]));
    assert_eq!(
        seen["requests"],
        serde_json::json!([]),
        "the page loads nothing"
    );
    for scheme in ["light", "dark"] {
        assert_eq!(
            seen["axe"][scheme],
            serde_json::json!([]),
            "axe-core, {scheme} mode"
        );
    }
    assert_eq!(seen["keyboard"]["first"], "Skip to the report");
    assert_eq!(seen["keyboard"]["hash"], "#main");
    assert_eq!(seen["lightBackground"], "rgb(255, 255, 255)");
    assert_eq!(seen["darkBackground"], "rgb(13, 17, 23)");
    assert!(
        seen["pdfBytes"].as_u64().expect("pdf") > 10_000,
        "it prints"
    );
    for shot in [&light, &dark] {
        assert_picture(shot);
    }
    (seen, light, dark)
}

/// A screenshot of the viewport (1200×1500) that is not blank: many
/// colours, and a good share of pixels unlike the background.
fn assert_picture(path: &Path) {
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(path).expect("screenshot"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("PNG frame");
    assert_eq!(
        (info.width, info.height),
        (1200, 1500),
        "{}",
        path.display()
    );
    let channels = info.color_type.samples();
    let pixels: Vec<&[u8]> = buf[..info.buffer_size()].chunks(channels).collect();
    let background = pixels[pixels.len() - 1];
    let distinct: std::collections::HashSet<&[u8]> = pixels.iter().copied().collect();
    let differing = pixels.iter().filter(|p| **p != background).count();
    assert!(
        distinct.len() > 50,
        "{}: {} colours",
        path.display(),
        distinct.len()
    );
    assert!(
        differing * 50 > pixels.len(),
        "{}: only {differing} of {} pixels are not background",
        path.display(),
        pixels.len()
    );
}

/// With `PORTCULLIS_BLESS=1`, keep a screenshot for the README.
fn bless(shot: &Path, name: &str) {
    if std::env::var_os("PORTCULLIS_BLESS").is_some() {
        let to = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../docs/screenshots")
            .join(name);
        std::fs::create_dir_all(to.parent().expect("dir")).expect("mkdir");
        std::fs::copy(shot, to).expect("copy screenshot");
    }
}

const TODAY: &str = "2026-11-27";

/// A failing run with something in every part of the page: a failing
/// pytest test and uncovered new lines (real pytest and coverage.py
/// reports), criterion benchmarks with a regression, lint findings in files
/// whose names and contents are markup, a waiver expiring in five days, and
/// a baseline with a new and an absent finding.
#[test]
fn a_failing_run_reads_as_a_page_in_a_real_browser() {
    let (repo, base) = crate::test_reports::change("python", &["junit.xml", "coverage.xml"]);
    copy_dir(
        &fixtures().join("perf/criterion"),
        &repo.path().join("target/criterion"),
    );
    repo.write("data/old.json", "{").write("calc/todo.json", "[1,")
        .write(
            "portcullis.toml",
            format!(
                "{}\n[plugins.perf]\nsource = \"builtin:perf\"\nread = [\"target/criterion\"]\n\n\
                 [plugins.perf.config]\nbenchmarks = [{{ format = \"criterion\", current = \"target/criterion\", saved-baseline = \"main\" }}]\n\n\
                 [[waivers]]\nrule = \"lint/invalid-json\"\npaths = [\"data/**\"]\nreason = \"fixture data, replaced in the next release\"\nowner = \"data-team@example.com\"\nexpires = 2026-12-02\n",
                std::fs::read_to_string(
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("../policies/tests/python.toml")
                )
                .expect("example policy")
            ),
        );
    let out = tempfile::tempdir().expect("tempdir");
    let baseline = out.path().join("baseline.json");
    let env = [
        ("PORTCULLIS_TODAY", TODAY),
        ("PORTCULLIS_REPOSITORY", "org/app"),
    ];
    let first = repo.run_env(
        &[
            "check",
            ".",
            "--changed-since",
            &base,
            "--write-baseline",
            baseline.to_str().expect("utf-8"),
        ],
        &env,
    );
    assert_eq!(first.code, 1, "{}{}", first.stdout, first.stderr);
    // Since the baseline: the broken file fixed, a conflict and markup added.
    repo.write("calc/todo.json", "[1]\n");
    repo.write(
        "calc/notes.txt",
        "intro\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> feature\n",
    )
    .write(
        "config/<img src=x onerror=alert(1)>.json",
        "{\"a\": \"<script>alert(1)</script>\",\n",
    );
    // A live key (made here, so this file holds none): the page shows no
    // line of its file.
    let token = ["sk", "live", "Xq7Lm2Pz9Rt4Vw8Ny3Kb6Hc1"].join("_");
    repo.write(
        "config/payments.env",
        format!("MODE=live\nSTRIPE_KEY={token}\n"),
    );
    let page = out.path().join("failing.html");
    let run = repo.run_env(
        &[
            "check",
            ".",
            "--changed-since",
            &base,
            "--baseline",
            baseline.to_str().expect("utf-8"),
            "--html",
            page.to_str().expect("utf-8"),
        ],
        &env,
    );
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let html = std::fs::read_to_string(&page).expect("the page");

    assert!(
        html.contains("secrets/stripe-secret-key"),
        "the key was found"
    );
    assert!(!html.contains("Xq7Lm2Pz9Rt4"), "no secret in the page");
    assert!(html.contains("Lines not shown: a secret was found in this file."));
    // Untrusted text is text: no markup from the repository survives.
    assert!(!html.contains("<script"), "a script element in the page");
    assert!(!html.contains("<img"), "an img element in the page");
    assert!(html.contains("config/&lt;img src=x onerror=alert(1)&gt;.json"));
    assert!(html.contains("{&quot;a&quot;: &quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;,"));
    // The verdict and why, each part of the run.
    for want in [
        "Gate FAILED",
        "at or above <strong>error</strong>",
        "Findings per plugin and level",
        "Time per plugin",
        "Benchmarks (perf): change of the median, with its interval",
        "sum/squares",
        "Line coverage (tests)",
        "new code 72.2 % (13 of 18 lines)",
        "tests/failed",
        "tests/uncovered-new-lines",
        "lint/merge-conflict",
        // The flagged line in context, with the lines around it.
        "<span class=\"hit\"><span class=\"ln\">    2</span>&lt;&lt;&lt;&lt;&lt;&lt;&lt; HEAD</span>",
        "<span class=\"ln\">    1</span>intro",
        "data-team@example.com",
        "expires in 5 days",
        "1 absent (fixed since the baseline was recorded)",
        "portcullis: org/app",
    ] {
        assert!(html.contains(want), "`{want}` not in the page");
    }
    assert!(
        html.contains("<tr class=\"soon\">"),
        "the expiring waiver is highlighted"
    );
    assert!(
        html.contains("<span class=\"badge warning\">new</span>"),
        "findings new since the baseline are marked"
    );

    let (seen, light, dark) = inspect(&page);
    assert!(
        seen["title"]
            .as_str()
            .expect("title")
            .starts_with("portcullis: gate FAILED")
    );
    assert!(
        seen["height"].as_u64().expect("height") > 1500,
        "the page scrolls"
    );
    bless(&light, "failing.png");
    bless(&dark, "failing-dark.png");
}

#[test]
fn a_passing_run_and_a_stopped_run_have_pages_too() {
    let repo = Repo::new();
    repo.write("src/lib.rs", "pub fn answer() -> u32 {\n    42\n}\n")
        .write("config/app.json", "{\"name\": \"app\"}\n")
        .write(
            "portcullis.toml",
            "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n\n[plugins.secrets]\nsource = \"builtin:secrets\"\nread = [\".\"]\n",
        );
    let out = tempfile::tempdir().expect("tempdir");
    let page = out.path().join("passing.html");
    let run = repo.run(&["check", ".", "--html", page.to_str().expect("utf-8")]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let html = std::fs::read_to_string(&page).expect("the page");
    assert!(html.contains("Gate passed"));
    assert!(html.contains("No plugin reported a finding."));
    let (_, light, _) = inspect(&page);
    bless(&light, "passing.png");

    // A policy that cannot be read stops the run: the page says why.
    repo.write(
        "portcullis.toml",
        "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\nreed = 1\n",
    );
    let stopped = out.path().join("stopped.html");
    let run = repo.run(&["check", ".", "--html", stopped.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2, "{}{}", run.stdout, run.stderr);
    let html = std::fs::read_to_string(&stopped).expect("the page");
    assert!(html.contains("gate could not be evaluated"), "{html}");
    assert!(html.contains("portcullis.toml:4:1"), "{html}");
    inspect(&stopped);

    // Stopped even earlier (arguments that cannot be honoured): the JSON
    // report is written too, for a sweep to count.
    let json = out.path().join("stopped.json");
    let run = repo.run(&[
        "check",
        ".",
        "--json",
        json.to_str().expect("utf-8"),
        "--since",
        "2026-01-02T00:00:00Z",
        "--until",
        "2026-01-01T00:00:00Z",
    ]);
    assert_eq!(run.code, 2);
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("the report")).expect("JSON");
    assert_eq!(doc["verdict"], "error");
    assert_eq!(doc["exit_code"], 2);
    assert_eq!(doc["errors"][0], "--since must be before --until");
}

/// Three repositories' JSON reports — one passing, one failing with a
/// waiver about to expire, one whose plugin could not be evaluated — as one
/// summary.
#[test]
fn report_merge_sums_up_repositories_and_refuses_bad_reports() {
    let out = tempfile::tempdir().expect("tempdir");
    let report = |name: &str, repo: &Repo, code: i32| -> PathBuf {
        let path = out.path().join(format!("{}.json", name.replace('/', "-")));
        let run = repo.run_env(
            &["check", ".", "--json", path.to_str().expect("utf-8")],
            &[
                ("GITHUB_REPOSITORY", name),
                ("GITHUB_REF_NAME", "main"),
                ("PORTCULLIS_TODAY", TODAY),
            ],
        );
        assert_eq!(run.code, code, "{name}: {}{}", run.stdout, run.stderr);
        path
    };
    let lint = "[plugins.lint]\nsource = \"builtin:lint\"\nread = [\".\"]\n";
    let clean = Repo::new();
    clean
        .write("README.md", "hello\n")
        .write("portcullis.toml", lint);
    let failing = Repo::new();
    failing
        .write("a.txt", "<<<<<<< HEAD\n")
        .write("b.txt", "<<<<<<< HEAD\n")
        .write("c.json", "{")
        .write(
            "portcullis.toml",
            format!(
                "{lint}\n[[waivers]]\nrule = \"lint/invalid-json\"\nreason = \"vendored\"\nowner = \"ops@example.com\"\nexpires = 2026-12-01\n"
            ),
        );
    let broken = Repo::new();
    broken.write("README.md", "hello\n");
    broken.policy_with_wasm(
        "hostile",
        HOSTILE_WASM,
        "[plugins.hostile.config]\nattack = \"panic\"\n",
    );
    // A policy that cannot be read: the run stops, and its report says so.
    let stopped = Repo::new();
    stopped
        .write("README.md", "hello\n")
        .write("portcullis.toml", "[gate]\nfail-at = \"eror\"\n");
    let reports = [
        report("org/clean", &clean, 0),
        report("org/failing", &failing, 1),
        report("org/<broken>", &broken, 2),
        report("org/stopped", &stopped, 2),
    ];
    let json = out.path().join("org.json");
    let page = out.path().join("org.html");
    let mut args = vec![
        "report".to_string(),
        "merge".into(),
        "--json".into(),
        json.display().to_string(),
        "--html".into(),
        page.display().to_string(),
    ];
    args.extend(reports.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = clean.run_env(&args, &[("PORTCULLIS_TODAY", TODAY)]);
    assert_eq!(
        run.code, 2,
        "the worst verdict: {}{}",
        run.stdout, run.stderr
    );
    assert!(
        run.stdout
            .contains("4 repositories: 1 passed, 1 failed, 2 could not be evaluated"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("2026-12-01  org/failing  lint/invalid-json  owner ops@example.com"),
        "{}",
        run.stdout
    );

    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("org.json")).expect("JSON");
    assert_eq!(summary["verdict"], "error");
    assert_eq!(
        summary["repositories"]
            .as_array()
            .expect("repositories")
            .iter()
            .map(|r| format!(
                "{} {}",
                r["repository"].as_str().expect("name"),
                r["verdict"].as_str().expect("verdict")
            ))
            .collect::<Vec<_>>(),
        [
            "org/<broken> error",
            "org/stopped error",
            "org/failing fail",
            "org/clean pass"
        ]
    );
    assert_eq!(summary["rules"][0]["rule_id"], "lint/merge-conflict");
    assert_eq!(summary["rules"][0]["findings"], 2);
    let rules: Vec<&str> = summary["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["rule_id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        rules,
        ["lint/merge-conflict", "portcullis/waiver-expiring"],
        "the waived finding does not count"
    );
    assert_eq!(summary["waivers"][0]["days_left"], 4);
    assert_eq!(summary["waivers"][0]["findings"], 1);
    let lint_use = summary["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .find(|p| p["source"] == "builtin:lint")
        .expect("lint in use");
    assert_eq!(
        lint_use["repositories"],
        serde_json::json!(["org/clean", "org/failing"])
    );
    assert!(lint_use["sha256"].as_str().expect("digest").len() == 64);
    assert!(
        summary["plugins"]
            .as_array()
            .expect("plugins")
            .iter()
            .all(|p| p["source"] != "builtin:host"),
        "the host is not a plugin"
    );
    let html = std::fs::read_to_string(&page).expect("org.html");
    assert!(html.contains("org/&lt;broken&gt;") && !html.contains("<broken>"));
    assert!(html.contains("panicked: the hostile plugin panics on purpose"));
    assert!(
        html.contains("portcullis.toml:2:11"),
        "the stopped run says where"
    );
    let (_, light, _) = inspect(&page);
    bless(&light, "merged.png");

    // Bad reports stop the merge with where and why.
    let bad = out.path().join("bad.json");
    std::fs::write(&bad, "{\"version\": 1,\n \"verdict\": \"pass\",\n oops}").expect("write");
    let run = clean.run(&["report", "merge", bad.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(&format!(
            "{}:3:2: not a portcullis JSON report",
            bad.display()
        )),
        "{}",
        run.stderr
    );
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&reports[1]).expect("report")).expect("JSON");
    doc["exit_code"] = 0.into();
    std::fs::write(&bad, doc.to_string()).expect("write");
    let run = clean.run(&["report", "merge", bad.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("verdict `fail` with exit code 0: the report contradicts itself"),
        "{}",
        run.stderr
    );
    // Counts that are not those of the findings (here: errors hidden).
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&reports[1]).expect("report")).expect("JSON");
    doc["counts"]["error"] = 0.into();
    doc["repository"] = "org/\nforged: 0 failed".into();
    std::fs::write(&bad, doc.to_string()).expect("write");
    let run = clean.run(&["report", "merge", bad.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("its counts (0 errors, 0 warnings, 1 notes, 1 waived, 0 baselined) are not those of its findings (2, 0, 1, 1, 0)"),
        "{}",
        run.stderr
    );
    // A name cannot forge lines of the summary.
    doc["counts"]["error"] = 2.into();
    std::fs::write(&bad, doc.to_string()).expect("write");
    let run = clean.run(&["report", "merge", bad.to_str().expect("utf-8")]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.starts_with("org/ forged: 0 failed@main  fail"),
        "{}",
        run.stdout
    );
    let run = clean.run(&[
        "report",
        "merge",
        reports[1].to_str().expect("utf-8"),
        reports[1].to_str().expect("utf-8"),
    ]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("both report org/failing on main"),
        "{}",
        run.stderr
    );
    // A sweep over five repositories that got four reports.
    let mut args = vec!["report", "merge", "--expect", "5"];
    let names: Vec<String> = reports.iter().map(|p| p.display().to_string()).collect();
    args.extend(names.iter().map(String::as_str));
    let run = clean.run(&args);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("4 reports given, 5 expected"),
        "{}",
        run.stderr
    );
    // A passing verdict beside a plugin that was not evaluated.
    let mut doc: Value =
        serde_json::from_str(&std::fs::read_to_string(&reports[0]).expect("report")).expect("JSON");
    doc["plugins"][0]["success"] = false.into();
    std::fs::write(&bad, doc.to_string()).expect("write");
    let run = clean.run(&["report", "merge", bad.to_str().expect("utf-8")]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("verdict `pass` while a plugin could not be evaluated"),
        "{}",
        run.stderr
    );
}

/// A plugin writing for the page: a line of a file it may not read, line
/// numbers at the top of the range, help with markup, absurd chart numbers.
/// The page shows none of it as markup, reads nothing ungranted, draws
/// finite charts, and still passes the browser's checks.
#[test]
fn a_hostile_plugin_cannot_use_the_page() {
    let repo = Repo::new();
    repo.write("src/main.rs", "fn main() {}\n")
        .write(".env", "API_TOKEN=hunter2-not-for-the-page\n")
        .write("srcx/notes.txt", "beside-src-not-for-the-page\n");
    repo.policy_with_wasm(
        "hostile",
        HOSTILE_WASM,
        "read = [\"src\"]\n[plugins.hostile.config]\nattack = \"page\"\n",
    );
    let out = tempfile::tempdir().expect("tempdir");
    let page = out.path().join("hostile.html");
    let run = repo.run(&["check", ".", "--html", page.to_str().expect("utf-8")]);
    assert_eq!(
        run.code, 1,
        "the gate judges, nothing crashes: {}{}",
        run.stdout, run.stderr
    );
    let html = std::fs::read_to_string(&page).expect("the page");
    assert!(!html.contains("hunter2"), "a line the plugin may not read");
    assert!(!html.contains("beside-src"), "a grant `src` is not `srcx`");
    assert!(html.contains("ungranted") && html.contains("top line") && html.contains("top span"));
    for markup in ["<script", "<img", "javascript:", "NaN", "inf\""] {
        assert!(!html.contains(markup), "{markup} in the page");
    }
    assert!(
        html.contains("<h4>Pose as a rule</h4>"),
        "help headings sit under the rule's"
    );
    assert!(html.contains("\\u{202e}txt"));
    assert!(html.contains("&lt;b&gt;bench&lt;/b&gt;"));
    inspect(&page);
}
