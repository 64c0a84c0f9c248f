package kubernetes_test

import rego.v1

import data.kubernetes

deployment(container) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [container]}}},
}

with_pod(container, pod) := object.union(deployment(container), {"spec": {"template": {"spec": pod}}})

# What the restricted profile asks of a container, and limits and a tag.
good := {
	"name": "app",
	"image": "ghcr.io/acme/app:1.4.2",
	"resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
	"securityContext": {
		"allowPrivilegeEscalation": false,
		"runAsNonRoot": true,
		"seccompProfile": {"type": "RuntimeDefault"},
		"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]},
	},
}

secure(extra) := object.union(good, {"securityContext": object.union(good.securityContext, extra)})

every_rule := [
	"deny_privileged", "deny_host_namespaces", "deny_host_path", "deny_host_ports",
	"deny_capabilities", "deny_proc_mount", "deny_unsafe_sysctls", "deny_unconfined",
	"deny_selinux", "deny_host_process", "warn_volume_type", "warn_privilege_escalation",
	"warn_run_as_root", "warn_seccomp", "warn_capabilities", "deny_no_limits", "warn_latest",
]

found(doc) := {[rule, r._path] |
	some rule in every_rule
	some r in kubernetes[rule] with input as doc
}

msgs(results) := {r.msg | some r in results}

test_a_restricted_deployment_passes_every_rule if {
	pod := {
		"volumes": [{"name": "cfg", "configMap": {"name": "cfg"}}, {"name": "tmp", "emptyDir": {}}],
		"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_syncookies", "value": "1"}], "seLinuxOptions": {"type": "container_t", "level": "s0:c1"}},
	}
	found(with_pod(good, pod)) == set()
}

test_privileged_is_denied_on_its_line if {
	c := secure({"privileged": true})
	kubernetes.deny_privileged == {{
		"msg": `Deployment/web: container "app" runs privileged`,
		"_path": ["spec", "template", "spec", "containers", 0, "securityContext", "privileged"],
	}} with input as deployment(c)
}

test_privileged_in_a_cronjobs_init_container_is_denied if {
	c := secure({"privileged": true})
	cron := {
		"kind": "CronJob",
		"metadata": {"name": "nightly"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [good], "initContainers": [c]}}}}},
	}
	found(cron) == {["deny_privileged", ["spec", "jobTemplate", "spec", "template", "spec", "initContainers", 0, "securityContext", "privileged"]]}
}

test_baseline_pod_controls_are_denied if {
	pod := {
		"hostNetwork": true,
		"hostPID": true,
		"hostIPC": false,
		"volumes": [{"name": "docker", "hostPath": {"path": "/var/run/docker.sock"}}],
		"securityContext": {
			"sysctls": [{"name": "kernel.msgmax", "value": "1"}, {"name": "net.ipv4.ping_group_range", "value": "0 1"}],
			"seccompProfile": {"type": "Unconfined"},
			"seLinuxOptions": {"user": "system_u", "type": "spc_t"},
			"windowsOptions": {"hostProcess": true},
		},
	}
	found(with_pod(good, pod)) == {
		["deny_host_namespaces", ["spec", "template", "spec", "hostNetwork"]],
		["deny_host_namespaces", ["spec", "template", "spec", "hostPID"]],
		["deny_host_path", ["spec", "template", "spec", "volumes", 0, "hostPath"]],
		["deny_unsafe_sysctls", ["spec", "template", "spec", "securityContext", "sysctls", 0, "name"]],
		["deny_unconfined", ["spec", "template", "spec", "securityContext", "seccompProfile", "type"]],
		["deny_selinux", ["spec", "template", "spec", "securityContext", "seLinuxOptions", "user"]],
		["deny_selinux", ["spec", "template", "spec", "securityContext", "seLinuxOptions", "type"]],
		["deny_host_process", ["spec", "template", "spec", "securityContext", "windowsOptions", "hostProcess"]],
	}
	msgs(kubernetes.deny_host_path) == {`Deployment/web: volume "docker" mounts the node's /var/run/docker.sock`} with input as with_pod(good, pod)
}

test_baseline_container_controls_are_denied if {
	c := object.union(secure({
		"capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN", "CAP_NET_ADMIN", "NET_BIND_SERVICE"]},
		"procMount": "Unmasked",
		"appArmorProfile": {"type": "Unconfined"},
	}), {"ports": [{"containerPort": 80}, {"containerPort": 443, "hostPort": 443}]})
	at := ["spec", "template", "spec", "containers", 0]
	found(deployment(c)) == {
		["deny_capabilities", array.concat(at, ["securityContext", "capabilities", "add", 0])],
		["deny_capabilities", array.concat(at, ["securityContext", "capabilities", "add", 1])],
		["deny_proc_mount", array.concat(at, ["securityContext", "procMount"])],
		["deny_unconfined", array.concat(at, ["securityContext", "appArmorProfile", "type"])],
		["deny_host_ports", array.concat(at, ["ports", 1, "hostPort"])],
	}
	msgs(kubernetes.deny_host_ports) == {`Deployment/web: container "app" binds host port 443`} with input as deployment(c)
}

test_the_apparmor_annotation_is_read_from_the_pod_template if {
	d := object.union(deployment(good), {"spec": {"template": {"metadata": {"annotations": {
		"container.apparmor.security.beta.kubernetes.io/app": "unconfined",
		"container.apparmor.security.beta.kubernetes.io/side": "runtime/default",
	}}}}})
	found(d) == {["deny_unconfined", ["spec", "template", "metadata", "annotations", "container.apparmor.security.beta.kubernetes.io/app"]]}
}

