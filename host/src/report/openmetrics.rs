//! The run as metrics, in the Prometheus text format: for node_exporter's
//! textfile collector (`--metrics FILE`) and for a Pushgateway
//! (`--pushgateway URL`, grouped by repository and branch). Every series
//! is a gauge carrying `repository` and `branch`, so one Prometheus holds
//! many repositories' runs apart.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::diag::Exit;
use crate::outcome::Outcome;
use crate::policy::date::Date;

/// Where a run's metrics belong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub repository: String,
    pub branch: String,
}

impl Group {
    /// From `PORTCULLIS_REPOSITORY` (a sweep that checks another
    /// repository than the CI's own; the branch is then
    /// `PORTCULLIS_BRANCH`, else the one checked out), the CI's variables
    /// (GitHub Actions, GitLab CI), else the
    /// checked directory's name and its checked-out branch. A pull or merge
    /// request is its own group (`refs/pull/12/merge`,
    /// `merge-requests/12`): a fork's `main` never stands for the
    /// repository's.
    pub fn of(dir: &std::path::Path) -> Group {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let repository = var("PORTCULLIS_REPOSITORY")
            .or_else(|| var("GITHUB_REPOSITORY"))
            .or_else(|| var("CI_PROJECT_PATH"))
            .unwrap_or_else(|| {
                let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
                dir.file_name()
                    .map_or_else(|| "repository".into(), |n| n.to_string_lossy().into_owned())
            });
        // A sweep that names the repository checks another one than the
        // CI's own: the CI's branch is not its branch.
        let branch = if var("PORTCULLIS_REPOSITORY").is_some() {
            var("PORTCULLIS_BRANCH")
        } else if var("GITHUB_HEAD_REF").is_some() {
            var("GITHUB_REF")
        } else if let Some(iid) = var("CI_MERGE_REQUEST_IID") {
            Some(format!("merge-requests/{iid}"))
        } else {
            var("GITHUB_REF_NAME").or_else(|| var("CI_COMMIT_REF_NAME"))
        }
        .or_else(|| crate::evidence::git::current_branch(dir))
        .unwrap_or_else(|| "unknown".into());
        Group { repository, branch }
    }
}

/// One metric family: help text and its samples (labels → value).
struct Family {
    name: &'static str,
    help: &'static str,
    samples: BTreeMap<Vec<(&'static str, String)>, f64>,
}

impl Family {
    fn new(name: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            samples: BTreeMap::new(),
        }
    }

    fn set(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        self.samples.insert(labels, value);
    }

