variable "name" {
  description = "Globally unique bucket name."
  type        = string
}

variable "sse_algorithm" {
  description = "Default encryption: aws:kms (with kms_key_arn, or the AWS-managed S3 key when null) or AES256 (SSE-S3, required for ALB access logs)."
  type        = string
  default     = "aws:kms"

  validation {
    condition     = contains(["aws:kms", "AES256"], var.sse_algorithm)
    error_message = "sse_algorithm must be aws:kms or AES256."
  }
}

variable "kms_key_arn" {
  description = "KMS key for aws:kms encryption; null uses the AWS-managed S3 key."
  type        = string
  default     = null
}

variable "lifecycle_rule" {
  description = "The bucket's lifecycle: storage-class transitions, expiry of current objects (null: never) and of old versions."
  type = object({
    id                         = string
    transitions                = optional(list(object({ days = number, storage_class = string })), [])
    expiration_days            = optional(number)
    noncurrent_expiration_days = number
  })
}

variable "access_log_target" {
  description = "Bucket and prefix receiving this bucket's S3 server access logs; null: none."
  type = object({
    bucket = string
    prefix = string
  })
  default = null
}

variable "extra_policy_json" {
  description = "Further bucket policy statements (JSON) merged with the TLS-only statement, e.g. log delivery."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Let terraform destroy delete the bucket while it still holds objects."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
