# Two buckets per environment: logs (ALB access logs, VPC flow logs, S3 access logs, application
# log archives) and backups (database dumps and cluster snapshots written by the nodes).
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_elb_service_account" "current" {}

locals {
  logs_bucket    = "${var.name}-logs-${data.aws_caller_identity.current.account_id}"
  backups_bucket = "${var.name}-backups-${data.aws_caller_identity.current.account_id}"
}

# --- logs -------------------------------------------------------------------------------------
resource "aws_s3_bucket" "logs" {
  #checkov:skip=CKV_AWS_18:This is the access-log target bucket; logging it into itself would loop.
  #checkov:skip=CKV_AWS_144:Cross-region replication of transient logs is not worth its cost here.
  #checkov:skip=CKV2_AWS_62:No consumer listens to log-object events.
  #checkov:skip=CKV_AWS_145:ALB access logs can only be delivered to SSE-S3 buckets, not SSE-KMS.
  bucket        = local.logs_bucket
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Name = local.logs_bucket, Purpose = "logs" })
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

resource "aws_s3_bucket_public_access_block" "logs" {
  bucket                  = aws_s3_bucket.logs.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "logs" {
  bucket = aws_s3_bucket.logs.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "logs" {
  bucket = aws_s3_bucket.logs.id

  rule {
    id     = "age-out-logs"
    status = "Enabled"
    filter {}

    transition {
      days          = var.logs_infrequent_access_after_days
      storage_class = "STANDARD_IA"
    }
    transition {
      days          = var.logs_glacier_after_days
      storage_class = "GLACIER"
    }
    expiration {
      days = var.logs_expire_after_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expire_after_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

data "aws_iam_policy_document" "logs" {
  source_policy_documents = [data.aws_iam_policy_document.tls_only["logs"].json]

  statement {
    sid       = "AlbAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/alb/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
    }
  }

  statement {
    sid       = "LogDeliveryWrite"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/vpc-flow-logs/AWSLogs/${data.aws_caller_identity.current.account_id}/*"]
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  statement {
    sid       = "LogDeliveryAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = [aws_s3_bucket.logs.arn]
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }

  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.logs.arn}/s3-access/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "logs" {
  bucket = aws_s3_bucket.logs.id
  policy = data.aws_iam_policy_document.logs.json
  # The public access block must exist first, or a policy race can briefly leave it open.
  depends_on = [aws_s3_bucket_public_access_block.logs]
}

# --- backups ----------------------------------------------------------------------------------
resource "aws_s3_bucket" "backups" {
  #checkov:skip=CKV_AWS_144:Backups stay in one region; RDS snapshots cover the database, git covers the cluster.
  #checkov:skip=CKV2_AWS_62:No consumer listens to backup-object events.
  bucket        = local.backups_bucket
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Name = local.backups_bucket, Purpose = "backups" })
}

resource "aws_s3_bucket_versioning" "backups" {
  bucket = aws_s3_bucket.backups.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "backups" {
  bucket                  = aws_s3_bucket.backups.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "backups" {
  bucket = aws_s3_bucket.backups.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_logging" "backups" {
  bucket        = aws_s3_bucket.backups.id
  target_bucket = aws_s3_bucket.logs.id
  target_prefix = "s3-access/backups/"
}

resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    id     = "keep-backups-a-year"
    status = "Enabled"
    filter {}

    expiration {
      days = var.backups_expire_after_days
    }
    # A deleted or overwritten backup stays restorable for as long as a current one.
    noncurrent_version_expiration {
      noncurrent_days = var.backups_expire_after_days
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_policy" "backups" {
  bucket     = aws_s3_bucket.backups.id
  policy     = data.aws_iam_policy_document.tls_only["backups"].json
  depends_on = [aws_s3_bucket_public_access_block.backups]
}

# --- shared: deny every request that does not use TLS -----------------------------------------
data "aws_iam_policy_document" "tls_only" {
  for_each = {
    logs    = aws_s3_bucket.logs.arn
    backups = aws_s3_bucket.backups.arn
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [each.value, "${each.value}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}
