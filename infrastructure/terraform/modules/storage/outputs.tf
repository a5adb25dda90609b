output "logs_bucket_id" {
  description = "Name of the logs bucket."
  value       = module.logs.id
}

output "logs_bucket_arn" {
  description = "ARN of the logs bucket."
  value       = module.logs.arn
}

output "backups_bucket_id" {
  description = "Name of the backups bucket."
  value       = module.backups.id
}

output "backups_bucket_arn" {
  description = "ARN of the backups bucket."
  value       = module.backups.arn
}
