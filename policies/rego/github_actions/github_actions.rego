# METADATA
# title: GitHub Actions workflow security
# description: >-
#   Over workflow files (.github/workflows/*.yml) and composite actions
#   (action.yml) parsed as YAML. Each result names the node it is about
#   (`_path`), so a finding lands on the offending line.
package github_actions

import rego.v1

# Every step and where it is: a workflow job's steps, a composite action's.
steps contains [["jobs", job_id, "steps", i], sprintf("job \"%s\" step %d", [job_id, i + 1]), step] if {
	some job_id, job in input.jobs
	some i, step in job.steps
}

steps contains [["runs", "steps", i], sprintf("the composite action's step %d", [i + 1]), step] if {
	some i, step in input.runs.steps
}

# Every `uses:`: steps' actions and reusable-workflow calls.
uses contains [array.concat(at, ["uses"]), where, step.uses] if {
	some [at, where, step] in steps
	is_string(step.uses)
}

uses contains [["jobs", job_id, "uses"], sprintf("job \"%s\"", [job_id]), job.uses] if {
	some job_id, job in input.jobs
	is_string(job.uses)
}

local(u) if startswith(u, "./")

pinned(u) if regex.match(`@[0-9a-f]{40}$`, u)

pinned(u) if {
	startswith(u, "docker://")
	contains(u, "@sha256:")
}

# METADATA
# title: Action not pinned to a commit SHA
# description: >-
#   A tag or branch can be moved to malicious code after review; only a
#   full commit SHA (or, for `docker://`, an image digest) is immutable.
# related_resources:
#   - https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#using-third-party-actions
# custom:
#   severity: high
#   security-severity: 7.5
deny_unpinned_action contains {"msg": msg, "_path": at} if {
	some [at, where, u] in uses
	not local(u)
	not pinned(u)
	msg := sprintf("%s uses \"%s\", not pinned to a full commit SHA", [where, u])
}

# The events a workflow runs on, and where each is named.
triggers contains [input.on, ["on"]] if is_string(input.on)

triggers contains [t, ["on", i]] if {
	is_array(input.on)
	some i, t in input.on
}

triggers contains [t, ["on", t]] if {
	is_object(input.on)
	some t, _ in input.on
}

triggered_by(name) if {
	some [t, _] in triggers
	t == name
}

# Events anyone can cause that run with the base repository's secrets and
# a write token.
dangerous_triggers := {"pull_request_target", "workflow_run", "issue_comment"}

# METADATA
# title: Workflow runs on a privileged trigger
# description: >-
#   pull_request_target, workflow_run and issue_comment run with the base
#   repository's secrets and a write token, on events anyone can cause.
#   They are safe only if nothing from the pull request is checked out,
#   run or interpolated; prefer pull_request.
# related_resources:
#   - https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/
# custom:
#   severity: medium
#   security-severity: 5.0
warn_dangerous_trigger contains {"msg": msg, "_path": at} if {
	some [t, at] in triggers
	t in dangerous_triggers
	not labeler_only(t)
	msg := sprintf("the workflow runs on %s, with secrets and a write token on events anyone can cause", [t])
}

# Labelling pull requests is what pull_request_target is for: a workflow
# whose every step is actions/labeler (which reads its configuration from
# the base branch) runs nothing of the pull request's.
labeler_only("pull_request_target") if {
	count(input.jobs) > 0
	every _, job in input.jobs {
		count(job.steps) > 0
		every step in job.steps {
			startswith(lower(step.uses), "actions/labeler@")
		}
	}
}

# Refs of the pull request's (or the triggering run's) own code.
head_refs := {
	"github.event.pull_request.head.sha",
	"github.event.pull_request.head.ref",
	"github.event.pull_request.merge_commit_sha",
	"github.head_ref",
	"github.event.workflow_run.head_sha",
	"github.event.workflow_run.head_branch",
	"github.event.workflow_run.head_commit.id",
	"refs/pull/",
}

# The pull request's own repository (a fork).
head_repositories := {
	"github.event.pull_request.head.repo.full_name",
	"github.event.workflow_run.head_repository.full_name",
}

