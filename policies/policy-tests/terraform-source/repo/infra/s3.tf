# The resources of ../terraform/repo/infra/plan.json, as source.
resource "aws_s3_bucket" "logs" {
  bucket        = "acme-logs"
  force_destroy = false
}

resource "aws_s3_bucket_acl" "logs" {
  bucket = aws_s3_bucket.logs.id
  acl    = "public-read"
}

resource "aws_s3_bucket" "data" {
  bucket        = "acme-data"
  force_destroy = false
}
