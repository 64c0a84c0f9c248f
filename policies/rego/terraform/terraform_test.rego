package terraform_test

import rego.v1

import data.terraform

plan(resources) := {"format_version": "1.2", "resource_changes": resources}

change(address, type, after) := {
	"address": address,
	"type": type,
	"change": {"actions": ["create"], "after": after},
}

encrypted_bucket := change("aws_s3_bucket.logs", "aws_s3_bucket", {"bucket": "logs", "server_side_encryption_configuration": [{"rule": []}]})

test_private_encrypted_bucket_passes if {
	count(terraform.deny_public_bucket) == 0 with input as plan([encrypted_bucket])
	count(terraform.deny_unencrypted) == 0 with input as plan([encrypted_bucket])
}

test_public_acl_is_denied if {
	b := change("aws_s3_bucket_acl.logs", "aws_s3_bucket_acl", {"bucket": "logs", "acl": "public-read"})
	terraform.deny_public_bucket == {`aws_s3_bucket_acl.logs: ACL "public-read" makes the bucket public`} with input as plan([encrypted_bucket, b])
}

test_disabled_public_access_block_is_denied if {
	pab := change("aws_s3_bucket_public_access_block.logs", "aws_s3_bucket_public_access_block", {
		"block_public_acls": true, "block_public_policy": false,
		"ignore_public_acls": true, "restrict_public_buckets": true,
	})
	terraform.deny_public_bucket == {"aws_s3_bucket_public_access_block.logs: block_public_policy is false"} with input as plan([pab])
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
	terraform.deny_unencrypted == {
		"aws_ebs_volume.scratch: EBS volume is not encrypted",
		"aws_db_instance.main: database storage is not encrypted",
	} with input as plan([vol, db])
}

test_deletions_are_not_checked if {
	gone := {"address": "aws_ebs_volume.old", "type": "aws_ebs_volume", "change": {"actions": ["delete"], "after": null}}
	count(terraform.deny_unencrypted) == 0 with input as plan([gone])
}
