# What the push role may do. dev: present-images reads which tags exist; the build jobs' buildah
# pulls the layer cache (--cache-from), pushes it (--cache-to) and pushes the image, so the image
# and cache repositories both get pull and push. prod: the promotion (promote-prod and promote-mr
# read, promote-copy copies with skopeo through the registry API) reads manifests and layers from
# the dev repositories and checks, uploads layers and puts images in the prod ones. No delete, no
# repository changes.
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
