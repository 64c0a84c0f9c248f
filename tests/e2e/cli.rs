//! The command line itself: shell completions generated from the argument
//! definitions.

use crate::common::*;

/// Each shell's script names every command and option; bash's parses.
#[test]
fn completions_cover_every_command_and_bash_parses_them() {
    let repo = Repo::new();
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = repo.run(&["completions", shell]);
        assert_eq!(run.code, 0, "{shell}: {}", run.stderr);
        // Option names without their dashes: fish writes `-l policy`.
        for word in [
            "check",
            "rules",
            "test",
            "hook",
            "policy",
            "changed-since",
            "sarif",
        ] {
            assert!(run.stdout.contains(word), "{shell}: no `{word}`");
        }
    }
    let bash = repo.run(&["completions", "bash"]);
    repo.write("completions.bash", &bash.stdout);
    let parsed = std::process::Command::new("bash")
        .args(["-n", "completions.bash"])
        .current_dir(repo.path())
        .output()
        .expect("bash");
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let bad = repo.run(&["completions", "tcsh"]);
    assert_eq!(bad.code, 2, "an unknown shell is a usage error");
}
