# GitLab CI's way into AWS: the account's IAM OIDC provider for the GitLab issuer and two roles
# per environment that jobs assume with their id_token (AssumeRoleWithWebIdentity):
#   <name>-ci-plan  read-only, for `terraform plan` on merge requests and the scheduled drift plan;
#   <name>-ci-push  ECR writes to this environment's repositories (+ pull from the promotion source),
#                   only for pipelines of the deploy branch.
# The trust policies pin aud and sub (project_path:<group>/<project>:ref_type:branch:ref:<branch>),
# the only claims IAM can test for a GitLab issuer.
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.id
  account_id = data.aws_caller_identity.current.account_id
  # IAM condition keys of an OIDC provider are named after its URL without the scheme.
  issuer_host  = trimprefix(var.gitlab_url, "https://")
  provider_arn = var.create_oidc_provider ? aws_iam_openid_connect_provider.gitlab[0].arn : data.aws_iam_openid_connect_provider.gitlab[0].arn

  sub_prefix    = "project_path:${var.project_path}:ref_type:branch:ref:"
  plan_subjects = [for branch in var.plan_branches : "${local.sub_prefix}${branch}"]
  push_subject  = "${local.sub_prefix}${var.deploy_branch}"

  state_bucket_arn      = "arn:${local.partition}:s3:::${coalesce(var.state_bucket_name, "cloud-design-tfstate-${local.account_id}")}"
  ecr_arn               = "arn:${local.partition}:ecr:${local.region}:${local.account_id}:repository"
  promotion_source_arns = [for name in var.promotion_source_repositories : "${local.ecr_arn}/${name}"]
  # Names of what this environment's root creates, for the IAM reads of the plan.
  iam_arn = "arn:${local.partition}:iam::${local.account_id}"
  iam_resource_arns = [
    "${local.iam_arn}:role/${var.name}-*",
    "${local.iam_arn}:policy/${var.name}-*",
    "${local.iam_arn}:instance-profile/${var.name}-*",
    "${local.iam_arn}:oidc-provider/${local.issuer_host}",
  ]
}

resource "aws_iam_openid_connect_provider" "gitlab" {
  count = var.create_oidc_provider ? 1 : 0
  url   = var.gitlab_url
  # No thumbprint_list: AWS verifies a public issuer's TLS certificate against its trusted CAs.
  client_id_list = [var.audience]
  tags           = merge(var.tags, { Name = "gitlab-${local.issuer_host}" })
}

data "aws_iam_openid_connect_provider" "gitlab" {
  count = var.create_oidc_provider ? 0 : 1
  url   = var.gitlab_url
}

# --- trust ------------------------------------------------------------------------------------
locals {
  # plan: StringLike over branch patterns; push: StringEquals on exactly one branch.
  trust = {
    plan = { test = "StringLike", subjects = local.plan_subjects }
    push = { test = "StringEquals", subjects = [local.push_subject] }
  }
}

data "aws_iam_policy_document" "trust" {
  for_each = local.trust

  statement {
    sid     = "GitLabPipelinesOfThisProject"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${local.issuer_host}:aud"
      values   = [var.audience]
    }
    condition {
      test     = each.value.test
      variable = "${local.issuer_host}:sub"
      values   = each.value.subjects
    }
  }
}

resource "aws_iam_role" "plan" {
  name                 = "${var.name}-ci-plan"
  description          = "GitLab CI (${var.project_path}): read-only terraform plan of ${var.name}"
  assume_role_policy   = data.aws_iam_policy_document.trust["plan"].json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}

resource "aws_iam_role" "push" {
  name                 = "${var.name}-ci-push"
  description          = "GitLab CI (${var.project_path}, ${var.deploy_branch}): ECR pushes to ${var.name}"
  assume_role_policy   = data.aws_iam_policy_document.trust["push"].json
  max_session_duration = var.max_session_duration
  tags                 = var.tags
}
