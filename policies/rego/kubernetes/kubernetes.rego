# METADATA
# title: Kubernetes workload hardening
# description: >-
#   Pod specs in Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets,
#   ReplicationControllers, Jobs and CronJobs, held to the Pod Security
#   Standards: the baseline controls deny, the restricted ones warn. Plus
#   resource limits and image tags. Each result names the node it is about
#   (`_path`).
# related_resources:
#   - https://kubernetes.io/docs/concepts/security/pod-security-standards/
package kubernetes

import rego.v1

workload_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job"}

# Where the pod spec of each kind is.
spec_path := ["spec"] if input.kind == "Pod"

spec_path := ["spec", "template", "spec"] if input.kind in workload_kinds

spec_path := ["spec", "jobTemplate", "spec", "template", "spec"] if input.kind == "CronJob"

pod_spec := object.get(input, spec_path, {})

# Every container with its path: containers, init and ephemeral ones.
containers contains [array.concat(spec_path, [list, i]), c] if {
	some list in ["containers", "initContainers", "ephemeralContainers"]
	some i, c in pod_spec[list]
}

name := sprintf("%s/%s", [input.kind, input.metadata.name])

at(path) := array.concat(spec_path, path)

# METADATA
# title: Privileged container
# description: A privileged container has every capability of the host; escape is trivial (baseline).
# custom:
#   severity: critical
#   security-severity: 9.0
deny_privileged contains {"msg": msg, "_path": array.concat(c_at, ["securityContext", "privileged"])} if {
	some [c_at, c] in containers
	c.securityContext.privileged == true
	msg := sprintf("%s: container \"%s\" runs privileged", [name, c.name])
}

# METADATA
# title: Host namespaces shared
# description: hostNetwork, hostPID and hostIPC let the pod see and reach the node's processes, network and IPC (baseline).
# custom:
#   severity: high
#   security-severity: 8.0
deny_host_namespaces contains {"msg": msg, "_path": at([ns])} if {
	some ns in ["hostNetwork", "hostPID", "hostIPC"]
	pod_spec[ns] == true
	msg := sprintf("%s: %s is true", [name, ns])
}

# METADATA
# title: HostPath volume
# description: A hostPath volume mounts the node's file system into the pod (baseline).
# custom:
#   severity: high
#   security-severity: 8.0
deny_host_path contains {"msg": msg, "_path": at(["volumes", i, "hostPath"])} if {
	some i, v in pod_spec.volumes
	v.hostPath
	msg := sprintf("%s: volume \"%s\" mounts the node's %s", [name, v.name, v.hostPath.path])
}

# METADATA
# title: Host port
# description: A hostPort binds the node's own port, bypassing network policy (baseline).
# custom:
#   severity: medium
deny_host_ports contains {"msg": msg, "_path": array.concat(c_at, ["ports", i, "hostPort"])} if {
	some [c_at, c] in containers
	some i, p in c.ports
	p.hostPort > 0
	msg := sprintf("%s: container \"%s\" binds host port %d", [name, c.name, p.hostPort])
}

