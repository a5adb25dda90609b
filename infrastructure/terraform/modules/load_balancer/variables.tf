variable "name" {
  description = "Name of the ALB and prefix of its target groups (at most 32 characters in total)."
  type        = string
}

variable "vpc_id" {
  description = "ID of the VPC of the target groups."
  type        = string
}

variable "subnet_ids" {
  description = "Public subnet IDs (at least two availability zones)."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group of the ALB."
  type        = string
}

variable "routes" {
  description = "Path rules by short name: NodePort, path patterns, health-check path, rule priority, and admin_only (only admin_cidr may use the route)."
  type = map(object({
    node_port         = number
    path_patterns     = list(string)
    health_check_path = string
    priority          = number
    admin_only        = optional(bool, false)
  }))
}

variable "admin_cidr" {
  description = "IPv4 CIDR whose requests the admin_only routes accept (the env root validates it)."
  type        = string
}

variable "target_instance_ids" {
  description = "Instance IDs of every K3s node; each is registered in every target group."
  type        = list(string)
}

variable "health_check_interval_seconds" {
  description = "Seconds between health checks of each target."
  type        = number
  default     = 30
}

variable "certificate_arn" {
  description = "ACM certificate ARN; when set, HTTPS serves on 443 and 80 redirects to it."
  type        = string
  default     = null
}

variable "ssl_policy" {
  description = "TLS policy of the HTTPS listener (TLS 1.2 and 1.3 only)."
  type        = string
  default     = "ELBSecurityPolicy-TLS13-1-2-2021-06"
}

variable "access_logs_bucket" {
  description = "Name of the S3 bucket receiving access logs (under alb/)."
  type        = string
}

variable "deletion_protection" {
  description = "Block deletion of the ALB (prod)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
