output "master_instance_profile_name" {
  description = "Instance profile of the K3s master."
  value       = aws_iam_instance_profile.node["master"].name
}

output "worker_instance_profile_name" {
  description = "Instance profile of the K3s workers."
  value       = aws_iam_instance_profile.node["worker"].name
}

output "role_arns" {
  description = "Role ARN by node kind (master, worker)."
  value       = { for kind, role in aws_iam_role.node : kind => role.arn }
}