# Capabilities the baseline allows a container to add.
baseline_capabilities := {
	"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
	"NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}

# METADATA
# title: Capability beyond the baseline
# description: >-
#   Adding a capability outside the container runtime's default set (such
#   as SYS_ADMIN or NET_ADMIN) gives the container root powers over the
#   node (baseline).
# custom:
#   severity: high
#   security-severity: 8.0
deny_capabilities contains {"msg": msg, "_path": array.concat(c_at, ["securityContext", "capabilities", "add", i])} if {
	some [c_at, c] in containers
	some i, cap in c.securityContext.capabilities.add
	not upper(trim_prefix(cap, "CAP_")) in baseline_capabilities
	msg := sprintf("%s: container \"%s\" adds capability %s", [name, c.name, cap])
}

# METADATA
# title: Unmasked /proc
# description: procMount Unmasked exposes the node's /proc paths the runtime hides (baseline).
# custom:
#   severity: high
deny_proc_mount contains {"msg": msg, "_path": array.concat(c_at, ["securityContext", "procMount"])} if {
	some [c_at, c] in containers
	c.securityContext.procMount
	c.securityContext.procMount != "Default"
	msg := sprintf("%s: container \"%s\" sets procMount %s", [name, c.name, c.securityContext.procMount])
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
deny_unsafe_sysctls contains {"msg": msg, "_path": at(["securityContext", "sysctls", i, "name"])} if {
	some i, s in pod_spec.securityContext.sysctls
	not s.name in safe_sysctls
	msg := sprintf("%s: sets sysctl %s", [name, s.name])
}

# Security contexts with their paths: the pod's and each container's.
contexts contains [at(["securityContext"]), "the pod", pod_spec.securityContext]

contexts contains [array.concat(c_at, ["securityContext"]), sprintf("container \"%s\"", [c.name]), c.securityContext] if {
	some [c_at, c] in containers
}

# METADATA
# title: Seccomp or AppArmor unconfined
# description: An Unconfined seccomp or AppArmor profile lifts the runtime's system-call and file confinement (baseline).
# custom:
#   severity: high
deny_unconfined contains {"msg": msg, "_path": array.concat(ctx_at, [kind, "type"])} if {
	some [ctx_at, who, ctx] in contexts
	some kind in ["seccompProfile", "appArmorProfile"]
	ctx[kind].type == "Unconfined"
	msg := sprintf("%s: %s runs with %s Unconfined", [name, who, kind])
}

deny_unconfined contains {"msg": msg, "_path": array.concat(meta_at, ["metadata", "annotations", key])} if {
	meta_at := array.slice(spec_path, 0, count(spec_path) - 1)
	some key, value in object.get(input, array.concat(meta_at, ["metadata", "annotations"]), {})
	startswith(key, "container.apparmor.security.beta.kubernetes.io/")
	value == "unconfined"
	msg := sprintf("%s: %s is unconfined", [name, key])
}

selinux_types := {"container_t", "container_init_t", "container_kvm_t", "container_engine_t"}

# METADATA
# title: Custom SELinux options
# description: Only the container SELinux types may be set, and never a user or role (baseline).
# custom:
#   severity: medium
deny_selinux contains {"msg": msg, "_path": array.concat(ctx_at, ["seLinuxOptions", field])} if {
	some [ctx_at, who, ctx] in contexts
	some field, value in ctx.seLinuxOptions
	not selinux_allowed(field, value)
	msg := sprintf("%s: %s sets SELinux %s %s", [name, who, field, value])
}

selinux_allowed("level", _) := true

selinux_allowed("type", t) if t in selinux_types

# METADATA
# title: Windows HostProcess container
# description: A HostProcess container runs as a process on the Windows node itself (baseline).
# custom:
#   severity: critical
deny_host_process contains {"msg": msg, "_path": array.concat(ctx_at, ["windowsOptions", "hostProcess"])} if {
	some [ctx_at, who, ctx] in contexts
	ctx.windowsOptions.hostProcess == true
	msg := sprintf("%s: %s is a Windows HostProcess", [name, who])
}

# Volume types the restricted profile allows.
restricted_volumes := {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"}

# METADATA
# title: Volume type outside the restricted set
# description: The restricted profile allows only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected and secret volumes.
# custom:
#   severity: medium
warn_volume_type contains {"msg": msg, "_path": at(["volumes", i, kind])} if {
	some i, v in pod_spec.volumes
	some kind, _ in v
	kind != "name"
	kind != "hostPath"
	not kind in restricted_volumes
	msg := sprintf("%s: volume \"%s\" is of type %s", [name, v.name, kind])
}

# METADATA
# title: Privilege escalation allowed
# description: Without allowPrivilegeEscalation false, a setuid binary can gain more privileges than the process started with (restricted).
# custom:
#   severity: medium
warn_privilege_escalation contains {"msg": msg, "_path": c_at} if {
	some [c_at, c] in containers
	not c.securityContext.allowPrivilegeEscalation == false
	msg := sprintf("%s: container \"%s\" does not set allowPrivilegeEscalation: false", [name, c.name])
}

# METADATA
# title: May run as root
# description: The restricted profile needs runAsNonRoot true (on the pod or each container) and no runAsUser 0.
# custom:
#   severity: medium
warn_run_as_root contains {"msg": msg, "_path": c_at} if {
	some [c_at, c] in containers
	not c.securityContext.runAsNonRoot == true
	not pod_non_root(c)
	msg := sprintf("%s: container \"%s\" may run as root (runAsNonRoot is not true)", [name, c.name])
}

warn_run_as_root contains {"msg": msg, "_path": array.concat(ctx_at, ["runAsUser"])} if {
	some [ctx_at, who, ctx] in contexts
	ctx.runAsUser == 0
	msg := sprintf("%s: %s sets runAsUser 0", [name, who])
}

pod_non_root(c) if {
	pod_spec.securityContext.runAsNonRoot == true
	not c.securityContext.runAsNonRoot == false
}

# METADATA
# title: No seccomp profile
# description: The restricted profile needs seccompProfile RuntimeDefault or Localhost, on the pod or on each container.
# custom:
#   severity: low
warn_seccomp contains {"msg": msg, "_path": c_at} if {
	some [c_at, c] in containers
	not confined(c.securityContext)
	not confined(pod_spec.securityContext)
	msg := sprintf("%s: container \"%s\" has no RuntimeDefault or Localhost seccomp profile", [name, c.name])
}

confined(ctx) if ctx.seccompProfile.type in {"RuntimeDefault", "Localhost"}

# METADATA
# title: Capabilities not dropped
# description: The restricted profile needs every capability dropped (drop ALL) and at most NET_BIND_SERVICE added.
# custom:
#   severity: low
warn_capabilities contains {"msg": msg, "_path": c_at} if {
	some [c_at, c] in containers
	not "ALL" in c.securityContext.capabilities.drop
	msg := sprintf("%s: container \"%s\" does not drop ALL capabilities", [name, c.name])
}

warn_capabilities contains {"msg": msg, "_path": array.concat(c_at, ["securityContext", "capabilities", "add", i])} if {
	some [c_at, c] in containers
	some i, cap in c.securityContext.capabilities.add
	upper(trim_prefix(cap, "CAP_")) in baseline_capabilities
	upper(trim_prefix(cap, "CAP_")) != "NET_BIND_SERVICE"
	msg := sprintf("%s: container \"%s\" adds capability %s", [name, c.name, cap])
}

# METADATA
# title: Container without resource limits
# description: Without CPU and memory limits one container can starve the node.
# custom:
#   severity: high
deny_no_limits contains {"msg": msg, "_path": c_at} if {
	some [c_at, c] in containers
	some resource in ["cpu", "memory"]
	not c.resources.limits[resource]
	msg := sprintf("%s: container \"%s\" has no %s limit", [name, c.name, resource])
}

# METADATA
# title: Image without a pinned tag
# description: "`latest` (or no tag) moves under you: the same manifest deploys different code."
# custom:
#   severity: medium
warn_latest contains {"msg": msg, "_path": array.concat(c_at, ["image"])} if {
	some [c_at, c] in containers
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
