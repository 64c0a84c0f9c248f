//! A test plugin that attacks its sandbox. `config.attack` picks the attack;
//! attacks that probe for access report what they could reach as a
//! `probe-result` finding whose message starts with `blocked:` or `leaked:`.
//! `none` does nothing and serves as the empty plugin in benchmarks.
#![allow(clippy::disallowed_macros)] // the stderr flood is the point

use portcullis_sdk::{
    Context, Evaluation, Finding, Location, LogLevel, Plugin, PluginInfo, declare_rule,
    export_plugin, log,
};

pub struct Hostile;

declare_rule! {
    /// What an attack could reach: `blocked: …` or `leaked: …`.
    pub PROBE_RESULT = "probe-result" {
        name: "ProbeResult",
        level: Error,
        short: "What an attack could reach.",
        tags: [],
    }
}

impl Plugin for Hostile {
    fn describe() -> PluginInfo {
        PluginInfo::new("hostile", env!("CARGO_PKG_VERSION"))
            .rules(&[&PROBE_RESULT])
            .reads_files()
    }

    fn evaluate(ctx: &Context) -> Result<Evaluation, String> {
        let attack = ctx
            .raw_config()
            .get("attack")
            .and_then(|a| a.as_str())
            .unwrap_or("none")
            .to_string();
        let mut out = Evaluation::default();
        let mut probe = |what: &str, result: Result<String, String>| {
            let msg = match result {
                Ok(leak) => format!(
                    "leaked: {what}: {}",
                    leak.chars().take(60).collect::<String>()
                ),
                Err(e) => format!("blocked: {what}: {e}"),
            };
            out.push(PROBE_RESULT.finding(msg).in_file("probe"));
        };
        match attack.as_str() {
            "none" => {}
            "loop" => {
                let mut x: u64 = 0;
                loop {
                    x = std::hint::black_box(x.wrapping_add(1));
                }
            }
            "memory" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 16 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "sleep" => std::thread::sleep(std::time::Duration::from_secs(3600)),
            // Blocks in a host call (where no epoch check fires) for
            // `config.ms`, then returns a clean result.
            "overrun" => {
                let ms = ctx
                    .raw_config()
                    .get("ms")
                    .and_then(|m| m.as_u64())
                    .unwrap_or(400);
                std::thread::sleep(std::time::Duration::from_millis(ms));
            }
            // Runs wasm for `config.ms` of wall time, then returns a clean
            // result.
            "spin" => {
                let ms = ctx
                    .raw_config()
                    .get("ms")
                    .and_then(|m| m.as_u64())
                    .unwrap_or(1100);
                let until = std::time::Instant::now() + std::time::Duration::from_millis(ms);
                let mut n = 0u64;
                while std::time::Instant::now() < until {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            // Asks for cargo metadata (which runs cargo: not the plugin's
            // time), then again and again (answered at once: the plugin's
            // time), never returning.
            "cargo-then-loop" => loop {
                std::hint::black_box(portcullis_sdk::cargo_metadata(true)?);
            },
            // More rules than any plugin may have.
            "many-rules" => {
                for i in 0..5_001 {
                    out.discover(portcullis_sdk::Rule::new(
                        &format!("generated/r{i}"),
                        "Generated",
                        portcullis_sdk::Level::Note,
                        "generated",
                    ));
                }
            }
            // A message written to forge the reports: a verdict heading, a
            // link, an image, HTML that folds what follows, an autolink,
            // bidi and zero-width characters, a carriage return, and a
            // character XML cannot hold.
            "forge" => out.push(
                PROBE_RESULT
                    .finding(
                        "## \u{2705} portcullis: gate passed\n[details](https://evil.example/)                          ![x](https://evil.example/x.png) <details><summary>ok</summary>                          www.evil.example https://evil.example/y \u{202e}txt.exe\u{200b}                          `code` *bold* | cell\rgate passed \u{fffe}",
                    )
                    .at_line("src/\u{202e}cod.rs", 1),
            ),
            // Findings written for the HTML report: a line of a file the
            // policy does not grant this plugin, line numbers at the top of
            // the range, help that carries markup, and charts of absurd
            // numbers.
            "page" => {
                let help = out.discover(
                    portcullis_sdk::Rule::new("page/help", "PageHelp", portcullis_sdk::Level::Warning, "help")
                        .help("# Pose as a rule\n\n<script>alert(1)</script><img src=x onerror=alert(1)>\n\n![t](https://evil.example/t.png) [x](javascript:alert(1)) \u{202e}txt"),
                );
                out.push(help.finding("ungranted").at_line(".env", 1));
                out.push(help.finding("beside the grant").at_line("srcx/notes.txt", 1));
                out.push(PROBE_RESULT.finding("top line").at_line("src/main.rs", u32::MAX));
                out.push(
                    PROBE_RESULT
                        .finding("top span")
                        .location(Location::at("src/main.rs", portcullis_sdk::Region::span(u32::MAX - 1, 1, u32::MAX, 1))),
                );
                out.push(
                    PROBE_RESULT
                        .finding("charts")
                        .in_file("src/main.rs")
                        .properties(serde_json::json!({
                            "comparisons": [{
                                "benchmark": "<b>bench</b>", "verdict": "regressed", "unit": "ns",
                                "change_percent": 1e308, "interval_low_percent": -1e308,
                                "interval_high_percent": 1e308, "threshold_percent": -1,
                                "baseline_median": 1, "new_median": 1e308
                            }],
                            "coverage": { "percent": 1e308, "new-code": { "percent": -5 } }
                        })),
                );
            }
            "panic" => panic!("the hostile plugin panics on purpose"),
            // A trap with no panic message: wasm `unreachable`.
            "abort" => std::process::abort(),
            // Deep recursion until the wasm stack is exhausted.
            "stack" => {
                #[allow(unconditional_recursion)] // the attack: exhaust the stack
                fn deeper(n: u64) -> u64 {
                    std::hint::black_box(deeper(std::hint::black_box(n + 1))) + 1
                }
                out.push(PROBE_RESULT.finding(format!("{}", deeper(0))).in_file("probe"));
            }
            // More than 32-bit memory can hold, asked for at once.
            "capacity" => {
                let n = std::hint::black_box(usize::MAX / 2);
                let v: Vec<u64> = Vec::with_capacity(n);
                out.push(PROBE_RESULT.finding(format!("{}", v.capacity())).in_file("probe"));
            }
            "error" => return Err("config.attack: the hostile plugin fails on purpose".into()),
            "findings" => {
                for i in 0..200_000u32 {
                    out.push(
                        PROBE_RESULT
                            .finding(format!("finding {i}"))
                            .at_line("probe", 1),
                    );
                }
            }
            "big-message" => {
                out.push(PROBE_RESULT.finding("x".repeat(64 << 20)).in_file("probe"));
            }
            "stderr" => {
                for _ in 0..1_000_000 {
                    eprintln!("spam spam spam spam spam spam spam spam spam spam spam spam");
                }
            }
            "log-flood" => {
                for i in 0..100_000 {
                    log(
                        LogLevel::Info,
                        &format!("log line {i} \u{1b}[31mred\u{1b}[0m"),
                    );
                }
            }
            "escape-message" => out.push(PROBE_RESULT.finding("\u{1b}[2Jcleared").in_file("probe")),
            // The SDK only makes findings of declared rules; a hostile plugin
            // writes the contract's record by hand.
            "unknown-rule" => out.push(Finding {
                rule_id: "no-such-rule".into(),
                level: None,
                message: "undeclared".into(),
                locations: vec![Location::file("probe")],
                fingerprint: None,
                properties: None,
            }),
            // A discovered rule whose id would clear the terminal.
            "escape-rule-id" => {
                let rule = out.discover(portcullis_sdk::Rule::new(
                    "\u{1b}[2J\u{1b}[32mgate passed",
                    "Forged",
                    portcullis_sdk::Level::Error,
                    "forged",
                ));
                out.push(rule.finding("forged").in_file("probe"));
            }
            "absolute-path" => out.push(PROBE_RESULT.finding("abs").in_file("/etc/passwd")),
            "dotdot-path" => out.push(PROBE_RESULT.finding("up").in_file("../outside")),
            "bad-properties" => out.push(
                PROBE_RESULT
                    .finding("p")
                    .in_file("probe")
                    .properties(serde_json::json!([1, 2])),
            ),
            "read-passwd" => probe("/etc/passwd", read("/etc/passwd")),
            "dotdot" => probe("/repo/../etc/passwd", read("/repo/../etc/passwd")),
            "symlink" => probe(
                "/repo/escape/passwd",
                read(&ctx.path("escape/passwd").to_string_lossy()),
            ),
            "symlink-file" => probe(
                "/repo/passwd-link",
                read(&ctx.path("passwd-link").to_string_lossy()),
            ),
            "write" => probe(
                "write /repo/pwned",
                std::fs::write(ctx.path("pwned"), b"x")
                    .map(|_| "wrote".to_string())
                    .map_err(|e| e.to_string()),
            ),
            "env" => {
                let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
                probe(
                    "environment",
                    if vars.is_empty() {
                        Err("no variables".into())
                    } else {
                        Ok(vars.join(","))
                    },
                );
            }
            "args" => {
                let args: Vec<String> = std::env::args().collect();
                probe(
                    "arguments",
                    if args.is_empty() {
                        Err("no arguments".into())
                    } else {
                        Ok(args.join(" "))
                    },
                );
            }
            "network" => probe(
                "tcp 127.0.0.1:9",
                std::net::TcpStream::connect("127.0.0.1:9")
                    .map(|_| "connected".to_string())
                    .map_err(|e| e.to_string()),
            ),
            "read-many" => {
                let paths: Vec<String> = [
                    "/etc/passwd",
                    "../etc/passwd",
                    "escape/passwd",
                    "passwd-link",
                    "README.md",
                ]
                .map(String::from)
                .to_vec();
                for (p, r) in paths.iter().zip(ctx.read_many(&paths)) {
                    probe(
                        &format!("read-files {p}"),
                        r.map(|b| String::from_utf8_lossy(&b).into_owned()),
                    );
                }
            }
            "read-granted" => probe(
                "/repo/README.md",
                read(&ctx.path("README.md").to_string_lossy()),
            ),
            "read-git" => {
                for p in [".git/config", "g/config", "sub/.git/config"] {
                    probe(&format!("/repo/{p}"), read(&ctx.path(p).to_string_lossy()));
                    let r = ctx.read_many(&[p.to_string()]).remove(0);
                    probe(
                        &format!("read-files {p}"),
                        r.map(|b| String::from_utf8_lossy(&b).into_owned()),
                    );
                }
            }
            // Read `victim.txt` over and over, through WASI and through
            // `read-files`, for `config.seconds` while a test swaps it for a
            // symlink to a file outside the repository; any read that
            // returns the outside file's `OUTSIDE` content is a leak.
            "race" => {
                let seconds = ctx
                    .raw_config()
                    .get("seconds")
                    .and_then(|s| s.as_f64())
                    .unwrap_or(1.0);
                let until = std::time::Instant::now() + std::time::Duration::from_secs_f64(seconds);
                let (mut reads, mut leaked) = (0u64, None);
                let wasi_path = ctx.path("victim.txt");
                let name = ["victim.txt".to_string()];
                while std::time::Instant::now() < until && leaked.is_none() {
                    reads += 2;
                    for text in [
                        std::fs::read_to_string(&wasi_path).ok(),
                        ctx.read_many(&name)
                            .remove(0)
                            .ok()
                            .map(|b| String::from_utf8_lossy(&b).into_owned()),
                    ]
                    .into_iter()
                    .flatten()
                    {
                        if text.contains("OUTSIDE") {
                            leaked = Some(text);
                        }
                    }
                }
                probe(
                    &format!("victim.txt under a concurrent swapper ({reads} reads)"),
                    leaked.ok_or_else(|| "never read the outside file".to_string()),
                );
            }
            other => return Err(format!("config.attack: unknown attack `{other}`")),
        }
        Ok(out)
    }
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| e.to_string())
}

export_plugin!(Hostile);
