# METADATA
# title: Kubernetes workload hardening
# description: Pod specs in Deployments, StatefulSets, DaemonSets, Jobs, CronJobs and Pods.
package kubernetes

import rego.v1

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}

# The pod spec of any workload kind.
pod_spec := input.spec if input.kind == "Pod"

pod_spec := input.spec.template.spec if input.kind in workload_kinds

pod_spec := input.spec.jobTemplate.spec.template.spec if input.kind == "CronJob"

containers contains c if some c in pod_spec.containers

containers contains c if some c in pod_spec.initContainers

name := sprintf("%s/%s", [input.kind, input.metadata.name])

# METADATA
# title: Privileged container
# description: A privileged container has every capability of the host; escape is trivial.
# related_resources:
#   - https://kubernetes.io/docs/concepts/security/pod-security-standards/
# custom:
#   severity: critical
#   security-severity: 9.0
deny_privileged contains msg if {
	some c in containers
	c.securityContext.privileged == true
	msg := sprintf("%s: container \"%s\" runs privileged", [name, c.name])
}

# METADATA
# title: Container without resource limits
# description: Without CPU and memory limits one container can starve the node.
# custom:
#   severity: high
deny_no_limits contains msg if {
	some c in containers
	some resource in ["cpu", "memory"]
	not c.resources.limits[resource]
	msg := sprintf("%s: container \"%s\" has no %s limit", [name, c.name, resource])
}

# METADATA
# title: Image without a pinned tag
# description: "`latest` (or no tag) moves under you: the same manifest deploys different code."
# custom:
#   severity: medium
warn_latest contains msg if {
	some c in containers
	not contains(c.image, "@sha256:")
	unpinned(c.image)
	msg := sprintf("%s: container \"%s\" uses image \"%s\" without a fixed tag", [name, c.name, c.image])
}

unpinned(image) if endswith(image, ":latest")

unpinned(image) if {
	parts := split(image, "/")
	not contains(parts[count(parts) - 1], ":")
}

# conftest exceptions: a workload labelled `portcullis.dev/allow-privileged`
# (e.g. a CNI daemon) may run privileged.
exception contains rules if {
	input.metadata.labels["portcullis.dev/allow-privileged"] == "true"
	rules := ["privileged"]
}
