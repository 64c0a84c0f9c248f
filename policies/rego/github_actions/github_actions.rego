# METADATA
# title: GitHub Actions workflow hygiene
# description: >-
#   Over workflow files (.github/workflows/*.yml) and composite actions
#   (action.yml) parsed as YAML.
package github_actions

import rego.v1

# Every `uses:` and where it is: a workflow's steps and reusable-workflow
# jobs, a composite action's steps.
uses contains [sprintf("job \"%s\"", [job_id]), u] if {
	some job_id, job in input.jobs
	some step in job.steps
	u := step.uses
}

uses contains [sprintf("job \"%s\"", [job_id]), job.uses] if {
	some job_id, job in input.jobs
	job.uses
}

uses contains ["the composite action", u] if {
	some step in input.runs.steps
	u := step.uses
}

local(u) if startswith(u, "./")

local(u) if startswith(u, "docker://")

pinned(u) if regex.match(`@[0-9a-f]{40}$`, u)

# METADATA
# title: Action not pinned to a commit SHA
# description: >-
#   A tag or branch can be moved to malicious code after review; only a
#   full commit SHA is immutable.
# related_resources:
#   - https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#using-third-party-actions
# custom:
#   severity: high
#   security-severity: 7.5
deny_unpinned_action contains msg if {
	some [where, u] in uses
	not local(u)
	not pinned(u)
	msg := sprintf("%s uses \"%s\", not pinned to a full commit SHA", [where, u])
}

triggers contains t if {
	is_string(input.on)
	t := input.on
}

triggers contains t if {
	is_array(input.on)
	some t in input.on
}

triggers contains t if {
	is_object(input.on)
	some t, _ in input.on
}

head_refs := {
	"github.event.pull_request.head.sha",
	"github.event.pull_request.head.ref",
	"github.head_ref",
}

checks_out_head(step) if {
	startswith(step.uses, "actions/checkout@")
	ref := step["with"].ref
	some h in head_refs
	contains(ref, h)
}

# METADATA
# title: pull_request_target checks out the pull request's code
# description: >-
#   pull_request_target runs with the base repository's secrets and a
#   write token; checking out the head runs untrusted code with them.
# related_resources:
#   - https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/
# custom:
#   severity: critical
#   security-severity: 9.0
deny_pull_request_target_checkout contains msg if {
	"pull_request_target" in triggers
	some job_id, job in input.jobs
	some step in job.steps
	checks_out_head(step)
	msg := sprintf("job \"%s\" checks out the pull request head on pull_request_target", [job_id])
}
