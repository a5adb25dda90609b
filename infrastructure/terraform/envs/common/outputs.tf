# docs/contract.md ("Terraform layout the CLI reads") names the outputs the bootstrap CLI reads.
output "alb_dns_name" {
  description = "Public DNS name of the ALB."
  value       = module.load_balancer.dns_name
}

output "argocd_url" {
  description = "URL of the Argo CD UI behind the ALB."
  value       = "${module.load_balancer.base_url}/argocd"
}

output "kubeconfig_parameter" {
  description = "SSM SecureString the master publishes the admin kubeconfig to."
  value       = module.cluster.kubeconfig_parameter_name
}

output "cluster_name" {
  description = "Name of the cluster and of its kubeconfig context."
  value       = module.cluster.cluster_name
}

output "region" {
  description = "AWS region of the environment."
  value       = var.region
}

output "ecr_repository_urls" {
  description = "ECR repository URL by image name (contract.yaml's workload images)."
  value       = module.registry.repository_urls
}

output "rds_endpoint" {
  description = "Host name of the RDS instance (port 5432)."
  value       = module.database.endpoint
}

output "kubeconfig_placeholder" {
  description = "Value of the kubeconfig parameter until the master has published the real kubeconfig."
  value       = module.cluster.kubeconfig_placeholder
}

output "api_endpoint" {
  description = "Kubernetes API URL (reachable from admin_cidr only)."
  value       = module.cluster.api_endpoint
}

output "master_instance_id" {
  description = "Instance ID of the K3s master (aws ssm start-session --target <id>)."
  value       = module.cluster.master_instance_id
}

output "database_host" {
  description = "Stable name of the database inside the VPC (a CNAME to the RDS address); the cluster's Service postgres points at it."
  value       = module.dns.fqdns["postgres"]
}

output "secret_names" {
  description = "Secrets Manager names by short name: the application credentials and rds-master (the database's master login)."
  value       = merge(module.secrets.secret_names, { "rds-master" = module.database.master_secret_name })
}

output "backups_bucket" {
  description = "Name of the S3 backups bucket."
  value       = module.storage.backups_bucket_id
}

output "logs_bucket" {
  description = "Name of the S3 logs bucket."
  value       = module.storage.logs_bucket_id
}

output "alarm_topic_arn" {
  description = "ARN of the SNS topic alarms notify."
  value       = module.monitoring.sns_topic_arn
}

output "log_group_names" {
  description = "CloudWatch log group names (applications, k3s, and the RDS exports)."
  value       = merge(module.monitoring.log_group_names, { for name in module.database.log_group_names : basename(name) => name })
}

output "dashboard_name" {
  description = "Name of the CloudWatch dashboard."
  value       = module.monitoring.dashboard_name
}

output "ci_plan_role_arn" {
  description = "Role ARN for the CI variable AWS_PLAN_ROLE_ARN_<ENV>: read-only terraform plan (merge requests, drift)."
  value       = module.ci_oidc.plan_role_arn
}

output "ci_push_role_arn" {
  description = "Role ARN for the CI variable AWS_ROLE_ARN_<ENV>: the build jobs' image and layer-cache pushes (dev) or the promotion jobs' reads and skopeo copy (prod), deploy branch only."
  value       = module.ci_oidc.push_role_arn
}

output "admin_cidr" {
  description = "The CIDR that reaches the Kubernetes API and /argocd (cloudctl up --admin-cidr). CI's plan and drift jobs read it back, so they plan against what was applied."
  value       = var.admin_cidr
}
