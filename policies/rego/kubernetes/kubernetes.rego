# METADATA
# title: Kubernetes workload hardening
# description: >-
#   Pod specs in Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets,
#   ReplicationControllers, Jobs and CronJobs (also as the items of a
#   List), held to the Pod Security Standards: the baseline controls deny,
#   the restricted ones warn. Plus resource limits and image tags. Each
#   result names the node it is about (`_path`). Booleans are read as the
#   API server reads YAML 1.1 (`yes`, `on` are true).
# related_resources:
#   - https://kubernetes.io/docs/concepts/security/pod-security-standards/
package kubernetes

import rego.v1

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}

# The objects of the input: the input itself, or each item of a List
# (anything else, such as a patch file's list, is not a manifest).
objects contains [[], input] if {
	is_object(input)
	not list_kind(input)
}

objects contains [["items", i], o] if {
	list_kind(input)
	some i, o in input.items
	is_object(o)
}

list_kind(x) if {
	is_string(x.kind)
	endswith(x.kind, "List")
}

# A number, or a string of digits; a placeholder (`${PORT}`) is neither.
as_number(v) := v if is_number(v)

as_number(v) := to_number(v) if {
	is_string(v)
	regex.match(`^[0-9]+$`, v)
}

# Where the pod spec of each kind is.
spec_path("Pod") := ["spec"]

spec_path(kind) := ["spec", "template", "spec"] if kind in workload_kinds

spec_path("CronJob") := ["spec", "jobTemplate", "spec", "template", "spec"]

# Every pod spec: where it is, the spec, how messages name its object, and
# where the pod's metadata is.
pods contains {"at": at, "spec": object.get(o, rel, {}), "name": name, "meta": meta} if {
	some [prefix, o] in objects
	rel := spec_path(o.kind)
	at := array.concat(prefix, rel)
	meta := array.concat(prefix, array.concat(array.slice(rel, 0, count(rel) - 1), ["metadata"]))
	name := sprintf("%s/%s", [o.kind, object.get(o, ["metadata", "name"], object.get(o, ["metadata", "generateName"], "(unnamed)"))])
}

# Every container with its path and pod: containers, init and ephemeral.
containers contains {"at": array.concat(p.at, [list, i]), "c": c, "pod": p} if {
	some p in pods
	some list in ["containers", "initContainers", "ephemeralContainers"]
	some i, c in p.spec[list]
}

# Security contexts with their paths: each pod's and each container's.
contexts contains {"at": array.concat(p.at, ["securityContext"]), "who": "the pod", "ctx": p.spec.securityContext, "pod": p} if {
	some p in pods
}

contexts contains {"at": array.concat(k.at, ["securityContext"]), "who": sprintf("container \"%s\"", [k.c.name]), "ctx": k.c.securityContext, "pod": k.pod} if {
	some k in containers
}

# YAML 1.1's booleans, as the API server reads a manifest.
is_true(v) if v == true

is_true(v) if {
	is_string(v)
	lower(v) in {"true", "yes", "y", "on"}
}

is_false(v) if v == false

is_false(v) if {
	is_string(v)
	lower(v) in {"false", "no", "n", "off"}
}

# METADATA
# title: Privileged container
# description: A privileged container has every capability of the host; escape is trivial (baseline).
# custom:
#   severity: critical
#   security-severity: 9.0
deny_privileged contains {"msg": msg, "_path": array.concat(k.at, ["securityContext", "privileged"])} if {
	some k in containers
	is_true(k.c.securityContext.privileged)
	msg := sprintf("%s: container \"%s\" runs privileged", [k.pod.name, k.c.name])
}

# METADATA
# title: Host namespaces shared
# description: hostNetwork, hostPID and hostIPC let the pod see and reach the node's processes, network and IPC (baseline).
# custom:
#   severity: high
#   security-severity: 8.0
deny_host_namespaces contains {"msg": msg, "_path": array.concat(p.at, [ns])} if {
	some p in pods
	some ns in ["hostNetwork", "hostPID", "hostIPC"]
	is_true(p.spec[ns])
	msg := sprintf("%s: %s is true", [p.name, ns])
}

# METADATA
# title: HostPath volume
# description: A hostPath volume mounts the node's file system into the pod (baseline).
# custom:
#   severity: high
#   security-severity: 8.0
deny_host_path contains {"msg": msg, "_path": array.concat(p.at, ["volumes", i, "hostPath"])} if {
	some p in pods
	some i, v in p.spec.volumes
	v.hostPath
	msg := sprintf("%s: volume \"%s\" mounts the node's %s", [p.name, v.name, object.get(v.hostPath, "path", "file system")])
}

