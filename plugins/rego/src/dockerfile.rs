//! Dockerfiles as a list of instructions, in the shape conftest gives
//! policies: `{"Cmd": "from", "Flags": [], "Value": ["alpine:3.20"],
//! "Original": "FROM alpine:3.20", "StartLine": 1, "EndLine": 1,
//! "JSON": false, "Stage": 0, "SubCmd": ""}`.
//!
//! Handles line continuations (`\`, or the `# escape=` directive's
//! character), comments, JSON (exec) form, `--flags`, heredoc bodies
//! (kept in `Original`) and `ONBUILD`'s sub-command.

use serde_json::{Value, json};

pub fn parse(text: &str) -> Result<Value, String> {
    let escape = escape_char(text);
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    let mut stage = -1i64;
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i;
        let mut joined = String::new();
        let mut original = String::new();
        loop {
            let line = lines[i];
            let t = line.trim_end();
            // Comment lines inside a continuation are skipped, as Docker does.
            if i > start && t.trim_start().starts_with('#') {
                i += 1;
                if i >= lines.len() {
                    break;
                }
                continue;
            }
            if !original.is_empty() {
                original.push('\n');
            }
            original.push_str(line);
            if let Some(body) = t.strip_suffix(escape) {
                joined.push_str(body);
                joined.push(' ');
                i += 1;
                if i >= lines.len() {
                    break;
                }
            } else {
                joined.push_str(t);
                i += 1;
                break;
            }
        }
        // Heredocs (`RUN <<EOF … EOF`): the body belongs to the instruction.
        if let Some(tag) = heredoc_tag(&joined) {
            while i < lines.len() {
                original.push('\n');
                original.push_str(lines[i]);
                i += 1;
                if lines[i - 1].trim() == tag {
                    break;
                }
            }
        }
        let end = i;
        let joined = joined.trim();
        let (word, rest) = joined
            .split_once(char::is_whitespace)
            .unwrap_or((joined, ""));
        let cmd = word.to_ascii_lowercase();
        let mut rest = rest.trim().to_string();
        let mut sub = String::new();
        if cmd == "onbuild" {
            let (w, r) = rest
                .split_once(char::is_whitespace)
                .unwrap_or((rest.as_str(), ""));
            sub = w.to_ascii_lowercase();
            rest = r.trim().to_string();
        }
        if cmd.is_empty() || !cmd.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(format!(
                "{}: not a Dockerfile instruction: `{word}`",
                start + 1
            ));
        }
        if cmd == "from" {
            stage += 1;
        }
        let (flags, rest) = take_flags(&rest);
        let (value, is_json) = match serde_json::from_str::<Vec<String>>(rest) {
            Ok(v) if rest.starts_with('[') => (v, true),
            _ => (arguments(&cmd, rest), false),
        };
        out.push(json!({
            "Cmd": cmd,
            "SubCmd": sub,
            "Flags": flags,
            "Value": value,
            "Original": original,
            "StartLine": start + 1,
            "EndLine": end,
            "JSON": is_json,
            "Stage": stage.max(0),
        }));
    }
    Ok(Value::Array(out))
}

/// `# escape=` parser directive at the top of the file.
fn escape_char(text: &str) -> char {
    for line in text.lines() {
        let t = line.trim();
        let Some(d) = t.strip_prefix('#') else { break };
        let d = d.trim();
        if let Some(v) = d.strip_prefix("escape=") {
            return v.trim().chars().next().unwrap_or('\\');
        }
        if !d.contains('=') {
            break;
        }
    }
    '\\'
}

fn heredoc_tag(line: &str) -> Option<String> {
    let at = line.find("<<")?;
    let tag: String = line[at + 2..]
        .trim_start_matches('-')
        .trim_matches(|c| c == '"' || c == '\'')
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!tag.is_empty()).then_some(tag)
}

/// Leading `--name=value` flags.
fn take_flags(rest: &str) -> (Vec<String>, &str) {
    let mut flags = Vec::new();
    let mut r = rest;
    while r.starts_with("--") {
        let (flag, tail) = r.split_once(char::is_whitespace).unwrap_or((r, ""));
        flags.push(flag.to_string());
        r = tail.trim_start();
    }
    (flags, r)
}

/// Shell-form arguments: whitespace-separated words for most instructions
/// (quotes respected); `RUN`, `CMD`, `ENTRYPOINT`, `SHELL` keep the whole
/// command line as one value, as Docker's parser does.
fn arguments(cmd: &str, rest: &str) -> Vec<String> {
    if rest.is_empty() {
        return Vec::new();
    }
    if matches!(cmd, "run" | "cmd" | "entrypoint" | "shell") {
        return vec![rest.to_string()];
    }
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    for c in rest.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    words.push(std::mem::take(&mut cur));
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() {
        words.push(cur);
    }
    words
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // in tests a panic is the failure report
mod tests {
    use super::*;

    #[test]
    fn instructions_stages_continuations_and_forms() {
        let v = parse(
            "# syntax=docker/dockerfile:1\nFROM rust:1.95 AS build\nRUN cargo build \\\n    --release\n\nFROM gcr.io/distroless/cc:latest\nCOPY --from=build /app /app\nUSER nonroot\nENTRYPOINT [\"/app\"]\nENV A=1 B=\"two words\"\n",
        )
        .unwrap();
        let cmds: Vec<&str> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["Cmd"].as_str().unwrap())
            .collect();
        assert_eq!(
            cmds,
            ["from", "run", "from", "copy", "user", "entrypoint", "env"]
        );
        assert_eq!(v[0]["Value"], json!(["rust:1.95", "AS", "build"]));
        assert_eq!(v[1]["Value"], json!(["cargo build      --release"]));
        assert_eq!(
            (v[1]["StartLine"].as_u64(), v[1]["EndLine"].as_u64()),
            (Some(3), Some(4))
        );
        assert_eq!(v[2]["Stage"], 1);
        assert_eq!(v[3]["Flags"], json!(["--from=build"]));
        assert_eq!(v[5]["JSON"], true);
        assert_eq!(v[5]["Value"], json!(["/app"]));
        assert_eq!(v[6]["Value"], json!(["A=1", "B=two words"]));
        assert!(
            parse("FROM x\n!!! y\n")
                .unwrap_err()
                .starts_with("2: not a Dockerfile instruction")
        );
    }
}
