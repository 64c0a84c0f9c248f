package github_actions_test

import rego.v1

import data.github_actions

sha := "8e5e7e5ab8b370d6c329ec480221332ada57f0ab"

checkout := sprintf("actions/checkout@%s", [sha])

safe_checkout := {"uses": checkout, "with": {"persist-credentials": false}}

workflow(on, steps) := {
	"on": on,
	"permissions": {},
	"jobs": {"build": {"runs-on": "ubuntu-latest", "steps": steps}},
}

msgs(results) := {r.msg | some r in results}

paths(results) := {r._path | some r in results}

test_a_hardened_workflow_passes_every_rule if {
	steps := [
		safe_checkout,
		{"uses": "./.github/actions/setup"},
		{"uses": "docker://alpine@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
		{"run": "cargo test", "env": {"TITLE": "${{ github.event.pull_request.title }}"}},
		{"run": "echo ${{ github.sha }} ${{ matrix.os }}"},
	]
	wf := workflow("push", steps)
	count(github_actions.deny_unpinned_action) == 0 with input as wf
	count(github_actions.deny_template_injection) == 0 with input as wf
	count(github_actions.warn_checkout_persists_credentials) == 0 with input as wf
	count(github_actions.warn_default_permissions) == 0 with input as wf
	count(github_actions.warn_dangerous_trigger) == 0 with input as wf
}

test_tags_branches_and_floating_images_are_denied_where_they_are if {
	steps := [{"uses": "actions/checkout@v4"}, {"run": "make"}, {"uses": "dtolnay/rust-toolchain@master"}, {"uses": "docker://alpine:3"}]
	results := github_actions.deny_unpinned_action with input as workflow(["push"], steps)
	msgs(results) == {
		`job "build" step 1 uses "actions/checkout@v4", not pinned to a full commit SHA`,
		`job "build" step 3 uses "dtolnay/rust-toolchain@master", not pinned to a full commit SHA`,
		`job "build" step 4 uses "docker://alpine:3", not pinned to a full commit SHA`,
	}
	paths(results) == {
		["jobs", "build", "steps", 0, "uses"],
		["jobs", "build", "steps", 2, "uses"],
		["jobs", "build", "steps", 3, "uses"],
	}
}

test_identical_steps_are_separate_findings if {
	steps := [{"uses": "actions/cache@v4"}, {"uses": "actions/cache@v4"}]
	count(github_actions.deny_unpinned_action) == 2 with input as workflow("push", steps)
}

test_reusable_workflows_must_be_pinned_too if {
	wf := {"on": "push", "permissions": {}, "jobs": {"call": {"uses": "acme/ci/.github/workflows/build.yml@main"}}}
	paths(github_actions.deny_unpinned_action) == {["jobs", "call", "uses"]} with input as wf
}

test_a_composite_actions_steps_are_checked_too if {
	action := {"runs": {"using": "composite", "steps": [
		{"uses": "actions/cache@v5"},
		{"uses": sprintf("github/codeql-action/upload-sarif@%s", [sha])},
		{"run": "echo '${{ github.event.issue.title }}'", "shell": "bash"},
	]}}
	msgs(github_actions.deny_unpinned_action) == {`the composite action's step 1 uses "actions/cache@v5", not pinned to a full commit SHA`} with input as action
	paths(github_actions.deny_template_injection) == {["runs", "steps", 2, "run"]} with input as action
}

test_privileged_triggers_are_named_where_they_are if {
	paths(github_actions.warn_dangerous_trigger) == {["on", "pull_request_target"]} with input as workflow({"pull_request_target": {"types": ["opened"]}, "push": null}, [])
	paths(github_actions.warn_dangerous_trigger) == {["on", 1]} with input as workflow(["push", "workflow_run"], [])
	paths(github_actions.warn_dangerous_trigger) == {["on"]} with input as workflow("pull_request_target", [])
	count(github_actions.warn_dangerous_trigger) == 0 with input as workflow(["push", "pull_request"], [])
}

test_checking_out_the_head_on_a_privileged_trigger_is_denied if {
	head := {"uses": checkout, "with": {"ref": "${{ github.event.pull_request.head.sha }}", "persist-credentials": false}}
	results := github_actions.deny_pull_request_target_checkout with input as workflow({"pull_request_target": {"types": ["opened"]}}, [head])
	msgs(results) == {`job "build" step 1 checks out the pull request's code on pull_request_target`}
	paths(results) == {["jobs", "build", "steps", 0, "with", "ref"]}
	run_branch := {"uses": checkout, "with": {"ref": "${{ github.event.workflow_run.head_branch }}"}}
	count(github_actions.deny_pull_request_target_checkout) == 1 with input as workflow(["workflow_run"], [run_branch])
	merge_ref := {"uses": checkout, "with": {"ref": "refs/pull/${{ github.event.number }}/merge"}}
	count(github_actions.deny_pull_request_target_checkout) == 1 with input as workflow("pull_request_target", [merge_ref])
}

test_the_base_checkout_or_an_unprivileged_trigger_passes if {
	count(github_actions.deny_pull_request_target_checkout) == 0 with input as workflow("pull_request_target", [safe_checkout])
	head := {"uses": checkout, "with": {"ref": "${{ github.head_ref }}"}}
	count(github_actions.deny_pull_request_target_checkout) == 0 with input as workflow("pull_request", [head])
}

test_attacker_controlled_text_in_a_script_is_denied if {
	steps := [
		{"run": "echo \"${{ github.event.pull_request.title }}\""},
		{"run": "git push origin ${{ github.head_ref }}"},
		{"run": "echo ${{ github.event.comment.body }} ${{ github.event.commits[0].message }}"},
		{"run": "echo ${{ GitHub.Event.Issue.Body }}"},
		{"uses": sprintf("actions/github-script@%s", [sha]), "with": {"script": "console.log('${{ github.event.workflow_run.head_branch }}')"}},
		{"run": "echo ${{ github.event.pull_request.number }} ${{ github.event.pull_request.head.sha }}"},
		{"run": "deploy ${{ inputs.target || 'staging' }} ${{ steps.build.outputs.inputs.x }}"},
		{"run": "echo ${{ github.event.inputs.tag }}"},
	]
	results := github_actions.deny_template_injection with input as workflow("pull_request_target", steps)
	msgs(results) == {
		`job "build" step 1 expands ${{ github.event.pull_request.title }} into its script`,
		`job "build" step 2 expands ${{ github.head_ref }} into its script`,
		`job "build" step 3 expands ${{ github.event.comment.body }} into its script`,
		`job "build" step 3 expands ${{ github.event.commits[0].message }} into its script`,
		`job "build" step 4 expands ${{ GitHub.Event.Issue.Body }} into its script`,
		`job "build" step 5 expands ${{ github.event.workflow_run.head_branch }} into its script`,
		`job "build" step 7 expands ${{ inputs.target || 'staging' }} into its script`,
		`job "build" step 8 expands ${{ github.event.inputs.tag }} into its script`,
	}
	["jobs", "build", "steps", 4, "with", "script"] in paths(results)
}

test_write_all_is_denied_at_the_top_and_on_a_job if {
	wf := {"on": "push", "permissions": "write-all", "jobs": {
		"a": {"runs-on": "x", "permissions": "write-all", "steps": []},
		"b": {"runs-on": "x", "steps": []},
	}}
	paths(github_actions.deny_write_all_permissions) == {["permissions"], ["jobs", "a", "permissions"]} with input as wf
	count(github_actions.warn_default_permissions) == 0 with input as wf
}

test_jobs_without_permissions_anywhere_are_warned if {
	wf := {"on": ["push"], "jobs": {
		"a": {"runs-on": "x", "steps": []},
		"b": {"runs-on": "x", "permissions": {"contents": "read"}, "steps": []},
	}}
	results := github_actions.warn_default_permissions with input as wf
	paths(results) == {["jobs", "a"]}
	# A workflow only ever called runs with its caller's permissions.
	called := {"on": {"workflow_call": {}}, "jobs": {"a": {"runs-on": "x", "steps": []}}}
	count(github_actions.warn_default_permissions) == 0 with input as called
}

test_top_level_writes_are_warned_when_several_jobs_share_them if {
	jobs := {"a": {"runs-on": "x", "steps": []}, "b": {"runs-on": "x", "steps": []}}
	wf := {"on": "push", "permissions": {"contents": "write", "issues": "read"}, "jobs": jobs}
	github_actions.warn_workflow_write_permissions == {{
		"msg": "the workflow grants contents: write to all 2 jobs",
		"_path": ["permissions", "contents"],
	}} with input as wf
	one := {"on": "push", "permissions": {"contents": "write"}, "jobs": {"a": jobs.a}}
	count(github_actions.warn_workflow_write_permissions) == 0 with input as one
}

test_checkout_must_drop_the_token if {
	steps := [
		{"uses": checkout},
		{"uses": checkout, "with": {"persist-credentials": "false"}},
		{"uses": checkout, "with": {"persist-credentials": true}},
		safe_checkout,
	]
	paths(github_actions.warn_checkout_persists_credentials) == {
		["jobs", "build", "steps", 0, "uses"],
		["jobs", "build", "steps", 2, "uses"],
	} with input as workflow("push", steps)
}

test_secrets_inherit_is_warned if {
	wf := {"on": "push", "permissions": {}, "jobs": {
		"call": {"uses": sprintf("acme/ci/.github/workflows/release.yml@%s", [sha]), "secrets": "inherit"},
		"named": {"uses": sprintf("acme/ci/.github/workflows/release.yml@%s", [sha]), "secrets": {"token": "${{ secrets.TOKEN }}"}},
	}}
	results := github_actions.warn_secrets_inherit with input as wf
	paths(results) == {["jobs", "call", "secrets"]}
	msgs(results) == {sprintf(`job "call" passes every secret to acme/ci/.github/workflows/release.yml@%s (%s)`, [sha, "`secrets: inherit`"])}
}

test_an_issue_comment_checking_out_the_pull_request_is_denied if {
	head := {"uses": checkout, "with": {"ref": "refs/pull/${{ github.event.issue.number }}/head", "persist-credentials": false}}
	wf := workflow({"issue_comment": {"types": ["created"]}}, [head])
	count(github_actions.deny_pull_request_target_checkout) == 1 with input as wf
	paths(github_actions.warn_dangerous_trigger) == {["on", "issue_comment"]} with input as wf
}

test_job_and_service_images_need_a_tag if {
	wf := {"on": "push", "permissions": {}, "jobs": {
		"a": {"runs-on": "x", "container": "node", "services": {
			"db": {"image": "postgres:16"},
			"ssh": {"image": "ghcr.io/linuxserver/openssh-server"},
			"cache": {"image": "redis@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
			"matrix": {"image": "${{ matrix.image }}"},
		}, "steps": []},
		"b": {"runs-on": "x", "container": {"image": "registry:5000/tools:latest"}, "steps": []},
		"c": {"runs-on": "x", "container": {"image": "rust:1.80"}, "steps": []},
	}}
	results := github_actions.deny_unpinned_image with input as wf
	paths(results) == {
		["jobs", "a", "container"],
		["jobs", "a", "services", "ssh", "image"],
		["jobs", "b", "container", "image"],
	}
	`job "a" service "ssh" runs image "ghcr.io/linuxserver/openssh-server" without a tag or digest` in msgs(results)
}

test_an_actor_named_as_a_bot_is_not_proof if {
	wf := {"on": "pull_request_target", "permissions": {}, "jobs": {
		"a": {"runs-on": "x", "if": "github.event.workflow_run.conclusion == 'success' || github.actor == 'dependabot[bot]'", "steps": [
			{"run": "make", "if": "'renovate[bot]' == github.triggering_actor"},
			{"run": "make", "if": "github.event.pull_request.user.login == 'dependabot[bot]'"},
		]},
	}}
	paths(github_actions.warn_bot_condition) == {["jobs", "a", "if"], ["jobs", "a", "steps", 0, "if"]} with input as wf
}

test_a_labeler_only_workflow_may_run_on_pull_request_target if {
	labeler := {"uses": sprintf("actions/labeler@%s", [sha]), "with": {"sync-labels": true}}
	count(github_actions.warn_dangerous_trigger) == 0 with input as workflow(["pull_request_target"], [labeler])
	count(github_actions.warn_dangerous_trigger) == 1 with input as workflow(["workflow_run"], [labeler])
	count(github_actions.warn_dangerous_trigger) == 1 with input as workflow(["pull_request_target"], [labeler, {"run": "make"}])
}

test_injection_spelled_other_ways_is_denied if {
	steps := [
		{"run": "echo \"${{ format('{0}', github.event.issue.title) }}\""},
		{"run": "echo ${{ github.event['issue']['body'] }}"},
		{"run": "echo '${{ toJSON(github.event.issue) }}'"},
		{"run": "echo ${{\n  github.event.comment.body\n}}"},
		{"run": "git checkout ${{ github.event.workflow_run.pull_requests[0].head.ref }}"},
		{"run": "echo ${{ env.TITLE }} ${{ env.SAFE }}"},
		{"run": "echo ${{ github.event.issue.number || '}' }}"},
		{"run": "echo ${{ format('}}', github.head_ref) }}"},
		{"run": "echo '${{ toJSON(\n  inputs) }}' ${{ env.PR-TITLE }}"},
	]
	wf := object.union(workflow("issues", steps), {"env": {"TITLE": "${{ github.event.issue.title }}", "SAFE": "${{ github.sha }}", "PR-TITLE": "${{ github.event.pull_request.title }}"}})
	paths(github_actions.deny_template_injection) == {
		["jobs", "build", "steps", 0, "run"],
		["jobs", "build", "steps", 1, "run"],
		["jobs", "build", "steps", 2, "run"],
		["jobs", "build", "steps", 3, "run"],
		["jobs", "build", "steps", 4, "run"],
		["jobs", "build", "steps", 5, "run"],
		["jobs", "build", "steps", 7, "run"],
		["jobs", "build", "steps", 8, "run"],
	} with input as wf
	`job "build" step 6 expands ${{ env.TITLE }} into its script` in msgs(github_actions.deny_template_injection) with input as wf
}

test_other_ways_to_check_out_the_pull_request_are_denied if {
	merge := {"uses": checkout, "with": {"ref": "${{ github.event.pull_request.merge_commit_sha }}"}}
	fork := {"uses": checkout, "with": {"repository": "${{ github.event.pull_request.head.repo.full_name }}"}}
	run_commit := {"uses": checkout, "with": {"ref": "${{ github.event.workflow_run.head_commit.id }}"}}
	paths(github_actions.deny_pull_request_target_checkout) == {
		["jobs", "build", "steps", 0, "with", "ref"],
		["jobs", "build", "steps", 1, "with", "repository"],
		["jobs", "build", "steps", 2, "with", "ref"],
	} with input as workflow(["pull_request_target", "workflow_run"], [merge, fork, run_commit])
}

test_a_bot_condition_in_any_case_is_warned if {
	wf := {"on": "pull_request_target", "permissions": {}, "jobs": {"a": {"runs-on": "x", "if": "GitHub.Actor == 'dependabot[bot]'", "steps": []}}}
	count(github_actions.warn_bot_condition) == 1 with input as wf
}
