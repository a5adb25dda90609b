# Two buckets per environment: logs (ALB access logs, VPC flow logs, S3 access logs) and backups,
# where operators keep what they copy out by hand (e.g. a pg_dump before a risky change, or a
# RabbitMQ definitions export). Nothing writes to it automatically: RDS keeps its own snapshots,
# and K3s keeps its state in SQLite, which git and Argo CD rebuild (modules/README.md).
data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_elb_service_account" "current" {}

locals {
  account_id     = data.aws_caller_identity.current.account_id
  logs_bucket    = "${var.name}-logs-${local.account_id}"
  backups_bucket = "${var.name}-backups-${local.account_id}"
  logs_arn       = "arn:${data.aws_partition.current.partition}:s3:::${local.logs_bucket}"
}

module "logs" {
  source = "../s3_bucket"
  name   = local.logs_bucket
  # ALB access logs can only be delivered to SSE-S3 buckets.
  sse_algorithm = "AES256"
  lifecycle_rule = {
    id = "age-out-logs"
    transitions = [
      { days = var.logs_infrequent_access_after_days, storage_class = "STANDARD_IA" },
      { days = var.logs_glacier_after_days, storage_class = "GLACIER" },
    ]
    expiration_days            = var.logs_expire_after_days
    noncurrent_expiration_days = var.noncurrent_version_expire_after_days
  }
  extra_policy_json = data.aws_iam_policy_document.log_delivery.json
  force_destroy     = var.force_destroy
  tags              = merge(var.tags, { Purpose = "logs" })
}

module "backups" {
  source      = "../s3_bucket"
  name        = local.backups_bucket
  kms_key_arn = var.kms_key_arn
  lifecycle_rule = {
    id              = "keep-backups-a-year"
    expiration_days = var.backups_expire_after_days
    # A deleted or overwritten backup stays restorable for as long as a current one.
    noncurrent_expiration_days = var.backups_expire_after_days
  }
  access_log_target = { bucket = module.logs.id, prefix = "s3-access/backups/" }
  force_destroy     = var.force_destroy
  tags              = merge(var.tags, { Purpose = "backups" })
}

# Who may write into the logs bucket: the regional ELB account, VPC flow logs and S3 access logs.
data "aws_iam_policy_document" "log_delivery" {
  statement {
    sid       = "AlbAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${local.logs_arn}/alb/AWSLogs/${local.account_id}/*"]
    principals {
      type        = "AWS"
      identifiers = [data.aws_elb_service_account.current.arn]
    }
  }

  statement {
    sid       = "LogDeliveryWrite"
    actions   = ["s3:PutObject"]
    resources = ["${local.logs_arn}/vpc-flow-logs/AWSLogs/${local.account_id}/*"]
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "LogDeliveryAclCheck"
    actions   = ["s3:GetBucketAcl"]
    resources = [local.logs_arn]
    principals {
      type        = "Service"
      identifiers = ["delivery.logs.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }

  statement {
    sid       = "S3ServerAccessLogs"
    actions   = ["s3:PutObject"]
    resources = ["${local.logs_arn}/s3-access/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}
