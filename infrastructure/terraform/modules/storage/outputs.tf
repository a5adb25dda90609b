output "logs_bucket_id" {
  description = "Name of the logs bucket."
  value       = aws_s3_bucket.logs.id
}

output "logs_bucket_arn" {
  description = "ARN of the logs bucket."
  value       = aws_s3_bucket.logs.arn
}

output "backups_bucket_id" {
  description = "Name of the backups bucket."
  value       = aws_s3_bucket.backups.id
}

output "backups_bucket_arn" {
  description = "ARN of the backups bucket."
  value       = aws_s3_bucket.backups.arn
}
