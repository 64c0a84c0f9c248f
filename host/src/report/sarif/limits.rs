//! GitHub code scanning's upload limits ("SARIF results exceed limit" in
//! its documentation): a file over any of them is rejected whole, so the
//! log is cut to fit instead. The gate has already judged every finding;
//! what is cut is only left out of this file, and each run that lost
//! something says so in a notification.
//!
//! - at most [`MAX_RUNS`] runs: the runs kept are those with the most
//!   severe results (a run whose plugin failed first);
//! - at most [`MAX_RESULTS`] results per run, the most severe kept (errors
//!   before warnings before notes, counted findings before waived or
//!   baselined ones), in their original order;
//! - at most [`MAX_LOCATIONS`] locations per result and [`MAX_TAGS`] tags
//!   per rule;
//! - at most [`MAX_GZIP_BYTES`] once gzip-compressed: the per-run cap on
//!   results (and on notifications, which carry findings with no place) is
//!   halved until the log fits; if even none fit, rules keep only their
//!   short descriptions.

use std::io::Write;

use serde_sarif::sarif::{PropertyBag, Result as SarifResult, ResultLevel, Run};

use super::typed::{self, NotificationLevel};

pub const MAX_RUNS: usize = 20;
pub const MAX_RESULTS: usize = 25_000;
pub const MAX_LOCATIONS: usize = 1_000;
pub const MAX_TAGS: usize = 20;
pub const MAX_GZIP_BYTES: usize = 10_000_000;

/// The text `render` makes of `runs`, cut to GitHub's limits.
pub fn fit(mut runs: Vec<Run>, render: impl Fn(&[Run]) -> String) -> String {
    for run in &mut runs {
        cap_locations_and_tags(run);
    }
    let mut runs = cap_runs(runs);
    let mut cap = MAX_RESULTS;
    loop {
        // Runs within the cap are written as they are, not copied.
        let text = if runs.iter().all(|r| within(r, cap)) {
            render(&runs)
        } else {
            let cut: Vec<Run> = runs.iter().map(|r| cap_results(r.clone(), cap)).collect();
            render(&cut)
        };
        if compressed_fits(&text) {
            return text;
        }
        if cap == 0 {
            if runs.iter().any(has_long_rule_texts) {
                for run in &mut runs {
                    shorten_rule_texts(run);
                }
                continue;
            }
            return text;
        }
        let largest = runs
            .iter()
            .map(|r| r.results.as_ref().map_or(0, Vec::len).min(cap))
            .max()
            .unwrap_or(0);
        cap = largest / 2;
    }
}

/// Whether `cap_results` would leave the run as it is.
fn within(run: &Run, cap: usize) -> bool {
    let notifications = run
        .invocations
        .iter()
        .flatten()
        .next()
        .and_then(|i| i.tool_execution_notifications.as_ref())
        .map_or(0, Vec::len);
    run.results.as_ref().map_or(0, Vec::len) <= cap && notifications <= cap
}

fn has_long_rule_texts(run: &Run) -> bool {
    run.tool
        .driver
        .rules
        .iter()
        .flatten()
        .any(|r| r.help.is_some() || r.full_description.is_some())
}

/// Rules with their short descriptions only.
fn shorten_rule_texts(run: &mut Run) {
    for rule in run.tool.driver.rules.iter_mut().flatten() {
        rule.help = None;
        rule.full_description = None;
    }
    notify(
        run,
        format!(
            "rule help left out of this SARIF file (GitHub accepts at most {MAX_GZIP_BYTES} bytes \
             of compressed SARIF); `portcullis explain RULE` shows it"
        ),
    );
}

fn compressed_fits(text: &str) -> bool {
    // gzip never grows text by more than a few bytes per 16 KiB block.
    if text.len() + text.len() / 1000 + 64 <= MAX_GZIP_BYTES {
        return true;
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes())
        .and_then(|()| gz.finish())
        .is_ok_and(|bytes| bytes.len() <= MAX_GZIP_BYTES)
}

fn level_rank(r: &SarifResult) -> u8 {
    match r.level {
        Some(ResultLevel::Error) => 3,
        Some(ResultLevel::Warning) | None => 2,
        Some(ResultLevel::Note) => 1,
        Some(ResultLevel::None) => 0,
    }
}