# Whether the checkout's input `key` (`ref` or `repository`) names the
# pull request's code.
checks_out_head(step, "ref") if {
	startswith(lower(step.uses), "actions/checkout@")
	is_string(step["with"].ref)
	ref := normalized(step["with"].ref)
	some h in head_refs
	contains(ref, h)
}

checks_out_head(step, "repository") if {
	startswith(lower(step.uses), "actions/checkout@")
	is_string(step["with"].repository)
	repository := normalized(step["with"].repository)
	some h in head_repositories
	contains(repository, h)
}

# An expression's text as the policy compares it: lower case (context
# names are case-insensitive) and `a['b']` written `a.b`.
normalized(text) := regex.replace(lower(text), `\[[ \t]*['"]([a-z0-9_-]+)['"][ \t]*\]`, ".$1")

# METADATA
# title: A privileged trigger checks out the pull request's code
# description: >-
#   pull_request_target, workflow_run and issue_comment run with the base
#   repository's secrets and a write token; checking out the pull
#   request's head (or the triggering run's branch) runs untrusted code
#   with them.
# related_resources:
#   - https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/
# custom:
#   severity: critical
#   security-severity: 9.0
deny_pull_request_target_checkout contains {"msg": msg, "_path": array.concat(at, ["with", key])} if {
	some t in dangerous_triggers
	triggered_by(t)
	some [at, where, step] in steps
	some key in ["ref", "repository"]
	checks_out_head(step, key)
	msg := sprintf("%s checks out the pull request's code on %s", [where, t])
}

# Contexts whose text whoever opens an issue, a pull request or a
# comment, or names a branch, chooses; and inputs, which carry such text
# from a caller.
attacker_controlled := [
	`github\.head_ref`,
	`github\.event\.(issue|pull_request|discussion)\.(title|body)`,
	`github\.event\.(comment|review|review_comment)\.body`,
	`github\.event\.pull_request\.head\.(ref|label|repo\.(default_branch|description|homepage|name|full_name))`,
	`github\.event\.(head_commit|commits\[[^\]]*\]|commits\.\*)\.(message|author\.(name|email)|committer\.(name|email))`,
	`github\.event\.workflow_run\.(head_branch|display_title|head_commit\.(message|author\.(name|email)|committer\.(name|email))|head_repository\.(description|name|full_name))`,
	`github\.event\.pages(\[[^\]]*\]|\.\*)\.page_name`,
	`github\.event\.workflow_run\.pull_requests(\[[^\]]*\]|\.\*)\.head\.ref`,
	# Whole event objects, as JSON, hold all of the above.
	`tojson\([ \t\n]*(github(\.event[a-z0-9_.]*)?|inputs)[ \t\n]*\)`,
	# A reusable workflow's or composite action's inputs: whatever its
	# caller passes (and workflow_dispatch's, whatever is typed in).
	`(^|[^a-z0-9_.-])inputs\.`,
	`github\.event\.inputs\.`,
]

# Expressions a step's script is written with: `run:`, and the script of
# actions/github-script.
scripts contains [array.concat(at, ["run"]), where, step.run] if {
	some [at, where, step] in steps
	is_string(step.run)
}

scripts contains [array.concat(at, ["with", "script"]), where, step["with"].script] if {
	some [at, where, step] in steps
	startswith(lower(step.uses), "actions/github-script@")
	is_string(step["with"].script)
}

# METADATA
# title: Attacker-controlled text expanded into a script
# description: >-
#   `${{ }}` is expanded before the shell (or github-script) runs, so a
#   pull request title, a branch name or a comment becomes code. Pass the
#   value through `env:` and use the variable, quoted, instead.
# related_resources:
#   - https://docs.github.com/en/actions/security-for-github-actions/security-guides/security-hardening-for-github-actions#understanding-the-risk-of-script-injections
# custom:
#   severity: critical
#   security-severity: 9.0
deny_template_injection contains {"msg": msg, "_path": at, "_match": expr} if {
	some [at, where, script] in scripts
	some expr in expressions(script)
	tainted(expr)
	msg := sprintf("%s expands %s into its script", [where, expr])
}

