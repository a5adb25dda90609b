output "sns_topic_arn" {
  description = "ARN of the alarm notification topic."
  value       = aws_sns_topic.alarms.arn
}

output "log_group_names" {
  description = "CloudWatch log group names by short name."
  value       = { for key, group in aws_cloudwatch_log_group.this : key => group.name }
}

output "log_group_arns" {
  description = "CloudWatch log group ARNs by short name."
  value       = { for key, group in aws_cloudwatch_log_group.this : key => group.arn }
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}