/// Most severe first: counted before waived or baselined, then by level.
fn severity(r: &SarifResult) -> (bool, u8) {
    let quiet = r.suppressions.as_ref().is_some_and(|s| !s.is_empty())
        || r.baseline_state
            .as_ref()
            .is_some_and(|b| b.as_str() != Some("new"));
    (!quiet, level_rank(r))
}

fn notify(run: &mut Run, text: String) {
    let n = typed::notification(NotificationLevel::Warning, text);
    if let Some(inv) = run.invocations.as_mut().and_then(|i| i.first_mut()) {
        inv.tool_execution_notifications
            .get_or_insert_with(Vec::new)
            .push(n);
    }
}

fn cap_locations_and_tags(run: &mut Run) {
    for r in run.results.iter_mut().flatten() {
        if let Some(locations) = r.locations.as_mut()
            && locations.len() > MAX_LOCATIONS
        {
            let left_out = locations.len() - MAX_LOCATIONS;
            locations.truncate(MAX_LOCATIONS);
            r.properties
                .get_or_insert_with(|| PropertyBag::builder().build())
                .additional_properties
                .insert("portcullis/locations-left-out".into(), left_out.into());
        }
    }
    for rule in run.tool.driver.rules.iter_mut().flatten() {
        if let Some(tags) = rule.properties.as_mut().and_then(|p| p.tags.as_mut()) {
            tags.truncate(MAX_TAGS);
        }
    }
}

/// At most [`MAX_RUNS`] runs, the most severe kept in their order.
fn cap_runs(mut runs: Vec<Run>) -> Vec<Run> {
    if runs.len() <= MAX_RUNS {
        return runs;
    }
    let score = |r: &Run| {
        let failed = r
            .invocations
            .iter()
            .flatten()
            .any(|i| !i.execution_successful);
        let mut levels = [0usize; 4];
        for res in r.results.iter().flatten() {
            levels[usize::from(level_rank(res))] += 1;
        }
        (failed, levels[3], levels[2], levels[1])
    };
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(score(&runs[i])));
    let mut keep = order[..MAX_RUNS].to_vec();
    keep.sort_unstable();
    let left_out: Vec<String> = order[MAX_RUNS..]
        .iter()
        .map(|&i| {
            let r = &runs[i];
            format!(
                "{} ({} results)",
                r.tool.driver.name,
                r.results.as_ref().map_or(0, Vec::len)
            )
        })
        .collect();
    let mut slots: Vec<Option<Run>> = runs.drain(..).map(Some).collect();
    let mut kept: Vec<Run> = keep.iter().filter_map(|&i| slots[i].take()).collect();
    notify(
        &mut kept[0],
        format!(
            "{} plugin runs left out of this SARIF file (GitHub accepts at most {MAX_RUNS} runs \
             per file), the gate judged them: {}",
            left_out.len(),
            left_out.join(", ")
        ),
    );
    kept
}

/// At most `cap` results, the most severe kept in their order, and at
/// most `cap` notifications (errors first).
fn cap_results(mut run: Run, cap: usize) -> Run {
    cap_notifications(&mut run, cap);
    let Some(results) = run.results.take() else {
        return run;
    };
    if results.len() <= cap {
        run.results = Some(results);
        return run;
    }
    let mut order: Vec<usize> = (0..results.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(severity(&results[i])));
    let mut keep = vec![false; results.len()];
    for &i in &order[..cap] {
        keep[i] = true;
    }
    let left_out = results.len() - cap;
    run.results = Some(
        results
            .into_iter()
            .zip(keep)
            .filter_map(|(r, k)| k.then_some(r))
            .collect(),
    );
    let why = if cap == MAX_RESULTS {
        format!("GitHub accepts at most {MAX_RESULTS} results per run")
    } else {
        format!("GitHub accepts at most {MAX_GZIP_BYTES} bytes of compressed SARIF")
    };
    notify(
        &mut run,
        format!(
            "{left_out} results left out of this SARIF file ({why}); the most severe are kept, \
             and the gate judged them all"
        ),
    );
    run
}

