# What the push role may do: kaniko pushes (dev) or the promotion's blob-by-blob copy (prod: read
# manifests and layer download URLs from the dev repositories; check, upload layers and put images in
# the prod ones: cloudctl/delivery/ecr_copy.py). No delete, no repository changes.
data "aws_iam_policy_document" "push" {
  statement {
    sid = "EcrAuthToken"
    # GetAuthorizationToken has no resource-level permissions in IAM.
    actions   = ["ecr:GetAuthorizationToken"]
    resources = ["*"]
  }

  statement {
    sid = "EcrPushThisEnvironment"
    actions = [
      "ecr:BatchCheckLayerAvailability",
      "ecr:BatchGetImage",
      "ecr:CompleteLayerUpload",
      "ecr:DescribeImages",
      "ecr:GetDownloadUrlForLayer",
      "ecr:InitiateLayerUpload",
      "ecr:PutImage",
      "ecr:UploadLayerPart",
    ]
    resources = var.push_repository_arns
  }

  dynamic "statement" {
    for_each = length(local.promotion_source_arns) > 0 ? [1] : []
    content {
      sid       = "EcrPullPromotionSource"
      actions   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:DescribeImages", "ecr:GetDownloadUrlForLayer"]
      resources = local.promotion_source_arns
    }
  }
}

resource "aws_iam_role_policy" "push" {
  name   = "ecr-push"
  role   = aws_iam_role.push.id
  policy = data.aws_iam_policy_document.push.json
}
