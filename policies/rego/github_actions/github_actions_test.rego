package github_actions_test

import rego.v1

import data.github_actions

sha := "8e5e7e5ab8b370d6c329ec480221332ada57f0ab"

workflow(on, steps) := {"on": on, "jobs": {"build": {"runs-on": "ubuntu-latest", "steps": steps}}}

test_pinned_local_and_docker_actions_pass if {
	steps := [
		{"uses": sprintf("actions/checkout@%s", [sha])},
		{"uses": "./.github/actions/setup"},
		{"uses": "docker://alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		{"run": "cargo test"},
	]
	count(github_actions.deny_unpinned_action) == 0 with input as workflow("push", steps)
}

test_tags_and_branches_are_denied if {
	steps := [{"uses": "actions/checkout@v4"}, {"uses": "dtolnay/rust-toolchain@master"}]
	github_actions.deny_unpinned_action == {
		`job "build" uses "actions/checkout@v4", not pinned to a full commit SHA`,
		`job "build" uses "dtolnay/rust-toolchain@master", not pinned to a full commit SHA`,
	} with input as workflow(["push"], steps)
}

test_reusable_workflows_must_be_pinned_too if {
	wf := {"on": "push", "jobs": {"call": {"uses": "acme/ci/.github/workflows/build.yml@main"}}}
	count(github_actions.deny_unpinned_action) == 1 with input as wf
}

test_pull_request_target_with_head_checkout_is_denied if {
	steps := [{"uses": sprintf("actions/checkout@%s", [sha]), "with": {"ref": "${{ github.event.pull_request.head.sha }}"}}]
	count(github_actions.deny_pull_request_target_checkout) == 1 with input as workflow({"pull_request_target": {"types": ["opened"]}}, steps)
	count(github_actions.deny_pull_request_target_checkout) == 1 with input as workflow(["push", "pull_request_target"], steps)
}

test_pull_request_target_without_head_checkout_passes if {
	steps := [{"uses": sprintf("actions/checkout@%s", [sha])}]
	count(github_actions.deny_pull_request_target_checkout) == 0 with input as workflow("pull_request_target", steps)
}

test_pull_request_with_head_checkout_passes if {
	steps := [{"uses": sprintf("actions/checkout@%s", [sha]), "with": {"ref": "${{ github.head_ref }}"}}]
	count(github_actions.deny_pull_request_target_checkout) == 0 with input as workflow("pull_request", steps)
}

test_a_composite_actions_steps_must_be_pinned_too if {
	action := {"runs": {"using": "composite", "steps": [
		{"uses": "actions/cache@v5"},
		{"uses": sprintf("github/codeql-action/upload-sarif@%s", [sha])},
		{"run": "true", "shell": "bash"},
	]}}
	github_actions.deny_unpinned_action == {`the composite action uses "actions/cache@v5", not pinned to a full commit SHA`} with input as action
}
