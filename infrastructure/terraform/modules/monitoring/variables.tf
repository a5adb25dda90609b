variable "name" {
  description = "Name prefix of the topic, alarms and dashboard, e.g. cloud-design-dev."
  type        = string
}

variable "log_groups" {
  description = "CloudWatch log group names by short name (applications, k3s)."
  type        = map(string)
}

variable "log_retention_days" {
  description = "Retention in days of the log groups."
  type        = number
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the log groups and the SNS topic."
  type        = string
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic (null: no subscription)."
  type        = string
  default     = null
}

variable "instances" {
  description = "Instance ID of every K3s node by name (master, worker-0, ...)."
  type        = map(string)
}

variable "alb_arn_suffix" {
  description = "ARN suffix of the ALB (CloudWatch LoadBalancer dimension)."
  type        = string
}

variable "target_group_arn_suffixes" {
  description = "ARN suffix of each target group by route name."
  type        = map(string)
}

variable "rds_identifier" {
  description = "RDS instance identifier."
  type        = string
}

variable "cpu_threshold_percent" {
  description = "Node CPU utilisation (%) above which the CPU alarm fires."
  type        = number
  default     = 80
}

variable "alb_5xx_threshold" {
  description = "Number of HTTP 5xx answers in 5 minutes above which the ALB alarm fires."
  type        = number
  default     = 10
}

variable "rds_free_storage_threshold_bytes" {
  description = "RDS free storage (bytes) below which the storage alarm fires; 2 GiB by default."
  type        = number
  default     = 2147483648
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
