# METADATA
# title: Terraform checks
# description: >-
#   Over Terraform source (`.tf`, `.tofu` and `.tf.json` files, one by one
#   or combined) and over plans (`terraform show -json <planfile>`). A value
#   the source computes (`"${var.acl}"`) is not known before the plan and is
#   not judged. Each result names the node it is about (`_path`).
package terraform

import rego.v1

# The documents of the input, each with its path and its module (the
# directory of its file, in a combined input): the input itself, or each
# file's contents in a combined input.
documents contains [[], "", input] if not is_array(input)

documents contains [[i, "contents"], module, f.contents] if {
	is_array(input)
	some i, f in input
	parts := split(f.path, "/")
	module := concat("/", array.slice(parts, 0, count(parts) - 1))
}

# Every resource as {address, type, name, module, values, at, source}: what
# a plan creates or updates, with its planned values…
resources contains {"address": rc.address, "type": rc.type, "name": object.get(rc, "name", ""), "module": object.get(rc, "module_address", module), "values": rc.change.after, "at": array.concat(at, ["resource_changes", i, "change", "after"]), "source": false} if {
	some [at, module, doc] in documents
	some i, rc in doc.resource_changes
	some action in rc.change.actions
	action in {"create", "update"}
}

# …and every `resource` block of the source.
resources contains {"address": sprintf("%s.%s", [type, name]), "type": type, "name": name, "module": module, "values": body, "at": array.concat(at, rel), "source": true} if {
	some [at, module, doc] in documents
	some [rel, type, name, body] in blocks(doc)
}

# HCL gives `resource.<type>.<name>` as a list of bodies; Terraform's JSON
# syntax allows an object or a list at each level.
blocks(doc) := {[array.concat(r, array.concat(t, n)), type, name, body] |
	some [r, types] in levels(["resource"], doc.resource)
	some type, per_type in types
	some [t, names] in levels([type], per_type)
	some name, bodies in names
	some [n, body] in levels([name], bodies)
}

# An object at a level is itself; a list is each of its objects.
levels(at, x) := {[at, x]} if is_object(x)

levels(at, x) := out if {
	is_array(x)
	out := {[array.concat(at, [i]), o] |
		some i, o in x
		is_object(o)
	}
}

# Booleans as Terraform converts them: `"false"` is false.
is_false(v) if v == false

is_false(v) if v == "false"

# Not set, or false.
not_true(values, key) if not key in object.keys(values)

not_true(values, key) if values[key] == null

not_true(values, key) if is_false(values[key])

public_acls := {"public-read", "public-read-write", "authenticated-read"}

# METADATA
# title: Public S3 bucket
# description: A bucket readable by anyone leaks its objects.
# custom:
#   severity: critical
#   security-severity: 8.5
deny_public_bucket contains {"msg": msg, "_path": array.concat(r.at, ["acl"])} if {
	some r in resources
	r.type in {"aws_s3_bucket", "aws_s3_bucket_acl"}
	r.values.acl in public_acls
	msg := sprintf("%s: ACL \"%s\" makes the bucket public", [r.address, r.values.acl])
}

# A plan gives every setting (false when left out); the source leaves out
# what defaults to false.
deny_public_bucket contains {"msg": msg, "_path": array.concat(r.at, [setting])} if {
	some r in resources
	r.type == "aws_s3_bucket_public_access_block"
	some setting in ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]
	not_true(r.values, setting)
	msg := sprintf("%s: %s is false", [r.address, setting])
}

# METADATA
# title: Storage without encryption at rest
# custom:
#   severity: high
deny_unencrypted contains {"msg": msg, "_path": r.at} if {
	some r in resources
	r.type == "aws_ebs_volume"
	not_true(r.values, "encrypted")
	msg := sprintf("%s: EBS volume is not encrypted", [r.address])
}

deny_unencrypted contains {"msg": msg, "_path": r.at} if {
	some r in resources
	r.type in {"aws_db_instance", "aws_rds_cluster"}
	not_true(r.values, "storage_encrypted")
	msg := sprintf("%s: database storage is not encrypted", [r.address])
}

deny_unencrypted contains {"msg": msg, "_path": r.at} if {
	some r in resources
	r.type == "aws_s3_bucket"
	not bucket_encrypted(r)
	msg := sprintf("%s: bucket has no server-side encryption configuration", [r.address])
}

# Encryption set inline (provider v3) or by a separate resource (v4+) of
# the same module: named by the bucket's name in a plan (or, where the
# plan does not know it yet, by the reference in its configuration), by a
# reference in the source.
bucket_encrypted(r) if count(r.values.server_side_encryption_configuration) > 0

bucket_encrypted(r) if [r.module, r.values.bucket] in encrypted_names

bucket_encrypted(r) if [r.module, r.name] in encrypted_refs

encryption_configs contains other if {
	some other in resources
	other.type == "aws_s3_bucket_server_side_encryption_configuration"
	# `count = 0` creates none.
	not other.values.count == 0
}

# Bucket names (plans)…
encrypted_names contains [other.module, other.values.bucket] if {
	some other in encryption_configs
	is_string(other.values.bucket)
	not startswith(other.values.bucket, "${")
}

# …the resources the source refers to: `aws_s3_bucket.logs.id`,
# `aws_s3_bucket.this[0].bucket`, or either branch of a conditional…
encrypted_refs contains [other.module, name] if {
	some other in encryption_configs
	is_string(other.values.bucket)
	startswith(other.values.bucket, "${")
	some name in bucket_refs(other.values.bucket)
}

# …and those a plan's configuration refers to when the name is not known
# before apply (`after_unknown`): the configuration of the same module,
# type and name (a resource with `count` is `name[0]` in the plan, `name`
# in the configuration; a module with `count` is `module.m[0]`).
encrypted_refs contains [other.module, name] if {
	some other in encryption_configs
	not other.source
	not is_string(other.values.bucket)
	some [_, _, doc] in documents
	some conf in configured(doc, regex.replace(other.module, `\[[^\]]*\]`, ""))
	conf.type == other.type
	conf.name == other.name
	some ref in conf.expressions.bucket.references
	some name in bucket_refs(sprintf("${%s}", [ref]))
}

# The resources of a module in a plan's configuration: `module.a.module.b`
# is `root_module.module_calls.a.module.module_calls.b.module.resources`.
configured(doc, module) := object.get(doc.configuration, array.concat(["root_module"], array.concat(module_steps(module), ["resources"])), [])

module_steps("") := []

module_steps(module) := steps if {
	module != ""
	parts := split(module, ".")
	steps := [step |
		some i, part in parts
		i % 2 == 1
		some step in ["module_calls", part, "module"]
	]
}

bucket_refs(ref) := {m[1] |
	some m in regex.find_all_string_submatch_n(`(?:^|[^a-z0-9_.])aws_s3_bucket\.([a-zA-Z0-9_-]+)(?:\[[^\]]*\])?(?:\.(?:id|bucket))?(?:[^a-zA-Z0-9_.\[]|$)`, ref, -1)
}
