//! "Did you mean …?" for misspelt keys, variants and levels.

/// Add "did you mean `x`?" to serde's unknown-field and unknown-variant
/// messages when an expected name is within two edits of the given one.
pub fn did_you_mean(message: &str) -> String {
    let Some(rest) = message
        .strip_prefix("unknown field `")
        .or_else(|| message.strip_prefix("unknown variant `"))
    else {
        return message.to_string();
    };
    let Some((given, expected)) = rest.split_once('`') else {
        return message.to_string();
    };
    let best = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(|cand| (edit_distance(given, cand), cand))
        .filter(|(d, _)| *d <= 2)
        .min();
    match best {
        Some((_, cand)) => format!("{message}; did you mean `{cand}`?"),
        None => message.to_string(),
    }
}

/// The candidate nearest to `given` (at most a third of its length in
/// edits, at least two), for "did you mean".
pub fn closest<'a>(given: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (given.chars().count() / 3).max(2);
    candidates
        .map(|c| (edit_distance(given, c), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_only_near_names() {
        assert_eq!(
            did_you_mean("unknown field `timout-ms`, expected one of `source`, `timeout-ms`"),
            "unknown field `timout-ms`, expected one of `source`, `timeout-ms`; did you mean `timeout-ms`?"
        );
        assert!(
            !did_you_mean("unknown field `zzz`, expected one of `source`, `read`")
                .contains("did you mean")
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
