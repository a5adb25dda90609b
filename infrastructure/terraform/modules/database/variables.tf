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
  description = "Master user name, stored beside the generated password in the master secret."
  type        = string
  default     = "cloud_design_admin"
}

variable "master_secret_name" {
  description = "Name of the Secrets Manager secret that holds the master login, cloud-design/<env>/rds-master."
  type        = string
}

variable "master_secret_keys" {
  description = "The master secret's JSON keys as contract.yaml lists them (secrets.rds-master.keys; null when it lists no rds-master). This module writes username and password, so anything else fails the plan."
  type        = list(string)

  validation {
    condition     = var.master_secret_keys != null
    error_message = "contract.yaml's secrets name no rds-master, yet the database module writes cloud-design/<env>/rds-master with the instance: name it there with keys [username, password]."
  }

  validation {
    condition     = var.master_secret_keys == null ? true : toset(var.master_secret_keys) == toset(["username", "password"])
    error_message = "contract.yaml's secrets.rds-master.keys must be [username, password], what the database module writes; it lists [${join(", ", coalesce(var.master_secret_keys, []))}]."
  }
}

variable "master_password_version" {
  description = "Version of the generated master password; raising it stores a new one in the secret and on the instance at the next apply (the rotation)."
  type        = number
  default     = 1

  validation {
    condition     = var.master_password_version >= 1 && floor(var.master_password_version) == var.master_password_version
    error_message = "master_password_version must be a whole number from 1 up."
  }
}

variable "secret_recovery_window_in_days" {
  description = "Days the deleted master secret stays recoverable (0 deletes at once, so dev can be rebuilt under the same name)."
  type        = number
  default     = 7

  validation {
    condition     = var.secret_recovery_window_in_days == 0 || (var.secret_recovery_window_in_days >= 7 && var.secret_recovery_window_in_days <= 30)
    error_message = "secret_recovery_window_in_days must be 0 or between 7 and 30."
  }
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
