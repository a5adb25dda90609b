variable "name" {
  description = "Name prefix of the roles, policies and instance profiles, e.g. cloud-design-dev."
  type        = string
}

variable "ecr_repository_arns" {
  description = "ARNs of the ECR repositories the nodes may pull from (this environment's only)."
  type        = list(string)
}

variable "log_group_arns" {
  description = "ARNs of the CloudWatch log groups the nodes may write to."
  type        = list(string)
}

variable "metric_namespaces" {
  description = "CloudWatch metric namespaces the nodes may publish to."
  type        = list(string)
  default     = ["CWAgent", "CloudDesign"]
}

variable "token_parameter_name" {
  description = "SSM parameter holding the K3s cluster token (read by every node)."
  type        = string
}

variable "kubeconfig_parameter_name" {
  description = "SSM parameter the master publishes the kubeconfig to."
  type        = string
}

variable "secrets_prefix" {
  description = "Secrets Manager name prefix the nodes may read, cloud-design/<env>."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the environment's KMS key (SSM parameters and secrets)."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
