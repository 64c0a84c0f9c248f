//! The `portcullis` command: parse arguments, call the library, show
//! progress, print, exit.

mod progress;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use portcullis::check::{self, CheckOptions};
use portcullis::diag::{Error, Exit, Level};
use portcullis::report::{self, human::Style};

/// Decide whether a change may merge: run sandboxed WebAssembly plugins
/// against the repository and its build outputs, write SARIF, pass or fail.
///
/// Exit codes: 0 the gate passed; 1 the gate failed; 2 the gate could not be
/// evaluated (bad arguments, bad policy, unreadable evidence, plugin failure).
#[derive(Parser)]
#[command(name = "portcullis", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Gate a repository.
    Check(Box<CheckArgs>),
    /// List every rule the policy can report, with its level under the
    /// policy (`off` included) and where its help is.
    Rules(RulesArgs),
    /// Write a commented starter policy (portcullis.toml) for the
    /// repository, from what it holds; never overwrites.
    Init {
        /// The repository.
        #[arg(default_value = ".")]
        path: PathBuf,
    },
    /// Print a rule's documentation (from its declaration, or a Rego
    /// rule's METADATA) and its level under the policy.
    Explain(ExplainArgs),
    /// Test the policy offline: its Rego tests (with coverage) and its
    /// fixture cases.
    Test(TestArgs),
    /// Install or remove a git pre-push hook that runs the gate.
    #[command(subcommand)]
    Hook(HookCommand),
    /// Read the reports of past runs.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish)
    /// to standard output.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
    /// Push a plugin (a `.wasm` component) or a policy bundle (a directory
    /// with its `portcullis.toml`) to an OCI registry under a tag, and
    /// print the reference pinned to its digest, for a policy's `source`
    /// or `extends`.
    Push {
        /// The component, or the policy's directory.
        #[arg(value_name = "FILE.wasm|DIR")]
        file: PathBuf,
        /// Where: oci://<registry>/<repository>:<tag>.
        #[arg(value_name = "REFERENCE")]
        reference: String,
    },
    /// Pin the OCI tags the policy names (with `allow-oci-tags`) to the
    /// digests the registries give now, in `portcullis.lock` beside the
    /// policy file; `check` then uses those digests, offline once cached,
    /// and refuses a policy that no longer matches the lock.
    Lock {
        /// The repository.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// The policy file (default: the one `check` finds).
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
    },
    /// Pull a plugin or a policy bundle from an OCI registry into the
    /// cache, checked against its digest, and print the reference pinned
    /// to that digest (and a plugin's sha256, or where a bundle is
    /// unpacked). A tag is resolved to the digest it names now.
    Pull {
        /// oci://<registry>/<repository>:<tag>[@sha256:<digest>].
        #[arg(value_name = "REFERENCE")]
        reference: String,
        /// Also write the component (or the bundle's .tar.gz) to FILE.
        #[arg(long, short, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Check who signed a plugin or a policy bundle in an OCI registry (or
    /// a file, with its Sigstore bundle): against the signer given, else
    /// the policy's `[signatures]`. Offline once the signatures are
    /// cached. Prints who signed; exit 2 when it is not signed as wanted.
    Verify(VerifyArgs),
    /// Write a new project.
    #[command(subcommand)]
    New(NewCommand),
    /// Write a copy of this binary with the built-in plugins compiled ahead
    /// of time into it, so its first run on a fresh machine compiles
    /// nothing (for release binaries and container images).
    Precompile {
        /// Where to write the binary (may be this binary's own path).
        #[arg(long, value_name = "FILE")]
        output: PathBuf,
    },
}

