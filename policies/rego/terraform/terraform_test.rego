package terraform_test

import rego.v1

import data.terraform

plan(resources) := {"format_version": "1.2", "resource_changes": resources}

change(address, type, after) := {
	"address": address,
	"type": type,
	"change": {"actions": ["create"], "after": after},
}

msgs(results) := {r.msg | some r in results}

paths(results) := {r._path | some r in results}

encrypted_bucket := change("aws_s3_bucket.logs", "aws_s3_bucket", {"bucket": "logs", "server_side_encryption_configuration": [{"rule": []}]})

test_private_encrypted_bucket_passes if {
	count(terraform.deny_public_bucket) == 0 with input as plan([encrypted_bucket])
	count(terraform.deny_unencrypted) == 0 with input as plan([encrypted_bucket])
}

test_public_acl_is_denied if {
	b := change("aws_s3_bucket_acl.logs", "aws_s3_bucket_acl", {"bucket": "logs", "acl": "public-read"})
	results := terraform.deny_public_bucket with input as plan([encrypted_bucket, b])
	msgs(results) == {`aws_s3_bucket_acl.logs: ACL "public-read" makes the bucket public`}
	paths(results) == {["resource_changes", 1, "change", "after", "acl"]}
}

test_disabled_public_access_block_is_denied if {
	pab := change("aws_s3_bucket_public_access_block.logs", "aws_s3_bucket_public_access_block", {
		"block_public_acls": true, "block_public_policy": false,
		"ignore_public_acls": true, "restrict_public_buckets": true,
	})
	msgs(terraform.deny_public_bucket) == {"aws_s3_bucket_public_access_block.logs: block_public_policy is false"} with input as plan([pab])
}

test_encryption_by_separate_resource_counts if {
	b := change("aws_s3_bucket.data", "aws_s3_bucket", {"bucket": "data"})
	sse := change("aws_s3_bucket_server_side_encryption_configuration.data", "aws_s3_bucket_server_side_encryption_configuration", {"bucket": "data"})
	count(terraform.deny_unencrypted) == 0 with input as plan([b, sse])
	count(terraform.deny_unencrypted) == 1 with input as plan([b])
}

test_unencrypted_volume_and_database_are_denied if {
	vol := change("aws_ebs_volume.scratch", "aws_ebs_volume", {"size": 10})
	db := change("aws_db_instance.main", "aws_db_instance", {"storage_encrypted": false})
	msgs(terraform.deny_unencrypted) == {
		"aws_ebs_volume.scratch: EBS volume is not encrypted",
		"aws_db_instance.main: database storage is not encrypted",
	} with input as plan([vol, db])
}

test_deletions_are_not_checked if {
	gone := {"address": "aws_ebs_volume.old", "type": "aws_ebs_volume", "change": {"actions": ["delete"], "after": null}}
	count(terraform.deny_unencrypted) == 0 with input as plan([gone])
}

# Terraform source, as the rego plugin parses `.tf` files.
source := {"resource": {
	"aws_s3_bucket": {
		"logs": [{"bucket": "acme-logs", "acl": "public-read"}],
		"data": [{"bucket": "${var.name}"}],
		"inline": [{"bucket": "x", "server_side_encryption_configuration": [{"rule": [{}]}]}],
		"this": [{"count": "${var.create ? 1 : 0}", "bucket": "${var.bucket}"}],
		"other": [{"bucket": "aws_s3_bucket.other.id"}],
		"computed": [{"bucket": "y", "acl": "${var.acl}"}],
	},
	"aws_s3_bucket_server_side_encryption_configuration": {
		"data": [{"bucket": "${aws_s3_bucket.data.id}"}],
		"this": [{"bucket": "${var.directory ? aws_s3_directory_bucket.this[0].bucket : aws_s3_bucket.this[0].bucket}"}],
		"other": [{"bucket": "${aws_s3_bucket.others.id}"}],
	},
	"aws_ebs_volume": {"scratch": [{"size": 10}], "safe": [{"size": 10, "encrypted": true}]},
}}

test_source_is_checked_like_a_plan if {
	public := terraform.deny_public_bucket with input as source
	msgs(public) == {`aws_s3_bucket.logs: ACL "public-read" makes the bucket public`}
	paths(public) == {["resource", "aws_s3_bucket", "logs", 0, "acl"]}
	unencrypted := terraform.deny_unencrypted with input as source
	msgs(unencrypted) == {
		"aws_s3_bucket.logs: bucket has no server-side encryption configuration",
		"aws_s3_bucket.computed: bucket has no server-side encryption configuration",
		"aws_s3_bucket.other: bucket has no server-side encryption configuration",
		"aws_ebs_volume.scratch: EBS volume is not encrypted",
	}
	["resource", "aws_ebs_volume", "scratch", 0] in paths(unencrypted)
}

test_a_combined_input_sees_encryption_in_another_file if {
	files := [
		{"path": "s3.tf", "contents": {"resource": {"aws_s3_bucket": {"data": [{"bucket": "d"}]}}}},
		{"path": "sse.tf", "contents": {"resource": {"aws_s3_bucket_server_side_encryption_configuration": {"data": [{"bucket": "${aws_s3_bucket.data.bucket}"}]}}}},
	]
	count(terraform.deny_unencrypted) == 0 with input as files
	results := terraform.deny_unencrypted with input as [files[0]]
	paths(results) == {[0, "contents", "resource", "aws_s3_bucket", "data", 0]}
}

