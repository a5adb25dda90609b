variable "identifier" {
  description = "RDS instance identifier, cloud-design-<env>."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnet IDs (at least two availability zones) for the DB subnet group."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group of the instance (5432 from the K3s nodes only)."
  type        = string
}

variable "engine_major_version" {
  description = "PostgreSQL major version; RDS applies minor versions automatically."
  type        = string
  default     = "15"
}

variable "instance_class" {
  description = "RDS instance class."
  type        = string
  default     = "db.t3.micro"
}

variable "allocated_storage_gb" {
  description = "Allocated gp3 storage in GiB."
  type        = number
  default     = 20

  validation {
    condition     = var.allocated_storage_gb >= 20
    error_message = "RDS gp3 storage must be at least 20 GiB."
  }
}

variable "multi_az" {
  description = "Run a standby in a second availability zone (prod)."
  type        = bool
  default     = false
}

variable "backup_retention_days" {
  description = "Days of automated backups (point-in-time recovery window)."
  type        = number
  default     = 7
}

variable "deletion_protection" {
  description = "Block deletion and take a final snapshot on destroy (prod)."
  type        = bool
  default     = false
}

variable "master_username" {
  description = "Master user name; RDS generates and stores its password in Secrets Manager."
  type        = string
  default     = "cloud_design_admin"
}

variable "slow_query_log_ms" {
  description = "Statements slower than this many milliseconds are logged."
  type        = number
  default     = 500
}

variable "log_retention_days" {
  description = "Retention in days of the exported PostgreSQL logs."
  type        = number
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts storage, the master secret and the log groups."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
