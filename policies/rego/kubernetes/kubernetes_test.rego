package kubernetes_test

import rego.v1

import data.kubernetes

deployment(container) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web"},
	"spec": {"template": {"spec": {"containers": [container]}}},
}

good := {
	"name": "app",
	"image": "ghcr.io/acme/app:1.4.2",
	"resources": {"limits": {"cpu": "500m", "memory": "256Mi"}},
}

test_good_deployment_passes if {
	count(kubernetes.deny_privileged) == 0 with input as deployment(good)
	count(kubernetes.deny_no_limits) == 0 with input as deployment(good)
	count(kubernetes.warn_latest) == 0 with input as deployment(good)
}

test_privileged_is_denied if {
	c := object.union(good, {"securityContext": {"privileged": true}})
	kubernetes.deny_privileged == {`Deployment/web: container "app" runs privileged`} with input as deployment(c)
}

test_privileged_in_a_cronjob_is_denied if {
	c := object.union(good, {"securityContext": {"privileged": true}})
	cron := {
		"kind": "CronJob",
		"metadata": {"name": "nightly"},
		"spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [c]}}}}},
	}
	count(kubernetes.deny_privileged) == 1 with input as cron
}

test_missing_limits_are_denied_per_resource if {
	c := object.remove(good, ["resources"])
	kubernetes.deny_no_limits == {
		`Deployment/web: container "app" has no cpu limit`,
		`Deployment/web: container "app" has no memory limit`,
	} with input as deployment(c)
}

test_latest_and_untagged_images_warn if {
	latest := object.union(good, {"image": "nginx:latest"})
	count(kubernetes.warn_latest) == 1 with input as deployment(latest)
	untagged := object.union(good, {"image": "registry:5000/team/nginx"})
	count(kubernetes.warn_latest) == 1 with input as deployment(untagged)
	digest := object.union(good, {"image": "nginx@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"})
	count(kubernetes.warn_latest) == 0 with input as deployment(digest)
}

test_label_excepts_privileged if {
	d := object.union(deployment(good), {"metadata": {"labels": {"portcullis.dev/allow-privileged": "true"}}})
	kubernetes.exception == {["privileged"]} with input as d
}

test_other_kinds_are_ignored if {
	count(kubernetes.deny_no_limits) == 0 with input as {"kind": "Service", "metadata": {"name": "web"}, "spec": {}}
}