test_a_bucket_of_another_module_does_not_cover_for_this_one if {
	files := [
		{"path": "modules/a/main.tf", "contents": {"resource": {
			"aws_s3_bucket": {"this": [{"bucket": "a"}]},
			"aws_s3_bucket_server_side_encryption_configuration": {"this": [{"bucket": "${aws_s3_bucket.this.id}"}]},
		}}},
		{"path": "modules/b/main.tf", "contents": {"resource": {"aws_s3_bucket": {"this": [{"bucket": "b"}]}}}},
		{"path": "modules/c/main.tf", "contents": {"resource": {
			"aws_s3_bucket": {"this": [{"bucket": "c"}]},
			"aws_s3_bucket_server_side_encryption_configuration": {"this": [{"count": 0, "bucket": "${aws_s3_bucket.this.id}"}]},
		}}},
	]
	paths(terraform.deny_unencrypted) == {
		[1, "contents", "resource", "aws_s3_bucket", "this", 0],
		[2, "contents", "resource", "aws_s3_bucket", "this", 0],
	} with input as files
}

test_values_terraform_converts_and_defaults_are_judged if {
	src := {"resource": {
		"aws_ebs_volume": {"v": [{"size": 1, "encrypted": "false"}]},
		"aws_db_instance": {"d": [{"storage_encrypted": "false"}]},
		"aws_s3_bucket_public_access_block": {
			"partial": [{"bucket": "${aws_s3_bucket.x.id}", "block_public_acls": "false", "block_public_policy": true, "ignore_public_acls": true}],
			"computed": [{"bucket": "${aws_s3_bucket.x.id}", "block_public_acls": "${var.b}", "block_public_policy": "${var.b}", "ignore_public_acls": "${var.b}", "restrict_public_buckets": "${var.b}"}],
		},
	}}
	msgs(terraform.deny_unencrypted) == {
		"aws_ebs_volume.v: EBS volume is not encrypted",
		"aws_db_instance.d: database storage is not encrypted",
	} with input as src
	paths(terraform.deny_public_bucket) == {
		["resource", "aws_s3_bucket_public_access_block", "partial", 0, "block_public_acls"],
		["resource", "aws_s3_bucket_public_access_block", "partial", 0, "restrict_public_buckets"],
	} with input as src
}

test_terraform_json_syntax_is_read_too if {
	src := {"resource": {"aws_s3_bucket": {"logs": {"bucket": "l", "acl": "public-read"}}}}
	paths(terraform.deny_public_bucket) == {["resource", "aws_s3_bucket", "logs", "acl"]} with input as src
	# A list at the type level, and at the resource level.
	lists := {"resource": [{"aws_s3_bucket": [{"logs": {"bucket": "l", "acl": "public-read"}}]}]}
	paths(terraform.deny_public_bucket) == {["resource", 0, "aws_s3_bucket", 0, "logs", "acl"]} with input as lists
}

test_a_plan_names_an_unknown_bucket_in_its_configuration if {
	b := change("aws_s3_bucket.data", "aws_s3_bucket", {"bucket": "acme-data"})
	sse := {
		"address": "aws_s3_bucket_server_side_encryption_configuration.data",
		"type": "aws_s3_bucket_server_side_encryption_configuration",
		"name": "data",
		"change": {"actions": ["create"], "after": {"rule": [{}]}, "after_unknown": {"bucket": true}},
	}
	configuration := {"root_module": {"resources": [{
		"address": "aws_s3_bucket_server_side_encryption_configuration.data",
		"type": "aws_s3_bucket_server_side_encryption_configuration",
		"name": "data",
		"expressions": {"bucket": {"references": ["aws_s3_bucket.data.id", "aws_s3_bucket.data"]}},
	}]}}
	with_name := object.union(b, {"name": "data"})
	count(terraform.deny_unencrypted) == 0 with input as object.union(plan([with_name, sse]), {"configuration": configuration})
	count(terraform.deny_unencrypted) == 1 with input as plan([with_name, sse])
}

test_a_module_resource_with_count_is_found_in_the_configuration if {
	b := object.union(change("module.s3.aws_s3_bucket.this[0]", "aws_s3_bucket", {"bucket": "acme"}), {"name": "this", "module_address": "module.s3"})
	sse := {
		"address": "module.s3.aws_s3_bucket_server_side_encryption_configuration.this[0]",
		"module_address": "module.s3",
		"type": "aws_s3_bucket_server_side_encryption_configuration",
		"name": "this",
		"change": {"actions": ["create"], "after": {"rule": [{}]}, "after_unknown": {"bucket": true}},
	}
	configuration := {"root_module": {"module_calls": {"s3": {"module": {"resources": [{
		"address": "aws_s3_bucket_server_side_encryption_configuration.this",
		"type": "aws_s3_bucket_server_side_encryption_configuration",
		"name": "this",
		"expressions": {"bucket": {"references": ["aws_s3_bucket.this[0].id", "aws_s3_bucket.this[0]", "aws_s3_bucket.this"]}},
	}]}}}}}
	count(terraform.deny_unencrypted) == 0 with input as object.union(plan([b, sse]), {"configuration": configuration})
	# A counted module: `module.s3[0]` in the plan.
	counted_b := object.union(b, {"module_address": "module.s3[0]"})
	counted_sse := object.union(sse, {"module_address": "module.s3[0]"})
	count(terraform.deny_unencrypted) == 0 with input as object.union(plan([counted_b, counted_sse]), {"configuration": configuration})
	# The same names in another module do not count.
	elsewhere := {"root_module": {"resources": configuration.root_module.module_calls.s3.module.resources}}
	count(terraform.deny_unencrypted) == 1 with input as object.union(plan([b, sse]), {"configuration": elsewhere})
}