#[derive(clap::Args)]
struct VerifyArgs {
    /// oci://<registry>/<repository>[:<tag>][@sha256:<digest>], or a file
    /// (with --bundle).
    #[arg(value_name = "REFERENCE|FILE")]
    target: String,
    /// The file's Sigstore bundle (`cosign sign-blob --bundle`).
    #[arg(long, value_name = "FILE")]
    bundle: Option<PathBuf>,
    /// A public key (PEM, as `cosign.pub`) that must have signed.
    #[arg(long = "key", value_name = "FILE")]
    keys: Vec<PathBuf>,
    /// The keyless signer: the certificate's e-mail or URI, exactly.
    #[arg(long, value_name = "IDENTITY", conflicts_with = "identity_regex")]
    identity: Option<String>,
    /// The keyless signer: a regular expression the whole identity matches.
    #[arg(long, value_name = "REGEX")]
    identity_regex: Option<String>,
    /// The OIDC issuer the keyless signer's certificate names.
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// The Sigstore trusted root keyless signatures are checked against.
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// With no signer given: the policy whose `[signatures]` to check
    /// (default: the one `check` finds here).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

#[derive(Subcommand)]
enum NewCommand {
    /// Write a plugin project: the plugin contract (WIT), one example rule
    /// with its test, and a build script that makes the component.
    Plugin {
        /// The plugin's name (its id in policies): lowercase letters,
        /// digits and -.
        name: String,
        /// The language.
        #[arg(long, value_enum)]
        lang: PluginLang,
        /// Where to write it (default: a new directory named NAME).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum PluginLang {
    /// Rust, with the SDK (built with cargo for wasm32-wasip2).
    Rust,
    /// CPython in the component, built with componentize-py.
    Python,
    /// JavaScript, built with componentize-js.
    Js,
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Combine many runs' JSON reports (`check --json`, e.g. one per
    /// repository of an org-wide sweep) into one summary: each
    /// repository's verdict, the top rules, waivers expiring, the plugins
    /// and digests in use. Exits with the worst verdict (0, 1 or 2).
    Merge(MergeArgs),
}

#[derive(clap::Args)]
struct MergeArgs {
    /// JSON reports, one per repository and branch.
    #[arg(required = true, value_name = "REPORT")]
    reports: Vec<PathBuf>,
    /// Also write the summary as one self-contained HTML page to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Also write the summary as JSON (version 1) to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Waivers expiring within this many days are listed (and highlighted).
    #[arg(long, value_name = "DAYS", default_value_t = 14)]
    expiring_days: i64,
    /// Exit 2 unless exactly N reports are given (a sweep over N
    /// repositories: a run that left no report is not missed).
    #[arg(long, value_name = "N")]
    expect: Option<usize>,
}

#[derive(Subcommand)]
enum HookCommand {
    /// Write .git/hooks/pre-push (honours core.hooksPath): `portcullis hook
    /// pre-push` before every push.
    Install {
        /// The repository.
        #[arg(default_value = ".")]
        path: PathBuf,
        /// Replace an existing pre-push hook that portcullis did not write.
        #[arg(long)]
        force: bool,
    },
    /// Remove the pre-push hook, if portcullis wrote it.
    Uninstall {
        /// The repository.
        #[arg(default_value = ".")]
        path: PathBuf,
    },
    /// What the pre-push hook runs: reads git's pre-push lines on standard
    /// input and gates each pushed commit's tree, counting findings in the
    /// files the push changes (for a new branch: since its merge-base with
    /// the remote's default branch).
    PrePush {
        /// The remote's name (git's first hook argument) [default: the
        /// pre-commit framework's PRE_COMMIT_REMOTE_NAME].
        remote: Option<String>,
        /// The remote's URL (git's second hook argument; unused).
        url: Option<String>,
        /// Policy file [default: the one `check` finds in the work tree].
        #[arg(long, value_name = "FILE")]
        policy: Option<PathBuf>,
    },
}

#[derive(clap::Args)]
struct CheckArgs {
    /// The repository to check.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Policy file, or `builtin:default` [default: portcullis.toml or .portcullis.toml in PATH or a directory above it up to the repository root, else the built-in default].
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Also write SARIF 2.1.0 to FILE (on pass, fail and error).
    #[arg(long, value_name = "FILE")]
    sarif: Option<PathBuf>,
    /// GitHub code scanning's category for the SARIF's runs
    /// (`automationDetails.id`) [default: none, so the uploader's applies].
    #[arg(long, value_name = "NAME", requires = "sarif", value_parser = sarif_category)]
    sarif_category: Option<String>,
    /// Also write the JSON report (version 1) to FILE.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write JUnit XML to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write a GitLab Code Quality report to FILE.
    #[arg(long, value_name = "FILE")]
    gitlab: Option<PathBuf>,
    /// Also write the run as one self-contained HTML page to FILE (on pass,
    /// fail and error).
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
    /// Also write the run as Prometheus metrics to FILE (for
    /// node_exporter's textfile collector).
    #[arg(long, value_name = "FILE")]
    metrics: Option<PathBuf>,
    /// Also push the run's metrics to this Prometheus Pushgateway, grouped
    /// by repository and branch (a failed push is exit 2).
    #[arg(long, value_name = "URL", value_parser = pushgateway_url)]
    pushgateway: Option<String>,
    /// Only findings not recorded in this baseline count toward the gate.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record every finding of this run in FILE, as a baseline for later runs.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// Only findings in files changed since REV (per git, untracked files
    /// included) count; findings with no location still count.
    #[arg(long, value_name = "REV", conflicts_with = "staged")]
    changed_since: Option<String>,
    /// Judge what is staged (the index's content, not the work tree's) in
    /// PATH's repository, counting findings in the staged files: for a
    /// pre-commit hook.
    #[arg(long)]
    staged: bool,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Fail the gate on findings at or above this level [default: the policy's, else error].
    #[arg(long, value_enum, value_name = "LEVEL")]
    fail_at: Option<LevelArg>,
    /// Plugins evaluated at once [default: the number of cores].
    #[arg(long, short = 'j', value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    jobs: Option<u16>,
    /// When to colour human output.
    #[arg(long, value_enum, default_value_t = Color::Auto)]
    color: Color,
    /// Print what plugins logged to stderr.
    #[arg(long, short)]
    verbose: bool,
    /// Metrics: where the analysis window starts (RFC 3339 such as
    /// 2026-11-27T10:00:00Z, or Unix seconds) [default: its end minus the
    /// policy's `window`].
    #[arg(long, value_name = "TIME", value_parser = metrics_time, help_heading = "Metrics")]
    since: Option<i64>,
    /// Metrics: where the analysis window ends [default: now, at each
    /// measurement].
    #[arg(long, value_name = "TIME", value_parser = metrics_time, help_heading = "Metrics")]
    until: Option<i64>,
    /// Analysis over time: run the gate COUNT times, this long apart (30s,
    /// 1m, 5m), and decide from all of them; reports describe the deciding
    /// measurement.
    #[arg(long, value_name = "DURATION", value_parser = metrics_duration, requires = "count", help_heading = "Metrics")]
    interval: Option<std::time::Duration>,
    /// Analysis over time: how many measurements [default: 1].
    #[arg(long, value_name = "N", requires = "interval", value_parser = clap::value_parser!(u32).range(1..=10_000), help_heading = "Metrics")]
    count: Option<u32>,
    /// Analysis over time: failed measurements tolerated; one more ends the
    /// analysis early with exit 1 (roll back). A measurement that cannot
    /// be evaluated ends it with exit 2 at once.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        requires = "interval",
        help_heading = "Metrics"
    )]
    failure_limit: u32,
}

fn pushgateway_url(s: &str) -> Result<String, String> {
    report::openmetrics::check_gateway(s)
}

fn metrics_time(s: &str) -> Result<i64, String> {
    portcullis::evidence::metrics::parse_time(s)
}

fn metrics_duration(s: &str) -> Result<std::time::Duration, String> {
    portcullis::evidence::metrics::parse_duration(s)
}

#[derive(clap::Args)]
struct TestArgs {
    /// The repository the policy's paths are relative to.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Policy file, or `builtin:default` [default: portcullis.toml or .portcullis.toml in PATH or a directory above it up to the repository root, else the built-in default].
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Report which Rego policy lines the tests evaluated.
    #[arg(long)]
    coverage: bool,
    /// Fail (exit 1) when Rego coverage is below N percent.
    #[arg(long, value_name = "N", value_parser = parse_percent)]
    coverage_threshold: Option<f64>,
    /// Fixture cases: directories holding `repo/` and `expected.toml`
    /// [default: policy-tests/ next to the policy file, when present].
    #[arg(long, value_name = "DIR")]
    fixtures: Option<PathBuf>,
    /// Write each fixture case's expected.toml from what the gate finds.
    #[arg(long)]
    update: bool,
    /// `human` or `json`.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    format: TestFormat,
    /// Also list passing tests and fixtures.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum TestFormat {
    Human,
    Json,
}

fn parse_percent(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{s}` is not a number"))?;
    if (0.0..=100.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0 and 100"))
    }
}

#[derive(clap::Args)]
struct RulesArgs {
    /// The repository whose policy to read.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Policy file, or `builtin:default` [default: portcullis.toml or .portcullis.toml in PATH or a directory above it up to the repository root, else the built-in default].
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// `table` (one line per rule) or `markdown` (the full reference, with help).
    #[arg(long, value_enum, default_value_t = RulesFormat::Table)]
    format: RulesFormat,
    /// Only the rules plugins declare, without evaluating the policy on
    /// PATH (which finds the rules they discover there, as Rego rules).
    #[arg(long)]
    declared: bool,
}

#[derive(clap::Args)]
struct ExplainArgs {
    /// The rule id, as `portcullis rules` lists it (e.g. `lint/large-file`).
    rule: String,
    /// The repository whose policy to read.
    #[arg(default_value = ".")]
    path: PathBuf,
    /// Policy file, or `builtin:default` [default: as `check` finds it].
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum RulesFormat {
    Table,
    Markdown,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    /// Findings grouped by file, and a summary line.
    Human,
    /// The versioned JSON report.
    Json,
    /// GitHub Actions annotations (and a job summary when $GITHUB_STEP_SUMMARY is set).
    Github,
    /// GitLab Code Quality JSON.
    Gitlab,
    /// JUnit XML.
    Junit,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

#[derive(Clone, Copy, ValueEnum)]
enum LevelArg {
    Note,
    Warning,
    Error,
}

impl From<LevelArg> for Level {
    fn from(l: LevelArg) -> Level {
        match l {
            LevelArg::Note => Level::Note,
            LevelArg::Warning => Level::Warning,
            LevelArg::Error => Level::Error,
        }
    }
}

fn main() -> ExitCode {
    use portcullis::sandbox::compile;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.len() == 4 && args[1] == compile::COMPILE_ARG {
        // A compiler child (see `sandbox::compile`).
        return match compile::compile_main(Path::new(&args[2]), Path::new(&args[3])) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                fail_line(&e);
                ExitCode::from(Exit::Error as u8)
            }
        };
    }
    if let Ok(exe) = std::env::current_exe() {
        compile::isolate_in(exe);
    }
    quiet_panics();
    let cli = match parse_args() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { Exit::Error as u8 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result = match cli.command {
        Command::Check(args) => check_cmd(*args),
        Command::Rules(args) => rules_cmd(args),
        Command::Explain(args) => explain_cmd(args),
        Command::Init { path } => init_cmd(&path),
        Command::Test(args) => test_cmd(args),
        Command::Hook(cmd) => hook_cmd(cmd),
        Command::Report(ReportCommand::Merge(args)) => merge_cmd(args),
        Command::Completions { shell } => completions_cmd(shell),
        Command::Precompile { output } => precompile_cmd(&output),
        Command::Push { file, reference } => push_cmd(&file, &reference),
        Command::Pull { reference, output } => pull_cmd(&reference, output.as_deref()),
        Command::Lock { path, policy } => lock_cmd(&path, policy.as_deref()),
        Command::Verify(args) => verify_cmd(args),
        Command::New(NewCommand::Plugin { name, lang, dir }) => new_plugin_cmd(&name, lang, dir),
    };
    match result {
        Ok(exit) => ExitCode::from(exit as u8),
        Err(e) => {
            // One line per problem (a policy reports all of its mistakes).
            for line in e.to_string().lines() {
                fail_line(line);
            }
            ExitCode::from(Exit::Error as u8)
        }
    }
}

/// The arguments; `--version` also lists the engine's version and the
/// built-in plugins with their versions and digests (`-V` is the version
/// alone).
fn parse_args() -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let mut cmd = Cli::command();
    if std::env::args_os().any(|a| a == "--version") {
        // Once per process, printed and then exited.
        let text: &'static str = Box::leak(portcullis::builtins::long_version().into_boxed_str());
        cmd = cmd.long_version(text);
    }
    Cli::from_arg_matches(&cmd.try_get_matches()?)
}

/// A panic is one line on stderr, never a backtrace. On a plugin's host
/// thread it says nothing: that plugin's failure is reported in its place
/// (the call ends without a result, which fails closed). Anywhere else it
/// is an internal error, and the process ends with exit 2, as for anything
/// the gate could not evaluate.
fn quiet_panics() {
    std::panic::set_hook(Box::new(|info| {
        if std::thread::current().name() == Some("portcullis-plugin") {
            return;
        }
        let what = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let place = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        fail_line(&format!("internal error: {what}{place}"));
        std::process::exit(Exit::Error as i32);
    }));
}

/// One line on stderr; plugin text in it is shown with invisible and
/// control characters escaped.
fn fail_line(message: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "portcullis: {}",
        report::text::visible(&portcullis::diag::without_errno(message))
    );
}

fn check_cmd(args: CheckArgs) -> Result<Exit, Error> {
    let started = std::time::SystemTime::now();
    // Stopped before any verdict: the reports asked for say why.
    let stop = |e: Error| {
        stopped(&args, started, &e);
        e
    };
    let mut opts = CheckOptions::new(args.path.clone());
    opts.policy = args.policy.clone();
    opts.fail_at = args.fail_at.map(Level::from);
    if let Some(jobs) = args.jobs {
        opts.jobs = usize::from(jobs);
    }
    opts.baseline = args.baseline.clone();
    opts.scope = args.changed_since.clone().map(check::Scope::Since);
    if let (Some(since), Some(until)) = (args.since, args.until)
        && since >= until
    {
        return Err(stop(Error::Usage("--since must be before --until".into())));
    }
    let now = portcullis::evidence::metrics::Clock::now().until;
    for (flag, at) in [("--since", args.since), ("--until", args.until)] {
        // A window in the future has no samples yet: a typo, never a pass.
        if at.is_some_and(|t| t > now + 60_000) {
            return Err(stop(Error::Usage(format!("{flag} is in the future"))));
        }
    }
    if let Some(count) = args.count
        && args.failure_limit >= count
    {
        return Err(stop(Error::Usage(format!(
            "--failure-limit {} tolerates every one of --count {count} measurements: the analysis could never fail",
            args.failure_limit
        ))));
    }
    if !args.staged {
        return gate_and_report(&opts, &args, started);
    }
    use portcullis::evidence::{git, snapshot};
    let top = git::top_level(&args.path).map_err(stop)?;
    opts.policy = Some(checkout_policy(&args.path, args.policy.as_deref()));
    opts.scope = Some(check::Scope::Files {
        against: "HEAD (--staged)".into(),
        files: git::staged(&top).map_err(stop)?,
        lines: (
            top.clone(),
            portcullis::evidence::changed_lines::Base::Index,
        ),
    });
    // The index's content, written out byte for byte: the work tree never
    // stands in for it (conversions, skip-worktree and sparse checkouts
    // make a "clean" work tree differ from what is committed).
    let snap = snapshot::of_index(&top).map_err(stop)?;
    opts.path = snap.path().to_path_buf();
    opts.checked = portcullis::evidence::Checked::Snapshot { files: None };
    gate_and_report(&opts, &args, started)
}

/// The policy a run on a snapshot uses: `--policy`, else the file `check`
/// finds from `path` in the work tree (so its `extends` and mounts resolve
/// there), else the built-in default.
fn checkout_policy(path: &Path, explicit: Option<&Path>) -> PathBuf {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| {
            let abs = path.canonicalize().ok()?;
            check::discover_policy(&abs)
        })
        .unwrap_or_else(|| PathBuf::from(portcullis::policy::DEFAULT_POLICY_NAME))
}

fn sarif_category(s: &str) -> Result<String, String> {
    report::sarif::check_category(s).map(|()| s.to_string())
}

/// Run the gate with `opts` and write what `args` asks for.
fn gate_and_report(
    opts: &CheckOptions,
    args: &CheckArgs,
    started: std::time::SystemTime,
) -> Result<Exit, Error> {
    match gate(opts, args) {
        Ok(outcome) => report_outcome(outcome, args),
        Err(e) => {
            stopped(args, started, &e);
            Err(e)
        }
    }
}

/// A run stopped before any verdict: the metrics say so (so the last push
/// is not left standing for it), the JSON report and the page say why
/// (a sweep counts it rather than missing it), the trace has its root
/// span. A failed write is reported; the stop stays the error.
fn stopped(args: &CheckArgs, started: std::time::SystemTime, e: &Error) {
    let group = std::cell::OnceCell::new();
    let group = || group.get_or_init(|| report::openmetrics::Group::of(&args.path));
    if args.metrics.is_some() || args.pushgateway.is_some() {
        let text = report::openmetrics::render_stopped(group(), unix_now());
        match publish_metrics(args, group(), &text) {
            Ok(Ok(())) => {}
            Ok(Err(push)) => fail_line(&push),
            Err(w) => fail_line(&w.to_string()),
        }
    }
    let why = e.to_string();
    let write = |path: &Path, text: String| {
        if let Err(w) = write_file(path, &text) {
            fail_line(&w.to_string());
        }
    };
    if let Some(path) = &args.html {
        write(path, report::html::render_stopped(group(), &why));
    }
    if let Some(path) = &args.json {
        write(path, report::json::render_stopped(group(), &why));
    }
    export_trace(|x| x.trace_stopped(started, &why));
}

/// Export the run's trace when the OpenTelemetry environment asks for
/// one. A trace is telemetry: a problem is a warning line, never the
/// verdict.
fn export_trace(build: impl FnOnce(&report::trace::Exporter) -> report::trace::Trace) {
    let exported = report::trace::Exporter::from_env()
        .and_then(|exporter| exporter.map_or(Ok(()), |x| x.export(&build(&x))));
    if let Err(why) = exported {
        fail_line(&format!("warning: the trace was not exported: {why}"));
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Write `--metrics` and push `--pushgateway`; a failed push is returned
/// (the caller decides the exit), a failed write is an error.
fn publish_metrics(
    args: &CheckArgs,
    group: &report::openmetrics::Group,
    text: &str,
) -> Result<Result<(), String>, Error> {
    if let Some(path) = &args.metrics {
        write_file(path, text)?;
    }
    Ok(match &args.pushgateway {
        Some(url) => report::openmetrics::push(url, group, text),
        None => Ok(()),
    })
}

/// One gate run, or an analysis over time, as `args` asks.
fn gate(opts: &CheckOptions, args: &CheckArgs) -> Result<portcullis::outcome::Outcome, Error> {
    let policy = check::resolve_policy(&opts.path, opts.policy.as_deref())?;
    tag_notes(&policy);
    Ok(match (args.interval, args.count) {
        (Some(interval), Some(count)) => {
            let analysis = check::Analysis {
                interval,
                count,
                failure_limit: args.failure_limit,
                since: args.since,
                until: args.until,
            };
            check::analyse(opts, policy, &analysis, &check::Quiet, &mut |m| {
                let mut err = std::io::stderr().lock();
                let _ = writeln!(err, "portcullis: {}", report::text::visible(&m.line()));
            })?
        }
        _ => {
            let mut opts = opts.clone();
            opts.clock = portcullis::evidence::metrics::Clock {
                since: args.since,
                ..opts.clock
            };
            if let Some(until) = args.until {
                opts.clock.until = until;
            }
            let progress = progress::Terminal::start(policy.plugins.len());
            let outcome = check::run_check_with(&opts, policy, &progress);
            progress.finish();
            outcome?
        }
    })
}

/// Write and print what `args` asks for from a finished run.
fn report_outcome(outcome: portcullis::outcome::Outcome, args: &CheckArgs) -> Result<Exit, Error> {
    if let Some(path) = &args.sarif {
        let options = report::sarif::Options {
            category: args.sarif_category.clone(),
        };
        write_file(path, &report::sarif::render(&outcome, &options))?;
    }
    // A baseline is written only from a complete run.
    if let Some(path) = &args.write_baseline
        && outcome.verdict.failed_plugins == 0
    {
        let baseline = portcullis::baseline::Baseline::from_findings(
            outcome
                .runs
                .iter()
                .filter(|r| !r.is_host())
                .flat_map(|r| r.findings.iter()),
        );
        write_file(path, &baseline.to_json())?;
    }
    // Where the run belongs, from the path the user gave (a `--staged`
    // run's root is a snapshot): one answer for every report, found only
    // when a report needs it.
    let group = std::cell::OnceCell::new();
    let group = || group.get_or_init(|| report::openmetrics::Group::of(&args.path));
    if let Some(path) = &args.json {
        write_file(path, &report::json::render(&outcome, group()))?;
    }
    if let Some(path) = &args.junit {
        write_file(path, &report::junit::render(&outcome))?;
    }
    if let Some(path) = &args.gitlab {
        write_file(path, &report::gitlab::render(&outcome))?;
    }
    if let Some(path) = &args.html {
        write_file(path, &report::html::render(&outcome, group()))?;
    }
    export_trace(|x| x.trace(&outcome, group()));
    let mut pushed = Ok(());
    if args.metrics.is_some() || args.pushgateway.is_some() {
        let text = report::openmetrics::render(&outcome, group(), unix_now());
        pushed = publish_metrics(args, group(), &text)?;
    }
    if args.verbose {
        let mut err = std::io::stderr().lock();
        for run in &outcome.runs {
            for line in &run.logs {
                let _ = writeln!(
                    err,
                    "portcullis: plugin {} {}: {}",
                    run.id,
                    line.level,
                    report::text::visible(&line.message)
                );
            }
        }
    }
    for failure in outcome.failures() {
        fail_line(&failure);
    }
    if let Some(path) = &args.write_baseline
        && outcome.verdict.failed_plugins > 0
    {
        fail_line(&format!(
            "not writing the baseline {}: the run is incomplete",
            path.display()
        ));
    }
    let stdout = match args.format {
        Format::Json => report::json::render(&outcome, group()),
        Format::Gitlab => report::gitlab::render(&outcome),
        Format::Junit => report::junit::render(&outcome),
        Format::Github => {
            if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
                append_file(Path::new(&path), &report::github::step_summary(&outcome))?;
            }
            report::github::render(&outcome)
        }
        Format::Human => {
            let color = match args.color {
                Color::Always => true,
                Color::Never => false,
                Color::Auto => {
                    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                }
            };
            report::human::render(&outcome, &Style { color })
        }
    };
    print_stdout(&stdout)?;
    // The gate's own verdict is printed first. A push that failed makes a
    // passing run exit 2 (the metrics were part of what was asked); a
    // failed gate stays exit 1, so a failed push never hides it.
    if let Err(e) = pushed {
        fail_line(&e);
        return Ok(match outcome.verdict.exit {
            Exit::Fail => Exit::Fail,
            _ => Exit::Error,
        });
    }
    Ok(outcome.verdict.exit)
}

fn merge_cmd(args: MergeArgs) -> Result<Exit, Error> {
    let today = portcullis::policy::date::Date::today().map_err(Error::Usage)?;
    let summary = report::merge::merge(&args.reports, today, args.expect).map_err(Error::Usage)?;
    if let Some(path) = &args.json {
        write_file(path, &report::merge::json(&summary))?;
    }
    if let Some(path) = &args.html {
        write_file(path, &report::merge::html(&summary, args.expiring_days))?;
    }
    print_stdout(&report::merge::text(&summary, args.expiring_days))?;
    Ok(match summary.exit_code {
        0 => Exit::Pass,
        1 => Exit::Fail,
        _ => Exit::Error,
    })
}

fn test_cmd(args: TestArgs) -> Result<Exit, Error> {
    check::repo_root(&args.path)?;
    let opts = portcullis::test_cmd::TestOptions {
        path: args.path,
        policy: args.policy,
        coverage: args.coverage,
        coverage_threshold: args.coverage_threshold,
        fixtures: args.fixtures,
        update: args.update,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        cache_dir: None,
    };
    let report = portcullis::test_cmd::run(&opts)?;
    let out = match args.format {
        TestFormat::Human => report::test::render(&report, args.verbose),
        TestFormat::Json => {
            let mut v = serde_json::to_value(&report)
                .map_err(|e| Error::Usage(format!("cannot render JSON: {e}")))?;
            v["exit_code"] = (report.exit() as u8).into();
            format!("{v:#}\n")
        }
    };
    print_stdout(&out)?;
    Ok(report.exit())
}

fn rules_cmd(args: RulesArgs) -> Result<Exit, Error> {
    let (policy, listing) = rule_listing(&args.path, args.policy.as_deref(), args.declared)?;
    let out = match args.format {
        RulesFormat::Markdown => report::reference::rules_markdown(&listing.rows),
        RulesFormat::Table => report::reference::rules_table(&listing.rows, &policy),
    };
    print_stdout(&out)?;
    incomplete(&listing)
}

/// The policy for `path` and every rule it can report there (declared
/// only, without evaluating, with `declared`).
fn rule_listing(
    path: &Path,
    explicit: Option<&Path>,
    declared: bool,
) -> Result<(portcullis::policy::Policy, check::RuleListing), Error> {
    check::repo_root(path)?;
    let policy = check::resolve_policy(path, explicit)?;
    let listing = if declared {
        check::RuleListing {
            rows: check::list_rules(&policy)?,
            incomplete: Vec::new(),
        }
    } else {
        check::rules_on(&CheckOptions::new(path.to_path_buf()), policy.clone())?
    };
    Ok((policy, listing))
}

/// Exit 2, saying why, when some plugin's discovered rules are missing.
fn incomplete(listing: &check::RuleListing) -> Result<Exit, Error> {
    for why in &listing.incomplete {
        fail_line(&format!(
            "{why}: the rules it discovers on this repository are not listed"
        ));
    }
    Ok(if listing.incomplete.is_empty() {
        Exit::Pass
    } else {
        Exit::Error
    })
}

/// `init`: write the starter policy, then gate with it once and say how
/// that went (the findings, when there are some).
fn init_cmd(path: &Path) -> Result<Exit, Error> {
    let root = check::repo_root(path)?;
    let (written, found) = portcullis::init::write(&root)?;
    let mut out = format!("wrote {}\n", written.display());
    for line in found.lines() {
        out.push_str(&format!("  found {line}\n"));
    }
    print_stdout(&out)?;
    // The run reads its policy from `opts`; `args` only says what to print.
    let args = CheckArgs::for_hook(root.clone());
    let mut opts = CheckOptions::new(root);
    opts.policy = Some(written);
    let exit = gate_and_report(&opts, &args, std::time::SystemTime::now())?;
    let next = match exit {
        Exit::Pass => {
            "the gate passes with it; `portcullis hook install` runs it before every push"
        }
        Exit::Fail => {
            "the gate fails on the findings above: fix them, waive them ([[waivers]] with an owner and an expiry), or record them (--write-baseline) and gate only new ones (--baseline)"
        }
        Exit::Error => "the gate could not be evaluated with it: see the lines above",
    };
    print_stdout(&format!("{next}\n"))?;
    Ok(if exit == Exit::Error {
        Exit::Error
    } else {
        Exit::Pass
    })
}

fn explain_cmd(args: ExplainArgs) -> Result<Exit, Error> {
    let (policy, listing) = rule_listing(&args.path, args.policy.as_deref(), false)?;
    let found = listing
        .rows
        .iter()
        .find(|(p, r)| format!("{p}/{}", r.id) == args.rule);
    let Some((plugin, rule)) = found else {
        let ids: Vec<String> = listing
            .rows
            .iter()
            .map(|(p, r)| format!("{p}/{}", r.id))
            .collect();
        let hint = portcullis::policy::closest(&args.rule, ids.iter().map(String::as_str))
            .map(|c| format!("; did you mean `{c}`?"))
            .unwrap_or_else(|| "; `portcullis rules` lists them".into());
        let _ = incomplete(&listing);
        return Err(Error::Usage(format!(
            "no rule `{}` in the policy{hint}",
            portcullis::diag::one_line(&args.rule, 200)
        )));
    };
    print_stdout(&report::reference::explain(plugin, rule, &policy))?;
    Ok(Exit::Pass)
}

fn hook_cmd(cmd: HookCommand) -> Result<Exit, Error> {
    let message = match cmd {
        HookCommand::Install { path, force } => {
            let exe = std::env::current_exe()
                .map_err(|e| Error::Usage(format!("cannot locate portcullis: {e}")))?;
            format!(
                "installed {}\n",
                portcullis::hook::install(&path, &exe, force)?.display()
            )
        }
        HookCommand::Uninstall { path } => format!(
            "removed {}\n",
            portcullis::hook::uninstall(&path)?.display()
        ),
        HookCommand::PrePush { remote, policy, .. } => return pre_push(remote, policy),
    };
    print_stdout(&message)?;
    Ok(Exit::Pass)
}

/// `hook pre-push`: gate each pushed ref's commit; the worst verdict is
/// the exit code (git refuses the push unless it is 0).
fn pre_push(remote: Option<String>, policy: Option<PathBuf>) -> Result<Exit, Error> {
    use portcullis::evidence::{git, snapshot};
    use portcullis::hook;
    let top = git::top_level(Path::new("."))?;
    let env = |name: &str| std::env::var(name).ok();
    let from_framework = remote.is_none();
    let remote = remote
        .or_else(|| env("PRE_COMMIT_REMOTE_NAME"))
        .ok_or_else(|| {
            Error::Usage(
                "hook pre-push: no remote name (git passes it as the first argument)".into(),
            )
        })?;
    let remote = remote.as_str();
    // Run by git: its lines on standard input. Run by the pre-commit
    // framework (no remote argument): the ref in its environment.
    let refs = if from_framework {
        match hook::from_pre_commit(&top, env) {
            Some(r) => vec![r?],
            // It names no ref when the push holds a root commit (and checks
            // all files itself then): judge HEAD, every file counting.
            None => vec![hook::whole_head(&top)?],
        }
    } else {
        let mut input = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin().lock(), hook::MAX_INPUT_BYTES + 1),
            &mut input,
        )
        .map_err(|e| Error::Usage(format!("cannot read git's pre-push input: {e}")))?;
        if input.len() as u64 > hook::MAX_INPUT_BYTES {
            return Err(Error::Usage(format!(
                "git's pre-push input is over {} MiB: push fewer refs at once",
                hook::MAX_INPUT_BYTES >> 20
            )));
        }
        hook::parse_pre_push(&String::from_utf8_lossy(&input))?
    };
    let plans = hook::plan(&top, remote, &refs);
    let policy = checkout_policy(&top, policy.as_deref());
    let cache = portcullis::cache::dir(None);
    let mut worst = Exit::Pass;
    for plan in plans {
        let against = match &plan.against {
            Some((label, _)) => label.clone(),
            None => {
                format!("nothing ({remote}'s default branch is unknown here: every file counts)")
            }
        };
        let shown =
            |s: &str| report::text::visible(&portcullis::diag::one_line(s, 300)).into_owned();
        print_stdout(&format!(
            "portcullis: {} at {}, changes against {}\n",
            shown(&plan.name),
            hook::short(&plan.commit),
            shown(&against)
        ))?;
        let scope = match &plan.against {
            Some((label, base)) => Some(check::Scope::Files {
                against: label.clone(),
                files: git::changed_between(&top, base, &plan.commit)?,
                lines: (
                    top.clone(),
                    portcullis::evidence::changed_lines::Base::Commits {
                        base: base.clone(),
                        head: plan.commit.clone(),
                    },
                ),
            }),
            None => None,
        };
        // The commit's tree, written out byte for byte: the work tree never
        // stands in for it (conversions, skip-worktree and sparse checkouts
        // make a "clean" work tree differ from what is pushed).
        // Kept in the cache between pushes and updated by the trees'
        // difference, so a push of a few files writes a few files.
        let (snap, note) = snapshot::of_commit_cached(&top, cache.as_deref(), &plan.commit)?;
        if let Some(note) = note {
            fail_line(&format!("note: {note}"));
        }
        let args = CheckArgs::for_hook(snap.path().to_path_buf());
        let mut opts = CheckOptions::new(snap.path().to_path_buf());
        opts.policy = Some(policy.clone());
        opts.scope = scope;
        opts.checked = portcullis::evidence::Checked::Snapshot {
            files: snap.files(),
        };
        worst = worst.max(gate_and_report(&opts, &args, std::time::SystemTime::now())?);
    }
    Ok(worst)
}

impl CheckArgs {
    /// A plain human-output check of `path`, as the pre-push hook runs it.
    fn for_hook(path: PathBuf) -> CheckArgs {
        CheckArgs {
            path,
            policy: None,
            sarif: None,
            sarif_category: None,
            json: None,
            junit: None,
            gitlab: None,
            html: None,
            metrics: None,
            pushgateway: None,
            baseline: None,
            write_baseline: None,
            changed_since: None,
            staged: false,
            format: Format::Human,
            fail_at: None,
            jobs: None,
            color: Color::Auto,
            verbose: false,
            since: None,
            until: None,
            interval: None,
            count: None,
            failure_limit: 0,
        }
    }
}

fn append_file(path: &Path, text: &str) -> Result<(), Error> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(path, format!("cannot write: {e}")))?;
    f.write_all(text.as_bytes())
        .map_err(|e| Error::io(path, format!("cannot write: {e}")))
}

/// Write a report file atomically (never torn, never through a symlink a
/// checked repository put at that path), readable by all.
fn write_file(path: &Path, text: &str) -> Result<(), Error> {
    let cannot = |e: std::io::Error| Error::io(path, format!("cannot write: {e}"));
    portcullis::cache::write_atomic(path, &[text.as_bytes()]).map_err(cannot)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).map_err(cannot)?;
    }
    Ok(())
}

/// Print to stdout; a closed pipe (`| head`) is not an error, any other
/// failed write (a full disk behind `> file`) is: exit 2, not a report
/// silently cut short.
/// The completion script for `shell`, generated from the same definition
/// that parses the arguments, so it cannot drift from them.
fn completions_cmd(shell: clap_complete::Shell) -> Result<Exit, Error> {
    use clap::CommandFactory;
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "portcullis", &mut script);
    print_stdout(&String::from_utf8_lossy(&script))?;
    Ok(Exit::Pass)
}

fn precompile_cmd(output: &Path) -> Result<Exit, Error> {
    let sizes = portcullis::sandbox::precompiled::write(output).map_err(Error::Engine)?;
    let total: usize = sizes.iter().map(|(_, n)| n).sum();
    let names: Vec<String> = sizes
        .iter()
        .map(|(name, _)| format!("builtin:{name}"))
        .collect();
    print_stdout(&format!(
        "{}: {} built-in plugins precompiled ({} KiB): {}\n",
        output.display(),
        sizes.len(),
        total >> 10,
        names.join(", ")
    ))?;
    Ok(Exit::Pass)
}

fn new_plugin_cmd(name: &str, lang: PluginLang, dir: Option<PathBuf>) -> Result<Exit, Error> {
    use portcullis::scaffold;
    let dir = dir.unwrap_or_else(|| PathBuf::from(name));
    let (lang, build) = match lang {
        PluginLang::Rust => (scaffold::Lang::Rust, "./build.sh"),
        PluginLang::Python => (scaffold::Lang::Python, "./build.sh"),
        PluginLang::Js => (scaffold::Lang::Js, "npm install && npm run build"),
    };
    let files = scaffold::write(&dir, name, lang).map_err(Error::Usage)?;
    print_stdout(&format!(
        "{}: {} files written; build it with `cd {} && {build}`\n",
        dir.display(),
        files.len(),
        dir.display()
    ))?;
    Ok(Exit::Pass)
}

/// The digest each OCI tag stood for, when no lock file pinned it.
fn tag_notes(policy: &portcullis::policy::Policy) {
    if policy.oci_locked {
        return;
    }
    for (tag, digest) in &policy.oci_tags {
        fail_line(&format!(
            "note: {tag} is {digest} now (`portcullis lock` pins it in {})",
            portcullis::policy::LOCK_FILE
        ));
    }
}

fn lock_cmd(path: &Path, explicit: Option<&Path>) -> Result<Exit, Error> {
    use portcullis::policy::{LOCK_FILE, Policy, Tags};
    let file = explicit
        .map(Path::to_path_buf)
        .or_else(|| check::discover_policy(path))
        .ok_or_else(|| {
            Error::Usage(format!(
                "no policy file in {} (or above it, in the repository) to lock",
                path.display()
            ))
        })?;
    let policy = Policy::load_with(&file, Tags::refreshing())?;
    let lock = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join(LOCK_FILE);
    if policy.oci_tags.is_empty() {
        if lock.exists() {
            std::fs::remove_file(&lock).map_err(|e| Error::io(&lock, e))?;
        }
        print_stdout(&format!(
            "{}: no OCI tags to pin ({} removed if there was one)\n",
            file.display(),
            LOCK_FILE
        ))?;
        return Ok(Exit::Pass);
    }
    portcullis::cache::write_atomic(
        &lock,
        &[portcullis::policy::render_lock(&policy.oci_tags).as_bytes()],
    )
    .map_err(|e| Error::io(&lock, e))?;
    let mut text = format!(
        "{}: {} tags pinned\n",
        lock.display(),
        policy.oci_tags.len()
    );
    for (tag, digest) in &policy.oci_tags {
        text.push_str(&format!("  {tag} = {digest}\n"));
    }
    print_stdout(&text)?;
    Ok(Exit::Pass)
}

fn push_cmd(file: &Path, reference: &str) -> Result<Exit, Error> {
    let r = portcullis::oci::OciRef::parse(reference).map_err(Error::Usage)?;
    if file.is_dir() {
        let digest = portcullis::oci::push_policy(&r, file).map_err(Error::Usage)?;
        print_stdout(&format!("{}\n", r.pinned(&digest)))?;
        return Ok(Exit::Pass);
    }
    let limit = portcullis::sandbox::compile::MAX_COMPONENT_BYTES as u64;
    let wasm = portcullis::files::read(file, limit).map_err(|e| Error::io(file, e))?;
    if wasm.len() as u64 > limit {
        return Err(Error::io(file, format!("over {limit} bytes")));
    }
    let title = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "plugin.wasm".into());
    let digest = portcullis::oci::push_plugin(&r, &wasm, &title).map_err(Error::Usage)?;
    print_stdout(&format!(
        "{}\nsha256 of the component: {}\n",
        r.pinned(&digest),
        portcullis::digest::sha256_hex(&wasm)
    ))?;
    Ok(Exit::Pass)
}

fn pull_cmd(reference: &str, output: Option<&Path>) -> Result<Exit, Error> {
    use portcullis::oci;
    let r = oci::OciRef::parse(reference).map_err(Error::Usage)?;
    let cache = portcullis::cache::dir(None);
    let pulled = oci::pull(&r, cache.as_deref(), None).map_err(Error::Usage)?;
    if let Some(out) = output {
        portcullis::cache::write_atomic(out, &[&pulled.layer]).map_err(|e| Error::io(out, e))?;
    }
    let from_cache = if pulled.cached {
        " (from the cache)"
    } else {
        ""
    };
    let said = match (&cache, pulled.kind == oci::POLICY) {
        (Some(c), true) => {
            let dir = oci::unpack(&r, c, &pulled).map_err(Error::Usage)?;
            format!("policy bundle unpacked in {}{from_cache}", dir.display())
        }
        (None, true) => format!("policy bundle{from_cache}"),
        (_, false) => format!(
            "sha256 of the component: {}{from_cache}",
            portcullis::digest::sha256_hex(&pulled.layer)
        ),
    };
    print_stdout(&format!("{}\n{said}\n", r.pinned(&pulled.digest)))?;
    Ok(Exit::Pass)
}

/// The signers `verify` checks against: the one its flags give, else each
/// `[signatures]` table of the policy.
fn verify_signers(a: &VerifyArgs) -> Result<Vec<portcullis::oci::signatures::Signers>, Error> {
    use portcullis::oci::{keyless, signatures};
    let keyless_flags = a.identity.is_some() || a.identity_regex.is_some();
    if a.keys.is_empty() && !keyless_flags {
        if a.issuer.is_some() || a.trusted_root.is_some() {
            return Err(Error::Usage(
                "--issuer and --trusted-root go with --identity or --identity-regex".into(),
            ));
        }
        let file = a
            .policy
            .clone()
            .or_else(|| check::discover_policy(Path::new(".")))
            .ok_or_else(|| {
                Error::Usage(
                    "no signer to check against: give --key, or --identity with --issuer and --trusted-root, or a policy with [signatures]".into(),
                )
            })?;
        let policy = portcullis::policy::Policy::load_signers(&file)?;
        if policy.signatures.is_empty() {
            return Err(Error::Usage(format!(
                "{}: no [signatures] to check against; give --key or --identity",
                file.display()
            )));
        }
        return Ok(policy.signatures.into_iter().map(|s| s.signers).collect());
    }
    let mut set = signatures::Signers::default();
    for k in &a.keys {
        set.keys
            .push(signatures::Key::read(k).map_err(Error::Usage)?);
    }
    if keyless_flags {
        let (Some(issuer), Some(root)) = (&a.issuer, &a.trusted_root) else {
            return Err(Error::Usage(
                "--identity and --identity-regex need --issuer and --trusted-root".into(),
            ));
        };
        set.identities.push(match (&a.identity, &a.identity_regex) {
            (Some(id), _) => keyless::Identity::exact(issuer, id),
            (None, Some(re)) => keyless::Identity::regex(issuer, re).map_err(Error::Usage)?,
            (None, None) => unreachable!("checked above"),
        });
        set.root = Some(std::sync::Arc::new(
            keyless::TrustedRoot::read(root).map_err(Error::Usage)?,
        ));
    }
    Ok(vec![set])
}

fn verify_cmd(a: VerifyArgs) -> Result<Exit, Error> {
    use portcullis::oci::{self, keyless, signatures};
    let sets = verify_signers(&a)?;
    if let Some(bundle) = &a.bundle {
        let file = Path::new(&a.target);
        if a.target.starts_with("oci://") {
            return Err(Error::Usage(
                "--bundle is for a file: an OCI source's Sigstore bundles are read from its registry".into(),
            ));
        }
        let limit = portcullis::sandbox::compile::MAX_COMPONENT_BYTES as u64;
        let bytes = portcullis::files::read(file, limit).map_err(|e| Error::io(file, e))?;
        let b = portcullis::files::read(bundle, keyless::MAX_BUNDLE_BYTES as u64)
            .map_err(|e| Error::io(bundle, e))?;
        let subject = keyless::Subject::of(&bytes);
        let mut text = String::new();
        for set in &sets {
            let who = signatures::by_bundle(set, &b, &subject).map_err(|why| {
                Error::io(
                    file,
                    format!("is not signed by {} (it carries {why})", set.wanted()),
                )
            })?;
            text.push_str(&format!("{} is signed by {who}\n", file.display()));
        }
        print_stdout(&text)?;
        return Ok(Exit::Pass);
    }
    let r = oci::OciRef::parse(&a.target).map_err(Error::Usage)?;
    let cache = portcullis::cache::dir(None);
    let pulled = oci::pull(&r, cache.as_deref(), None).map_err(Error::Usage)?;
    let pinned = r.pinned(&pulled.digest);
    let by = signatures::verify(&pinned, &sets, cache.as_deref()).map_err(Error::Usage)?;
    let text: String = by
        .iter()
        .map(|who| format!("{pinned} is signed by {who}\n"))
        .collect();
    print_stdout(&text)?;
    Ok(Exit::Pass)
}

fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("standard output", format!("cannot write: {e}")))
        }
        _ => Ok(()),
    }
}
