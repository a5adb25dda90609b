variable "name" {
  description = "Name prefix of the buckets; the account ID is appended for global uniqueness."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the backups bucket."
  type        = string
}

variable "logs_infrequent_access_after_days" {
  description = "Days after which log objects move to S3 Standard-IA."
  type        = number
  default     = 30
}

variable "logs_glacier_after_days" {
  description = "Days after which log objects move to S3 Glacier Flexible Retrieval."
  type        = number
  default     = 90
}

variable "logs_expire_after_days" {
  description = "Days after which log objects are deleted."
  type        = number
  default     = 180

  validation {
    condition     = var.logs_expire_after_days > var.logs_glacier_after_days
    error_message = "Logs must expire after they move to Glacier."
  }
}

variable "noncurrent_version_expire_after_days" {
  description = "Days a replaced or deleted log object version is kept."
  type        = number
  default     = 30
}

variable "backups_expire_after_days" {
  description = "Days a backup object (and a replaced or deleted version of one) is kept."
  type        = number
  default     = 365
}

variable "force_destroy" {
  description = "Let terraform destroy delete non-empty buckets (dev only; prod keeps its data)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
