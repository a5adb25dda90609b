variable "name_prefix" {
  description = "Repository name prefix, cloud-design/<env>."
  type        = string
}

variable "repository_names" {
  description = "Last segment of each repository name (the Kustomize image names; the env root passes contract.yaml's images)."
  type        = list(string)
}

variable "keep_images" {
  description = "Number of most recent images each repository keeps; older ones expire."
  type        = number

  validation {
    condition     = var.keep_images >= 1
    error_message = "keep_images must be at least 1."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the images."
  type        = string
}

variable "force_delete" {
  description = "Let terraform destroy delete repositories that still hold images (dev only)."
  type        = bool
  default     = false
}

variable "layer_cache" {
  description = "Create a MUTABLE <name_prefix>/<image>/cache repository per image for buildah's layer cache (the environment CI builds in: dev)."
  type        = bool
  default     = false
}

variable "cache_expire_days" {
  description = "Days after its push a cached layer expires from a cache repository (layer_cache)."
  type        = number
  default     = 14

  validation {
    condition     = var.cache_expire_days >= 1 && floor(var.cache_expire_days) == var.cache_expire_days
    error_message = "cache_expire_days must be a whole number of days, at least 1."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
