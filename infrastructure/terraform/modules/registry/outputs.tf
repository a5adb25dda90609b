output "repository_urls" {
  description = "Repository URL by image name (var.repository_names)."
  value       = { for name, repo in aws_ecr_repository.this : name => repo.repository_url }
}

output "repository_arns" {
  description = "Repository ARN by image name."
  value       = { for name, repo in aws_ecr_repository.this : name => repo.arn }
}

output "cache_repository_names" {
  description = "Layer-cache repository name (<name_prefix>/<image>/cache) by image name; empty without layer_cache. The build jobs derive the same names (cloudctl/delivery/builds.py)."
  value       = { for name, repo in aws_ecr_repository.cache : name => repo.name }
}

output "cache_repository_arns" {
  description = "Layer-cache repository ARN by image name (for the CI push role); empty without layer_cache."
  value       = { for name, repo in aws_ecr_repository.cache : name => repo.arn }
}