    fn add(&mut self, labels: Vec<(&'static str, String)>, value: f64) {
        *self.samples.entry(labels).or_insert(0.0) += value;
    }
}

/// A label value in the text format: `\`, `"` and newlines escaped,
/// everything else as it is (so two values never print alike).
fn escape(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// The families every run has, a run that stopped early too: the verdict,
/// the exit code and when it ended.
fn verdict_families(group: &Group, exit: Exit, now: f64) -> [Family; 3] {
    let base = vec![
        ("repository", group.repository.clone()),
        ("branch", group.branch.clone()),
    ];
    let verdict = match exit {
        Exit::Pass => "pass",
        Exit::Fail => "fail",
        Exit::Error => "error",
    };
    let mut passed = Family::new(
        "portcullis_gate_passed",
        "1 when the gate passed, 0 when it failed or could not be evaluated.",
    );
    passed.set(base.clone(), f64::from(u8::from(exit == Exit::Pass)));
    let mut code = Family::new(
        "portcullis_gate_exit_code",
        "The run's exit code: 0 passed, 1 failed, 2 could not be evaluated.",
    );
    let mut labelled = base.clone();
    labelled.push(("verdict", verdict.to_string()));
    code.set(labelled, exit as i32 as f64);
    let mut when = Family::new(
        "portcullis_run_timestamp_seconds",
        "When the run ended, in Unix seconds.",
    );
    when.set(base, now);
    [passed, code, when]
}

/// The metrics of a run that stopped before any plugin's verdict (a policy
/// error, an unknown revision): exit 2, so the last push is never left
/// standing for it.
pub fn render_stopped(group: &Group, now: f64) -> String {
    write(&verdict_families(group, Exit::Error, now))
}

/// The run's metrics; `now` is the run's Unix time in seconds.
pub fn render(outcome: &Outcome, group: &Group, now: f64) -> String {
    let base = || {
        vec![
            ("repository", group.repository.clone()),
            ("branch", group.branch.clone()),
        ]
    };
    let with = |extra: &[(&'static str, &str)]| {
        let mut l = base();
        l.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        l
    };
    let [passed, exit, when] = verdict_families(group, outcome.verdict.exit, now);
    let mut duration = Family::new(
        "portcullis_run_duration_seconds",
        "Wall time of the whole run.",
    );
    duration.set(base(), outcome.elapsed.as_secs_f64());

    let mut plugin_duration = Family::new(
        "portcullis_plugin_duration_seconds",
        "Wall time of each plugin: loading, describe and evaluate.",
    );
    let mut plugin_evaluate = Family::new(
        "portcullis_plugin_evaluate_seconds",
        "Of that, the time in the plugin's evaluate call.",
    );
    let mut plugin_success = Family::new(
        "portcullis_plugin_success",
        "1 when the plugin was evaluated, 0 when it failed (the gate then fails closed).",
    );
    let mut plugin_cached = Family::new(
        "portcullis_plugin_compile_cached",
        "1 when the plugin's compiled code came from the cache or the binary.",
    );
    let mut findings = Family::new(
        "portcullis_findings",
        "Findings that count toward the gate, by plugin, rule and level.",
    );
    let mut waived = Family::new(
        "portcullis_findings_waived",
        "Findings a waiver excuses, by plugin and rule.",
    );
    let mut baseline = Family::new(
        "portcullis_baseline_findings",
        "With --baseline: findings new since the baseline, unchanged, and recorded but gone.",
    );
    for r in outcome.runs.iter().filter(|r| !r.is_host()) {
        let p = [("plugin", r.id.as_str())];
        plugin_duration.set(with(&p), r.duration.as_secs_f64());
        plugin_evaluate.set(with(&p), r.evaluate_duration.as_secs_f64());
        plugin_success.set(with(&p), f64::from(u8::from(r.failure.is_none())));
        plugin_cached.set(with(&p), f64::from(u8::from(r.compiled_from_cache)));
    }
    for f in outcome.findings() {
        let rule = [("plugin", f.plugin.as_str()), ("rule", f.rule_id.as_str())];
        if f.waived_by.is_some() {
            waived.add(with(&rule), 1.0);
        }
        if let Some(state) = f.baseline {
            let word = match state {
                crate::finding::BaselineState::New => "new",
                crate::finding::BaselineState::Unchanged => "unchanged",
            };
            baseline.add(with(&[("state", word)]), 1.0);
        }
        if f.counts() {
            let mut l = with(&rule);
            l.push(("level", f.level.as_str().to_string()));
            findings.add(l, 1.0);
        }
    }
    if !outcome.absent.is_empty() {
        baseline.set(with(&[("state", "absent")]), outcome.absent.len() as f64);
    }

    let mut expiry = Family::new(
        "portcullis_waiver_expiry_timestamp_seconds",
        "When each waiver of the policy stops applying (the end of its expiry day, UTC), by rule and owner; the soonest when several share both.",
    );
    let epoch = Date::from_days(0);
    for w in &outcome.policy.waivers {
        let ends = (epoch.days_until(w.expires) + 1) as f64 * 86_400.0;
        let labels = with(&[("rule", w.rule.as_str()), ("owner", w.owner.as_str())]);
        let slot = expiry.samples.entry(labels).or_insert(ends);
        *slot = slot.min(ends);
    }

    let families = [
        passed,
        exit,
        duration,
        when,
        plugin_duration,
        plugin_evaluate,
        plugin_success,
        plugin_cached,
        findings,
        waived,
        baseline,
        expiry,
    ];
    write(&families)
}

fn write(families: &[Family]) -> String {
    let mut out = String::new();
    for f in families {
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} gauge", f.name);
        for (labels, value) in &f.samples {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .collect();
            let _ = writeln!(out, "{}{{{}}} {}", f.name, labels.join(","), number(*value));
        }
    }
    out
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// A Pushgateway's address as `--pushgateway` takes it: `http(s)://` with
/// a host, an optional path prefix, no credentials, query or fragment.
pub fn check_gateway(url: &str) -> Result<String, String> {
    let base = url.trim().trim_end_matches('/');
    let ok = base.split_once("://").is_some_and(|(scheme, rest)| {
        let authority = rest.split('/').next().unwrap_or_default();
        matches!(scheme, "http" | "https")
            && !authority.is_empty()
            && !authority.contains('@')
            && !rest.contains(['?', '#'])
            && !rest.chars().any(char::is_control)
    });
    if !ok {
        return Err(
            "not an http:// or https:// address (without credentials, query or fragment)".into(),
        );
    }
    Ok(base.to_string())
}

/// Push the metrics to a Pushgateway, replacing this repository's and
/// branch's last push (`PUT /metrics/job/portcullis/repository@base64/…/branch@base64/…`).
/// Errors name the server by scheme, host and port only.
pub fn push(gateway: &str, group: &Group, body: &str) -> Result<(), String> {
    use base64::Engine as _;
    let b64 = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    let base = check_gateway(gateway).map_err(|e| format!("--pushgateway: {e}"))?;
    let shown = crate::http::shown(&base);
    // An empty value is written `=` in base64 form (the Pushgateway's rule).
    let part = |v: &str| {
        if v.is_empty() {
            "=".to_string()
        } else {
            b64(v)
        }
    };
    let url = format!(
        "{base}/metrics/job/portcullis/repository@base64/{}/branch@base64/{}",
        part(&group.repository),
        part(&group.branch)
    );
    let agent = crate::http::agent(
        std::time::Duration::from_secs(10),
        ureq::tls::TlsConfig::default(),
    );
    let mut response = agent
        .put(&url)
        .header("Content-Type", "text/plain; version=0.0.4")
        .send(body)
        .map_err(|e| {
            format!(
                "pushing to {shown}: {}",
                crate::diag::one_line(&e.to_string(), 200)
            )
        })?;
    crate::http::check_status(&mut response).map_err(|e| format!("pushing to {shown}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_escape_only_what_the_format_needs() {
        assert_eq!(escape("a\\b\"c\nd\te"), "a\\\\b\\\"c\\nd\te");
        // Different values never print alike.
        assert_ne!(escape("a\tb"), escape("a b"));
    }

    #[test]
    fn gateway_addresses_carry_no_secrets_or_queries() {
        assert_eq!(
            check_gateway("https://push.example:9091/prefix/"),
            Ok("https://push.example:9091/prefix".into())
        );
        for bad in [
            "push.example:9091",
            "https://user:pw@push.example",
            "https://push.example/?token=x",
            "https://push.example/#x",
            "https://",
        ] {
            assert!(check_gateway(bad).is_err(), "{bad}");
        }
    }
}
