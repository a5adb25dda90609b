variable "region" {
  description = "AWS region of the state bucket (the same as the environments')."
  type        = string
  default     = "eu-west-1"
}

variable "bucket_name" {
  description = "Name of the state bucket; null uses cloud-design-tfstate-<account id>."
  type        = string
  default     = null
}

variable "noncurrent_version_expire_after_days" {
  description = "Days an old version of a state file is kept before it expires."
  type        = number
  default     = 90
}
