# METADATA
# title: Terraform plan checks
# description: Over `terraform show -json <planfile>` output.
package terraform

import rego.v1

# Resources the plan creates or updates, with their planned values.
changes contains rc if {
	some rc in input.resource_changes
	some action in rc.change.actions
	action in {"create", "update"}
}

public_acls := {"public-read", "public-read-write", "authenticated-read"}

# METADATA
# title: Public S3 bucket
# description: A bucket readable by anyone leaks its objects.
# custom:
#   severity: critical
#   security-severity: 8.5
deny_public_bucket contains msg if {
	some rc in changes
	rc.type in {"aws_s3_bucket", "aws_s3_bucket_acl"}
	rc.change.after.acl in public_acls
	msg := sprintf("%s: ACL \"%s\" makes the bucket public", [rc.address, rc.change.after.acl])
}

deny_public_bucket contains msg if {
	some rc in changes
	rc.type == "aws_s3_bucket_public_access_block"
	some setting in ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"]
	rc.change.after[setting] == false
	msg := sprintf("%s: %s is false", [rc.address, setting])
}

# METADATA
# title: Storage without encryption at rest
# custom:
#   severity: high
deny_unencrypted contains msg if {
	some rc in changes
	rc.type == "aws_ebs_volume"
	not rc.change.after.encrypted
	msg := sprintf("%s: EBS volume is not encrypted", [rc.address])
}

deny_unencrypted contains msg if {
	some rc in changes
	rc.type in {"aws_db_instance", "aws_rds_cluster"}
	not rc.change.after.storage_encrypted
	msg := sprintf("%s: database storage is not encrypted", [rc.address])
}

deny_unencrypted contains msg if {
	some rc in changes
	rc.type == "aws_s3_bucket"
	not bucket_encrypted(rc)
	msg := sprintf("%s: bucket has no server-side encryption configuration", [rc.address])
}

# Encryption set inline (provider v3) or by a separate resource (v4+).
bucket_encrypted(rc) if count(rc.change.after.server_side_encryption_configuration) > 0

bucket_encrypted(rc) if {
	some other in input.resource_changes
	other.type == "aws_s3_bucket_server_side_encryption_configuration"
	other.change.after.bucket == rc.change.after.bucket
}