fn cap_notifications(run: &mut Run, cap: usize) {
    let Some(list) = run
        .invocations
        .as_mut()
        .and_then(|i| i.first_mut())
        .and_then(|i| i.tool_execution_notifications.as_mut())
    else {
        return;
    };
    if list.len() <= cap {
        return;
    }
    let rank = |n: &serde_sarif::sarif::Notification| match n
        .level
        .as_ref()
        .and_then(serde_json::Value::as_str)
    {
        Some("error") => 0,
        Some("warning") => 1,
        _ => 2,
    };
    let mut order: Vec<usize> = (0..list.len()).collect();
    order.sort_by_key(|&i| rank(&list[i]));
    let mut keep = vec![false; list.len()];
    for &i in &order[..cap] {
        keep[i] = true;
    }
    let left_out = list.len() - cap;
    let kept: Vec<_> = std::mem::take(list)
        .into_iter()
        .zip(keep)
        .filter_map(|(n, k)| k.then_some(n))
        .collect();
    *list = kept;
    notify(
        run,
        format!(
            "{left_out} notifications left out of this SARIF file (GitHub accepts at most \
             {MAX_GZIP_BYTES} bytes of compressed SARIF); errors are kept first, and the gate \
             judged every finding"
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_sarif::sarif::{Invocation, Message, Tool, ToolComponent};

    fn run(name: &str, levels: &[ResultLevel]) -> Run {
        let results = levels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let mut r = SarifResult::builder()
                    .message(Message::builder().text(format!("r{i}")).build())
                    .build();
                r.level = Some(*l);
                r
            })
            .collect::<Vec<_>>();
        Run::builder()
            .tool(
                Tool::builder()
                    .driver(ToolComponent::builder().name(name).build())
                    .build(),
            )
            .invocations(vec![
                Invocation::builder().execution_successful(true).build(),
            ])
            .results(results)
            .build()
    }

    #[test]
    fn results_past_the_cap_keep_the_most_severe_in_order_and_say_so() {
        use ResultLevel::{Error, Note, Warning};
        let r = cap_results(run("p", &[Note, Error, Warning, Note, Error]), 3);
        let texts: Vec<_> = r
            .results
            .as_ref()
            .expect("results")
            .iter()
            .map(|r| r.message.text.clone().expect("text"))
            .collect();
        assert_eq!(texts, ["r1", "r2", "r4"]);
        let said = &r.invocations.as_ref().expect("inv")[0]
            .tool_execution_notifications
            .as_ref()
            .expect("notified")[0];
        assert!(
            said.message
                .text
                .as_deref()
                .expect("text")
                .starts_with("2 results left out"),
            "{said:?}"
        );
    }

    #[test]
    fn runs_past_twenty_keep_the_most_severe_and_name_the_rest() {
        let mut runs: Vec<Run> = (0..22)
            .map(|i| run(&format!("p{i}"), &[ResultLevel::Warning]))
            .collect();
        runs[21] = run("p21", &[ResultLevel::Error]);
        let kept = cap_runs(runs);
        assert_eq!(kept.len(), MAX_RUNS);
        assert_eq!(
            kept[MAX_RUNS - 1].tool.driver.name,
            "p21",
            "the error run is kept"
        );
        let said = kept[0].invocations.as_ref().expect("inv")[0]
            .tool_execution_notifications
            .as_ref()
            .expect("notified")[0]
            .message
            .text
            .clone()
            .expect("text");
        assert!(
            said.starts_with("2 plugin runs left out") && said.contains("p20"),
            "{said}"
        );
    }

    #[test]
    fn a_log_over_the_compressed_limit_is_cut_until_it_fits() {
        // Incompressible messages: 30 000 results of ~600 random bytes.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut noise = || {
            (0..600)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    char::from(b'!' + (seed % 90) as u8)
                })
                .collect::<String>()
        };
        let mut big = run("p", &vec![ResultLevel::Warning; 30_000]);
        for r in big.results.as_mut().expect("results") {
            r.message.text = Some(noise());
        }
        let text = fit(vec![big], |runs| serde_json::to_string(runs).expect("json"));
        let runs: Vec<Run> = serde_json::from_str(&text).expect("runs");
        let kept = runs[0].results.as_ref().expect("results").len();
        assert!(kept < MAX_RESULTS && kept > 1000, "{kept}");
        assert!(compressed_fits(&text));
    }
}
