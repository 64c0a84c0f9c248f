# METADATA
# title: Cargo dependencies on release branches
# description: >-
#   Evaluated on a combined input of Cargo.lock and the pull request's
#   context (portcullis's pr-context JSON, or the GitHub event payload).
package cargo

import rego.v1

default release_branches := ["release/*", "release-*"]

release_branches := data.portcullis.cargo.release_branches

lockfile := f.contents if {
	some f in input
	endswith(f.path, "Cargo.lock")
}

# The pull request's target branch, from pr-context or a GitHub event.
target_branch := f.contents.base if {
	some f in input
	is_string(f.contents.base)
}

target_branch := f.contents.pull_request.base.ref if {
	some f in input
	f.contents.pull_request.base.ref
}

on_release_branch if {
	some pattern in release_branches
	glob.match(pattern, ["/"], target_branch)
}

# METADATA
# title: Git dependency on a release branch
# description: >-
#   A git dependency is not reproducible from the registry and can change
#   under the same commit-less reference; releases ship only registry crates.
# custom:
#   severity: high
deny_git_dependency contains {"msg": msg, "_loc": {"file": "Cargo.lock"}} if {
	on_release_branch
	some pkg in lockfile["package"]
	startswith(pkg.source, "git+")
	msg := sprintf("%s %s comes from git (%s); releases to %s take registry crates only", [pkg.name, pkg.version, pkg.source, target_branch])
}
