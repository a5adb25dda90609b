variable "name_prefix" {
  description = "Secret name prefix, cloud-design/<env>."
  type        = string
}

variable "secrets" {
  description = "The secrets to write, by short name (<prefix>/<name>), each with its JSON keys: contract.yaml's secrets less those another module writes (rds-master). <user>-db takes [username, password], rabbitmq [username, password, erlang_cookie], argocd-gitlab-webhook [secret]."
  type        = map(list(string))

  # A validation may not read a local built from var.secrets (a cycle), so each spells out
  # "the keys this module writes for a name": generated_keys', else database_keys for <user>-db.
  validation {
    condition     = alltrue([for name in keys(var.secrets) : contains(keys(local.generated_keys), name) || can(regex(local.database_secret_pattern, name))])
    error_message = "contract.yaml names secrets modules/secrets has no generator for: ${join(", ", sort([for name in keys(var.secrets) : name if !contains(keys(local.generated_keys), name) && !can(regex(local.database_secret_pattern, name))]))}. It generates <user>-db, rabbitmq and argocd-gitlab-webhook; add a generator there or remove the secret from the contract."
  }

  validation {
    condition     = alltrue([for name in keys(local.generated_keys) : contains(keys(var.secrets), name)])
    error_message = "modules/secrets writes ${join(", ", sort([for name in keys(local.generated_keys) : name if !contains(keys(var.secrets), name)]))}, which contract.yaml's secrets do not name: name it there (with its keys) or remove its generator here."
  }

  validation {
    condition = alltrue([
      for name, listed in var.secrets : toset(listed) == toset(lookup(local.generated_keys, name, local.database_keys))
      if contains(keys(local.generated_keys), name) || can(regex(local.database_secret_pattern, name))
    ])
    error_message = "contract.yaml's keys differ from what modules/secrets writes: ${join("; ", sort([
      for name, listed in var.secrets : "${name} lists [${join(", ", listed)}], the module writes [${join(", ", lookup(local.generated_keys, name, local.database_keys))}]"
      if(contains(keys(local.generated_keys), name) || can(regex(local.database_secret_pattern, name))) && toset(listed) != toset(lookup(local.generated_keys, name, local.database_keys))
    ]))}."
  }
}

variable "rabbitmq_username" {
  description = "RabbitMQ user the services connect as."
  type        = string
  default     = "movies"
}

variable "secret_versions" {
  description = "Version of each generated secret by short name (a name of var.secrets); absent means 1. Raising one makes the next apply store a newly generated value: that is the rotation."
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