# METADATA
# title: Host port
# description: A hostPort binds the node's own port, bypassing network policy (baseline).
# custom:
#   severity: medium
deny_host_ports contains {"msg": msg, "_path": array.concat(k.at, ["ports", i, "hostPort"])} if {
	some k in containers
	some i, p in k.c.ports
	as_number(p.hostPort) > 0
	msg := sprintf("%s: container \"%s\" binds host port %v", [k.pod.name, k.c.name, p.hostPort])
}

# Capabilities the baseline allows a container to add.
baseline_capabilities := {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

capability(cap) := upper(trim_prefix(upper(cap), "CAP_"))

# METADATA
# title: Capability beyond the baseline
# description: >-
#   Adding a capability outside the container runtime's default set (such
#   as SYS_ADMIN or NET_ADMIN) gives the container root powers over the
#   node (baseline).
# custom:
#   severity: high
#   security-severity: 8.0
deny_capabilities contains {"msg": msg, "_path": array.concat(k.at, ["securityContext", "capabilities", "add", i])} if {
	some k in containers
	some i, cap in k.c.securityContext.capabilities.add
	not capability(cap) in baseline_capabilities
	msg := sprintf("%s: container \"%s\" adds capability %s", [k.pod.name, k.c.name, cap])
}

# METADATA
# title: Unmasked /proc
# description: procMount Unmasked exposes the node's /proc paths the runtime hides (baseline).
# custom:
#   severity: high
deny_proc_mount contains {"msg": msg, "_path": array.concat(k.at, ["securityContext", "procMount"])} if {
	some k in containers
	k.c.securityContext.procMount
	k.c.securityContext.procMount != "Default"
	msg := sprintf("%s: container \"%s\" sets procMount %s", [k.pod.name, k.c.name, k.c.securityContext.procMount])
}

# Sysctls the baseline allows: namespaced and isolated from the node.
safe_sysctls := {
	"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
	"net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
	"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
}

# METADATA
# title: Unsafe sysctl
# description: Only the namespaced sysctls of the baseline's list may be set; others change the node (baseline).
# custom:
#   severity: high
deny_unsafe_sysctls contains {"msg": msg, "_path": array.concat(p.at, ["securityContext", "sysctls", i, "name"])} if {
	some p in pods
	some i, s in p.spec.securityContext.sysctls
	not s.name in safe_sysctls
	msg := sprintf("%s: sets sysctl %s", [p.name, s.name])
}

# METADATA
# title: Seccomp or AppArmor unconfined
# description: An Unconfined seccomp or AppArmor profile lifts the runtime's system-call and file confinement (baseline).
# custom:
#   severity: high
deny_unconfined contains {"msg": msg, "_path": array.concat(x.at, [kind, "type"])} if {
	some x in contexts
	some kind in ["seccompProfile", "appArmorProfile"]
	x.ctx[kind].type == "Unconfined"
	msg := sprintf("%s: %s runs with %s Unconfined", [x.pod.name, x.who, kind])
}

deny_unconfined contains {"msg": msg, "_path": array.concat(p.meta, ["annotations", key])} if {
	some p in pods
	some key, value in object.get(input, array.concat(p.meta, ["annotations"]), {})
	startswith(key, "container.apparmor.security.beta.kubernetes.io/")
	value == "unconfined"
	msg := sprintf("%s: %s is unconfined", [p.name, key])
}

selinux_types := {"container_t", "container_init_t", "container_kvm_t", "container_engine_t"}

# METADATA
# title: Custom SELinux options
# description: Only the container SELinux types may be set, and never a user or role (baseline).
# custom:
#   severity: medium
deny_selinux contains {"msg": msg, "_path": array.concat(x.at, ["seLinuxOptions", field])} if {
	some x in contexts
	some field, value in x.ctx.seLinuxOptions
	not selinux_allowed(field, value)
	msg := sprintf("%s: %s sets SELinux %s %s", [x.pod.name, x.who, field, value])
}

selinux_allowed("level", _) := true

selinux_allowed("type", t) if t in selinux_types

# METADATA
# title: Windows HostProcess container
# description: A HostProcess container runs as a process on the Windows node itself (baseline).
# custom:
#   severity: critical
deny_host_process contains {"msg": msg, "_path": array.concat(x.at, ["windowsOptions", "hostProcess"])} if {
	some x in contexts
	is_true(x.ctx.windowsOptions.hostProcess)
	msg := sprintf("%s: %s is a Windows HostProcess", [x.pod.name, x.who])
}

# Volume types the restricted profile allows.
restricted_volumes := {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}

# METADATA
# title: Volume type outside the restricted set
# description: The restricted profile allows only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes.
# custom:
#   severity: medium
warn_volume_type contains {"msg": msg, "_path": array.concat(p.at, ["volumes", i, kind])} if {
	some p in pods
	some i, v in p.spec.volumes
	some kind, _ in v
	kind != "name"
	kind != "hostPath"
	not kind in restricted_volumes
	msg := sprintf("%s: volume \"%s\" is of type %s", [p.name, v.name, kind])
}

# METADATA
# title: Privilege escalation allowed
# description: Without allowPrivilegeEscalation false, a setuid binary can gain more privileges than the process started with (restricted).
# custom:
#   severity: medium
warn_privilege_escalation contains {"msg": msg, "_path": k.at} if {
	some k in containers
	not is_false(k.c.securityContext.allowPrivilegeEscalation)
	msg := sprintf("%s: container \"%s\" does not set allowPrivilegeEscalation: false", [k.pod.name, k.c.name])
}

# METADATA
# title: May run as root
# description: The restricted profile needs runAsNonRoot true (on the pod or each container) and no runAsUser 0.
# custom:
#   severity: medium
warn_run_as_root contains {"msg": msg, "_path": k.at} if {
	some k in containers
	not is_true(k.c.securityContext.runAsNonRoot)
	not pod_non_root(k)
	msg := sprintf("%s: container \"%s\" may run as root (runAsNonRoot is not true)", [k.pod.name, k.c.name])
}

warn_run_as_root contains {"msg": msg, "_path": array.concat(x.at, ["runAsUser"])} if {
	some x in contexts
	as_number(x.ctx.runAsUser) == 0
	msg := sprintf("%s: %s sets runAsUser 0", [x.pod.name, x.who])
}

pod_non_root(k) if {
	is_true(k.pod.spec.securityContext.runAsNonRoot)
	not is_false(k.c.securityContext.runAsNonRoot)
}

# METADATA
# title: No seccomp profile
# description: The restricted profile needs seccompProfile RuntimeDefault or Localhost, on the pod or on each container.
# custom:
#   severity: low
warn_seccomp contains {"msg": msg, "_path": k.at} if {
	some k in containers
	not confined(k.c.securityContext)
	not confined(k.pod.spec.securityContext)
	msg := sprintf("%s: container \"%s\" has no RuntimeDefault or Localhost seccomp profile", [k.pod.name, k.c.name])
}

confined(ctx) if ctx.seccompProfile.type in {"RuntimeDefault", "Localhost"}

# METADATA
# title: Capabilities not dropped
# description: The restricted profile needs every capability dropped (drop ALL) and at most NET_BIND_SERVICE added.
# custom:
#   severity: low
warn_capabilities contains {"msg": msg, "_path": k.at} if {
	some k in containers
	not drops_all(k.c)
	msg := sprintf("%s: container \"%s\" does not drop ALL capabilities", [k.pod.name, k.c.name])
}

warn_capabilities contains {"msg": msg, "_path": array.concat(k.at, ["securityContext", "capabilities", "add", i])} if {
	some k in containers
	some i, cap in k.c.securityContext.capabilities.add
	name := capability(cap)
	name in baseline_capabilities
	name != "NET_BIND_SERVICE"
	msg := sprintf("%s: container \"%s\" adds capability %s", [k.pod.name, k.c.name, cap])
}

drops_all(c) if {
	some cap in c.securityContext.capabilities.drop
	capability(cap) == "ALL"
}

# METADATA
# title: Container without resource limits
# description: Without CPU and memory limits one container can starve the node.
# custom:
#   severity: high
deny_no_limits contains {"msg": msg, "_path": k.at} if {
	some k in containers
	some resource in ["cpu", "memory"]
	not k.c.resources.limits[resource]
	msg := sprintf("%s: container \"%s\" has no %s limit", [k.pod.name, k.c.name, resource])
}

# METADATA
# title: Image without a pinned tag
# description: "`latest` (or no tag) moves under you: the same manifest deploys different code."
# custom:
#   severity: medium
warn_latest contains {"msg": msg, "_path": array.concat(k.at, ["image"])} if {
	some k in containers
	not contains(k.c.image, "@sha256:")
	unpinned(k.c.image)
	msg := sprintf("%s: container \"%s\" uses image \"%s\" without a fixed tag", [k.pod.name, k.c.name, k.c.image])
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
