# METADATA
# title: Terraform checks
# description: >-
#   Over Terraform source (`.tf` files, one by one or combined) and over
#   plans (`terraform show -json <planfile>`). A value the source computes
#   (`"${var.acl}"`) is not known before the plan and is not judged. Each
#   result names the node it is about (`_path`).
package terraform

import rego.v1

# The documents of the input, each with its path: the input itself, or
# each file's contents in a combined input.
documents contains [[], input] if not is_array(input)

documents contains [[i, "contents"], f.contents] if {
	is_array(input)
	some i, f in input
}

# Every resource as {address, type, name, values, at}: what a plan creates
# or updates, with its planned values…
resources contains {"address": rc.address, "type": rc.type, "name": object.get(rc, "name", ""), "values": rc.change.after, "at": array.concat(at, ["resource_changes", i, "change", "after"])} if {
	some [at, doc] in documents
	some i, rc in doc.resource_changes
	some action in rc.change.actions
	action in {"create", "update"}
}

# …and every `resource` block of the source.
resources contains {"address": sprintf("%s.%s", [type, name]), "type": type, "name": name, "values": body, "at": array.concat(at, ["resource", type, name, i])} if {
	some [at, doc] in documents
	some type, named in doc.resource
	some name, bodies in named
	some i, body in bodies
}

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

deny_public_bucket contains {"msg": msg, "_path": array.concat(r.at, [setting])} if {
	some r in resources
	r.type == "aws_s3_bucket_public_access_block"
	some setting in ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]
	r.values[setting] == false
	msg := sprintf("%s: %s is false", [r.address, setting])
}

# METADATA
# title: Storage without encryption at rest
# custom:
#   severity: high
deny_unencrypted contains {"msg": msg, "_path": r.at} if {
	some r in resources
	r.type == "aws_ebs_volume"
	not r.values.encrypted
	msg := sprintf("%s: EBS volume is not encrypted", [r.address])
}

deny_unencrypted contains {"msg": msg, "_path": r.at} if {
	some r in resources
	r.type in {"aws_db_instance", "aws_rds_cluster"}
	not r.values.storage_encrypted
	msg := sprintf("%s: database storage is not encrypted", [r.address])
}

deny_unencrypted contains {"msg": msg, "_path": r.at} if {
	some r in resources
	r.type == "aws_s3_bucket"
	not bucket_encrypted(r)
	msg := sprintf("%s: bucket has no server-side encryption configuration", [r.address])
}

# Encryption set inline (provider v3) or by a separate resource (v4+),
# named by the bucket's name in a plan, by a reference in the source.
bucket_encrypted(r) if count(r.values.server_side_encryption_configuration) > 0

bucket_encrypted(r) if r.values.bucket in encrypted_names

bucket_encrypted(r) if r.name in encrypted_refs

encryption_configs contains other.values.bucket if {
	some other in resources
	other.type == "aws_s3_bucket_server_side_encryption_configuration"
}

# Bucket names (plans)…
encrypted_names contains name if {
	some name in encryption_configs
	not startswith(name, "${")
}

# …and the resources referenced (source): `aws_s3_bucket.logs.id`,
# `aws_s3_bucket.this[0].bucket`, or either branch of a conditional.
encrypted_refs contains match[1] if {
	some ref in encryption_configs
	startswith(ref, "${")
	some match in regex.find_all_string_submatch_n(`(?:^|[^a-z0-9_.])aws_s3_bucket\.([a-zA-Z0-9_-]+)(?:\[[^\]]*\])?\.(?:id|bucket)(?:[^a-zA-Z0-9_]|$)`, ref, -1)
}