test_restricted_controls_warn if {
	c := {"name": "app", "image": "ghcr.io/acme/app:1.4.2", "resources": good.resources, "securityContext": {
		"runAsUser": 0,
		"capabilities": {"add": ["CHOWN"]},
	}}
	pod := {"volumes": [{"name": "nfs", "nfs": {"server": "x", "path": "/"}}]}
	at := ["spec", "template", "spec", "containers", 0]
	found(with_pod(c, pod)) == {
		["warn_volume_type", ["spec", "template", "spec", "volumes", 0, "nfs"]],
		["warn_privilege_escalation", at],
		["warn_run_as_root", at],
		["warn_run_as_root", array.concat(at, ["securityContext", "runAsUser"])],
		["warn_seccomp", at],
		["warn_capabilities", at],
		["warn_capabilities", array.concat(at, ["securityContext", "capabilities", "add", 0])],
	}
}

test_the_pods_context_covers_its_containers_unless_they_override_it if {
	plain := object.union(good, {"securityContext": {"runAsNonRoot": null, "seccompProfile": null}})
	pod := {"securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "Localhost"}}}
	found(with_pod(plain, pod)) == set()
	opt_out := secure({"runAsNonRoot": false})
	found(with_pod(opt_out, pod)) == {["warn_run_as_root", ["spec", "template", "spec", "containers", 0]]}
}

test_missing_limits_are_denied_per_resource if {
	c := object.remove(good, ["resources"])
	msgs(kubernetes.deny_no_limits) == {
		`Deployment/web: container "app" has no cpu limit`,
		`Deployment/web: container "app" has no memory limit`,
	} with input as deployment(c)
}

test_latest_and_untagged_images_warn if {
	latest := object.union(good, {"image": "nginx:latest"})
	found(deployment(latest)) == {["warn_latest", ["spec", "template", "spec", "containers", 0, "image"]]}
	untagged := object.union(good, {"image": "registry:5000/team/nginx"})
	count(kubernetes.warn_latest) == 1 with input as deployment(untagged)
	digest := object.union(good, {"image": "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"})
	count(kubernetes.warn_latest) == 0 with input as deployment(digest)
}

test_a_bare_pod_is_checked_at_its_own_spec if {
	pod := {"kind": "Pod", "metadata": {"name": "debug"}, "spec": {"hostIPC": true, "containers": [good]}}
	found(pod) == {["deny_host_namespaces", ["spec", "hostIPC"]]}
}

test_label_excepts_privileged if {
	d := object.union(deployment(good), {"metadata": {"labels": {"portcullis.dev/allow-privileged": "true"}}})
	kubernetes.exception == {["privileged"]} with input as d
}

test_other_kinds_are_ignored if {
	found({"kind": "Service", "metadata": {"name": "web"}, "spec": {"hostNetwork": true}}) == set()
}

test_booleans_as_the_api_server_reads_them if {
	c := secure({"privileged": "yes", "allowPrivilegeEscalation": "no"})
	pod := {"hostPID": "on", "hostIPC": "off"}
	found(with_pod(c, pod)) == {
		["deny_privileged", ["spec", "template", "spec", "containers", 0, "securityContext", "privileged"]],
		["deny_host_namespaces", ["spec", "template", "spec", "hostPID"]],
	}
}

test_capabilities_in_any_case_and_with_their_prefix if {
	c := secure({"capabilities": {"drop": ["all"], "add": ["cap_sys_admin", "net_bind_service"]}})
	found(deployment(c)) == {["deny_capabilities", ["spec", "template", "spec", "containers", 0, "securityContext", "capabilities", "add", 0]]}
}

test_a_generated_name_or_none_still_names_the_object if {
	pod := {"kind": "Pod", "metadata": {"generateName": "debug-"}, "spec": {"hostPID": true, "containers": [good]}}
	msgs(kubernetes.deny_host_namespaces) == {"Pod/debug-: hostPID is true"} with input as pod
	bare := {"kind": "Pod", "spec": {"hostPID": true, "containers": [good]}}
	msgs(kubernetes.deny_host_namespaces) == {"Pod/(unnamed): hostPID is true"} with input as bare
}

test_the_items_of_a_list_are_checked_where_they_are if {
	c := secure({"privileged": true})
	list := {"apiVersion": "v1", "kind": "List", "items": [
		{"kind": "Service", "metadata": {"name": "web"}},
		deployment(c),
	]}
	found(list) == {["deny_privileged", ["items", 1, "spec", "template", "spec", "containers", 0, "securityContext", "privileged"]]}
}

test_patches_placeholders_and_odd_kinds_are_not_errors if {
	found([{"op": "replace", "path": "/spec/replicas", "value": 3}]) == set()
	found({"kind": 3, "spec": {}}) == set()
	found({"kind": null}) == set()
	c := object.union(good, {"ports": [{"containerPort": 80, "hostPort": "${PORT}"}], "securityContext": object.union(good.securityContext, {"runAsUser": "${UID}"})})
	found(deployment(c)) == set()
	high := object.union(good, {"ports": [{"hostPort": "8080"}]})
	found(deployment(high)) == {["deny_host_ports", ["spec", "template", "spec", "containers", 0, "ports", 0, "hostPort"]]}
}
