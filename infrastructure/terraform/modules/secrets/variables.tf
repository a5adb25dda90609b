variable "name_prefix" {
  description = "Secret name prefix, cloud-design/<env>."
  type        = string
}

variable "database_users" {
  description = "Database login roles that get a <prefix>/<user>-db secret; each owns a database of the same name."
  type        = list(string)
  default     = ["inventory", "billing"]
}

variable "rabbitmq_username" {
  description = "RabbitMQ user the services connect as."
  type        = string
  default     = "movies"
}

variable "secret_versions" {
  description = "Version of each generated secret by short name (inventory-db, billing-db, rabbitmq, argocd-gitlab-webhook); absent means 1. Raising one makes the next apply store a newly generated value: that is the rotation."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for version in values(var.secret_versions) : version >= 1 && floor(version) == version])
    error_message = "secret_versions holds whole numbers from 1 up."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the secrets."
  type        = string
}

variable "recovery_window_in_days" {
  description = "Days a deleted secret stays recoverable (0 deletes at once, so dev can be rebuilt under the same names)."
  type        = number
  default     = 7

  validation {
    condition     = var.recovery_window_in_days == 0 || (var.recovery_window_in_days >= 7 && var.recovery_window_in_days <= 30)
    error_message = "recovery_window_in_days must be 0 or between 7 and 30."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