# Every `${{ … }}` of a text (an expression may span lines, and hold `}`
# or `}}` in a quoted string).
expressions(text) := regex.find_n(`\$\{\{(?:[^'}]|'[^']*'|\}[^}])*\}\}`, text, -1)

tainted(expr) if controlled(expr)

# An environment variable set from attacker-controlled text (at the
# workflow's top, on a job or on a step) carries it into `${{ env.X }}`.
tainted(expr) if {
	text := normalized(expr)
	some name in tainted_env
	regex.match(sprintf(`(^|[^a-z0-9_.])env\.%s([^a-z0-9_-]|$)`, [lower(name)]), text)
}

# Whether an expression names a context in `attacker_controlled`.
controlled(expr) if {
	text := normalized(expr)
	some pattern in attacker_controlled
	regex.match(pattern, text)
}

envs contains env if env := input.env

envs contains env if {
	some _, job in input.jobs
	env := job.env
}

envs contains env if {
	some [_, _, step] in steps
	env := step.env
}

tainted_env contains name if {
	some env in envs
	is_object(env)
	some name, value in env
	regex.match(`^[A-Za-z_][A-Za-z0-9_-]*$`, name)
	is_string(value)
	some expr in expressions(value)
	controlled(expr)
}

# The permissions a `permissions:` mapping grants write access to.
writes(perms) := {p | some p, level in perms; level == "write"}

# METADATA
# title: Every permission, written
# description: >-
#   write-all gives every job of the workflow (or the job) write access to
#   the code, releases, packages and more; name the permissions the job
#   needs instead.
# related_resources:
#   - https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/controlling-permissions-for-github_token
# custom:
#   severity: high
#   security-severity: 7.0
deny_write_all_permissions contains {"msg": "the workflow grants write-all permissions", "_path": ["permissions"]} if {
	input.permissions == "write-all"
}

deny_write_all_permissions contains {"msg": msg, "_path": ["jobs", job_id, "permissions"]} if {
	some job_id, job in input.jobs
	job.permissions == "write-all"
	msg := sprintf("job \"%s\" grants write-all permissions", [job_id])
}

only_called if {
	some ["workflow_call", _] in triggers
	count(triggers) == 1
}

# METADATA
# title: Job runs with the default token permissions
# description: >-
#   With no `permissions:` at the workflow's top or on the job, the token
#   gets the repository's default, which may be read-write everywhere.
#   Set `permissions: {}` (or read-only) at the top and grant each job
#   what it needs.
# related_resources:
#   - https://docs.github.com/en/actions/writing-workflows/choosing-what-your-workflow-does/controlling-permissions-for-github_token
# custom:
#   severity: medium
#   security-severity: 5.0
warn_default_permissions contains {"msg": msg, "_path": ["jobs", job_id]} if {
	not "permissions" in object.keys(input)
	not only_called
	some job_id, job in input.jobs
	not "permissions" in object.keys(job)
	msg := sprintf("job \"%s\" runs with the repository's default token permissions (no `permissions:` on it or at the workflow's top)", [job_id])
}

# METADATA
# title: Write permissions for every job
# description: >-
#   Write permissions at the workflow's top reach every job, including
#   those that only build or test; grant them on the jobs that need them.
# custom:
#   severity: medium
#   security-severity: 5.0
warn_workflow_write_permissions contains {"msg": msg, "_path": ["permissions", p]} if {
	is_object(input.permissions)
	count(input.jobs) > 1
	some p in writes(input.permissions)
	msg := sprintf("the workflow grants %s: write to all %d jobs", [p, count(input.jobs)])
}

