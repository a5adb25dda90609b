output "endpoint" {
  description = "Host name of the instance (without the port)."
  value       = aws_db_instance.this.address
}

output "port" {
  description = "Port the instance listens on."
  value       = aws_db_instance.this.port
}

output "identifier" {
  description = "RDS instance identifier."
  value       = aws_db_instance.this.identifier
}

output "arn" {
  description = "ARN of the instance (the master secret is tagged with it)."
  value       = aws_db_instance.this.arn
}

output "master_user_secret_arn" {
  description = "ARN of the RDS-managed Secrets Manager secret holding the master password."
  value       = aws_db_instance.this.master_user_secret[0].secret_arn
}

output "log_group_names" {
  description = "CloudWatch log groups receiving the exported PostgreSQL logs."
  value       = [for group in aws_cloudwatch_log_group.exports : group.name]
}
