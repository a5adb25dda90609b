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
  description = "ARN of the instance."
  value       = aws_db_instance.this.arn
}

output "master_secret_name" {
  description = "Name of the Secrets Manager secret holding the master login (username, password)."
  value       = aws_secretsmanager_secret.master.name
}

output "log_group_names" {
  description = "CloudWatch log groups receiving the exported PostgreSQL logs."
  value       = [for group in aws_cloudwatch_log_group.exports : group.name]
}