# METADATA
# title: Checkout keeps the token on disk
# description: >-
#   actions/checkout writes the token into .git/config unless told
#   otherwise; a later step, an uploaded artifact or a cache can then leak
#   it. Set `persist-credentials: false` unless the job pushes.
# related_resources:
#   - https://unit42.paloaltonetworks.com/github-repo-artifacts-leak-tokens/
# custom:
#   severity: medium
#   security-severity: 5.0
warn_checkout_persists_credentials contains {"msg": msg, "_path": array.concat(at, ["uses"])} if {
	some [at, where, step] in steps
	startswith(lower(step.uses), "actions/checkout@")
	not credentials_dropped(step)
	msg := sprintf("%s checks out with the token kept in .git/config (no `persist-credentials: false`)", [where])
}

credentials_dropped(step) if step["with"]["persist-credentials"] == false

credentials_dropped(step) if {
	is_string(step["with"]["persist-credentials"])
	lower(step["with"]["persist-credentials"]) == "false"
}

# METADATA
# title: Every secret passed to a reusable workflow
# description: >-
#   `secrets: inherit` hands every secret of the repository (and its
#   organization) to the called workflow; pass the ones it needs by name.
# custom:
#   severity: medium
#   security-severity: 5.0
warn_secrets_inherit contains {"msg": msg, "_path": ["jobs", job_id, "secrets"]} if {
	some job_id, job in input.jobs
	job.secrets == "inherit"
	msg := sprintf("job \"%s\" passes every secret to %s (`secrets: inherit`)", [job_id, job.uses])
}

# Every image a job runs in or beside: `container:` (a name or
# `{image: …}`) and each of `services:`.
images contains [["jobs", job_id, "container"], sprintf("job \"%s\"", [job_id]), job.container] if {
	some job_id, job in input.jobs
	is_string(job.container)
}

images contains [["jobs", job_id, "container", "image"], sprintf("job \"%s\"", [job_id]), job.container.image] if {
	some job_id, job in input.jobs
	is_string(job.container.image)
}

images contains [["jobs", job_id, "services", name, "image"], sprintf("job \"%s\" service \"%s\"", [job_id, name]), service.image] if {
	some job_id, job in input.jobs
	some name, service in job.services
	is_string(service.image)
}

# No tag, or `latest` (an expression is left alone: its value is not known).
floating(image) if endswith(image, ":latest")

floating(image) if {
	not contains(image, "@sha256:")
	not contains(image, "${{")
	parts := split(image, "/")
	not contains(parts[count(parts) - 1], ":")
}

# METADATA
# title: Job image without a tag
# description: >-
#   A container or service image with no tag (or `latest`) runs whatever
#   the registry serves that day; pin a version, or better a digest.
# custom:
#   severity: high
#   security-severity: 7.0
deny_unpinned_image contains {"msg": msg, "_path": at} if {
	some [at, where, image] in images
	floating(image)
	msg := sprintf("%s runs image \"%s\" without a tag or digest", [where, image])
}

# Conditions that trust the actor's name: whoever triggers the event can
# be someone else than the actor it names (a bot's pull request updated
# by anyone, a re-run).
bot_check := `github\.(actor|triggering_actor)[ \t\n]*==[ \t\n]*'[^']*\[bot\]'|'[^']*\[bot\]'[ \t\n]*==[ \t\n]*github\.(actor|triggering_actor)`

conditions contains [["jobs", job_id, "if"], sprintf("job \"%s\"", [job_id]), job["if"]] if {
	some job_id, job in input.jobs
	is_string(job["if"])
}

conditions contains [array.concat(at, ["if"]), where, step["if"]] if {
	some [at, where, step] in steps
	is_string(step["if"])
}

# METADATA
# title: Condition trusts the actor's name
# description: >-
#   `github.actor == 'dependabot[bot]'` does not prove the code is the
#   bot's: the actor is whoever caused the latest event, which anyone can
#   arrange. Check the pull request's author
#   (`github.event.pull_request.user.login`) instead.
# related_resources:
#   - https://securitylab.github.com/resources/github-actions-preventing-pwn-requests/
# custom:
#   severity: medium
#   security-severity: 5.0
warn_bot_condition contains {"msg": msg, "_path": at} if {
	some [at, where, condition] in conditions
	regex.match(bot_check, lower(condition))
	msg := sprintf("%s runs if the actor is named as a bot, which anyone can arrange", [where])
}
