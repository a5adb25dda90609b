# Instance profiles of the K3s nodes. Both roles share one least-privilege policy (ECR pull on
# this environment's repositories, CloudWatch logs and metrics, SSM Session Manager and the K3s
# token, Secrets Manager read of cloud-design/<env>/* for the External Secrets Operator). Only the
# master may write the kubeconfig parameter. Nothing on the nodes writes backups (K3s keeps its
# state in SQLite, not etcd: modules/README.md), so the nodes have no access to the backups bucket.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  account_id = data.aws_caller_identity.current.account_id
  ssm_arn    = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter"
  # Parameter names start with "/", so the ARN joins them without another slash.
  token_parameter_arn      = "${local.ssm_arn}${var.token_parameter_name}"
  kubeconfig_parameter_arn = "${local.ssm_arn}${var.kubeconfig_parameter_name}"
  app_secrets_arn          = "arn:${local.partition}:secretsmanager:${local.region}:${local.account_id}:secret:${var.secrets_prefix}/*"
  roles                    = toset(["master", "worker"])
}

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "node" {
  for_each           = local.roles
  name               = "${var.name}-${each.key}"
  description        = "K3s ${each.key} nodes of ${var.name}"
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
  tags               = var.tags
}

resource "aws_iam_instance_profile" "node" {
  for_each = local.roles
  name     = "${var.name}-${each.key}"
  role     = aws_iam_role.node[each.key].name
  tags     = var.tags
}

data "aws_iam_policy_document" "node" {
  statement {
    sid = "EcrAuthToken"
    # GetAuthorizationToken has no resource-level permissions in IAM.
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid       = "EcrPullThisEnvironment"
    actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    resources = var.ecr_repository_arns
  }

  statement {
    sid       = "CloudWatchLogsWrite"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
    resources = flatten([for arn in var.log_group_arns : [arn, "${arn}:log-stream:*"]])
  }

  statement {
    sid = "CloudWatchMetricsWrite"
    # PutMetricData has no resource-level permissions; the namespace condition narrows it.
    actions   = ["cloudwatch:PutMetricData"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "cloudwatch:namespace"
      values   = var.metric_namespaces
    }
  }

  statement {
    sid       = "SessionManagerRegisterInstance"
    actions   = ["ssm:UpdateInstanceInformation"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:instance/*"]
  }

  statement {
    sid = "SessionManagerChannels"
    # The SSM agent's message and channel calls have no resource-level permissions.
    actions = [
      "ssmmessages:CreateControlChannel",
      "ssmmessages:CreateDataChannel",
      "ssmmessages:OpenControlChannel",
      "ssmmessages:OpenDataChannel",
      "ec2messages:AcknowledgeMessage",
      "ec2messages:DeleteMessage",
      "ec2messages:FailMessage",
      "ec2messages:GetEndpoint",
      "ec2messages:GetMessages",
      "ec2messages:SendReply",
    ]
    resources = ["*"]
  }

  statement {
    sid       = "ReadK3sToken"
    actions   = ["ssm:GetParameter"]
    resources = [local.token_parameter_arn]
  }

  statement {
    sid     = "ReadEnvironmentSecrets"
    actions = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    # Every secret of the environment, the database's master login (rds-master) included; the
    # External Secrets Operator reads each by name.
    resources = [local.app_secrets_arn]
  }

  statement {
    sid       = "DecryptThroughServices"
    actions   = ["kms:Decrypt"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${local.region}.amazonaws.com", "secretsmanager.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "node" {
  name        = "${var.name}-node"
  description = "Least privilege shared by every K3s node of ${var.name}"
  policy      = data.aws_iam_policy_document.node.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each   = local.roles
  role       = aws_iam_role.node[each.key].name
  policy_arn = aws_iam_policy.node.arn
}

data "aws_iam_policy_document" "master" {
  statement {
    sid       = "PublishKubeconfig"
    actions   = ["ssm:PutParameter"]
    resources = [local.kubeconfig_parameter_arn]
  }

  statement {
    sid       = "EncryptKubeconfig"
    actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
    resources = [var.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["ssm.${local.region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_policy" "master" {
  name        = "${var.name}-master"
  description = "What only the K3s master of ${var.name} may do: publish the kubeconfig"
  policy      = data.aws_iam_policy_document.master.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "master" {
  role       = aws_iam_role.node["master"].name
  policy_arn = aws_iam_policy.master.arn
}
