# One ECR repository per image, named cloud-design/<env>/<image>; tags are immutable, every push
# is scanned, and only the newest images are kept. With layer_cache, a mutable cache repository
# per image beside it (below).
resource "aws_ecr_repository" "this" {
  for_each             = toset(var.repository_names)
  name                 = "${var.name_prefix}/${each.key}"
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = "${var.name_prefix}/${each.key}" })
}

resource "aws_ecr_lifecycle_policy" "this" {
  for_each   = aws_ecr_repository.this
  repository = each.value.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Keep the last ${var.keep_images} images"
      selection = {
        tagStatus   = "any"
        countType   = "imageCountMoreThan"
        countNumber = var.keep_images
      }
      action = { type = "expire" }
    }]
  })
}

# buildah's layer cache (the build jobs' --cache-to/--cache-from), one repository per image,
# <name_prefix>/<image>/cache, only where images are built (dev: prod is only copied into).
# buildah tags each cached layer with its cache key and pushes that key again whenever the layer
# is rebuilt, which an IMMUTABLE repository refuses; nothing deployed is ever pulled from here.
resource "aws_ecr_repository" "cache" {
  #checkov:skip=CKV_AWS_51:buildah re-pushes a layer's cache-key tag whenever the layer is rebuilt; nothing deployed is pulled from a cache repository.
  for_each             = var.layer_cache ? toset(var.repository_names) : toset([])
  name                 = "${var.name_prefix}/${each.key}/cache"
  image_tag_mutability = "MUTABLE"
  # The cache is disposable: destroy removes it with whatever it holds.
  force_delete = true

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }

  tags = merge(var.tags, { Name = "${var.name_prefix}/${each.key}/cache" })
}

# A cached layer older than cache_expire_days is rebuilt at the next build that needs it, so the
# cache never grows without bound.
resource "aws_ecr_lifecycle_policy" "cache" {
  for_each   = aws_ecr_repository.cache
  repository = each.value.name
  policy = jsonencode({
    rules = [{
      rulePriority = 1
      description  = "Expire cached layers ${var.cache_expire_days} days after their push"
      selection = {
        tagStatus   = "any"
        countType   = "sinceImagePushed"
        countUnit   = "days"
        countNumber = var.cache_expire_days
      }
      action = { type = "expire" }
    }]
  })
}
