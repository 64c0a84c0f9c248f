package cargo_test

import rego.v1

import data.cargo

lock := {"path": "Cargo.lock", "contents": {"version": 4, "package": [
	{"name": "serde", "version": "1.0.228", "source": "registry+https://github.com/rust-lang/crates.io-index"},
	{"name": "patched", "version": "0.3.0", "source": "git+https://github.com/acme/patched?branch=fix#0123abcd"},
	{"name": "app", "version": "0.1.0"},
]}}

pr(base) := {"path": ".portcullis/pr.json", "contents": {"author": "alice", "base": base}}

test_git_dependency_on_a_release_branch_is_denied if {
	results := cargo.deny_git_dependency with input as [lock, pr("release/1.4")]
	count(results) == 1
	some r in results
	startswith(r.msg, "patched 0.3.0 comes from git")
	r._loc.file == "Cargo.lock"
}

test_git_dependency_on_main_is_allowed if {
	count(cargo.deny_git_dependency) == 0 with input as [lock, pr("main")]
}

test_github_event_gives_the_branch_too if {
	event := {"path": ".portcullis/event.json", "contents": {"pull_request": {"base": {"ref": "release-2"}}}}
	count(cargo.deny_git_dependency) == 1 with input as [lock, event]
}

test_release_branches_come_from_data if {
	count(cargo.deny_git_dependency) == 1 with input as [lock, pr("stable")] with data.portcullis.cargo.release_branches as ["stable"]
	count(cargo.deny_git_dependency) == 0 with input as [lock, pr("release/1.4")] with data.portcullis.cargo.release_branches as ["stable"]
}
