variable "name" {
  description = "Name prefix of the roles and policies, e.g. cloud-design-dev (roles <name>-ci-plan, <name>-ci-push)."
  type        = string
}

variable "gitlab_url" {
  description = "URL of the GitLab instance issuing the id_tokens (the OIDC issuer), without a trailing slash."
  type        = string
  default     = "https://gitlab.com"

  validation {
    condition     = can(regex("^https://[^/]+(/[^/]+)*$", var.gitlab_url))
    error_message = "gitlab_url must be an https:// URL without a trailing slash, e.g. https://gitlab.com."
  }
}

variable "audience" {
  description = "The aud claim of the jobs' id_tokens (.gitlab-ci.yml .aws_oidc: sts.amazonaws.com)."
  type        = string
  default     = "sts.amazonaws.com"
}

variable "create_oidc_provider" {
  description = "Create the account's IAM OIDC provider for gitlab_url; false looks up the one another root created (one provider per URL per account)."
  type        = bool
  default     = true
}

variable "project_path" {
  description = "GitLab project path (<group>/<project>, subgroups allowed) the roles trust; the id_token's sub starts with project_path:<this>."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+$", var.project_path))
    error_message = "project_path must be <group>/<project> (subgroups allowed), without wildcards."
  }
}

variable "deploy_branch" {
  description = "The one branch whose pipelines may assume the push role (GitLab's default branch)."
  type        = string
  default     = "main"

  validation {
    condition     = length(var.deploy_branch) > 0 && !can(regex("[*?]", var.deploy_branch))
    error_message = "deploy_branch must be one branch name, without wildcards."
  }
}

variable "plan_branches" {
  description = "Branch patterns (IAM StringLike, * allowed) whose pipelines may assume the read-only plan role; merge-request pipelines run on their source branch."
  type        = list(string)
  default     = ["*"]

  validation {
    condition     = length(var.plan_branches) > 0
    error_message = "plan_branches needs at least one pattern."
  }
}

variable "push_repository_arns" {
  description = "ARNs of this environment's ECR repositories: the push role writes them, the plan role reads their configuration."
  type        = list(string)

  validation {
    condition     = length(var.push_repository_arns) > 0 && alltrue([for arn in var.push_repository_arns : can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", arn)) && !can(regex("\\*", arn))])
    error_message = "push_repository_arns must be concrete ECR repository ARNs (no wildcards)."
  }
}

variable "promotion_source_repositories" {
  description = "Names of ECR repositories in this account and region the push role may pull from to copy images (prod: the dev repositories); empty for none."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for name in var.promotion_source_repositories : !can(regex("\\*", name))])
    error_message = "promotion_source_repositories must be concrete repository names (no wildcards)."
  }
}

variable "state_bucket_name" {
  description = "The Terraform state bucket; null means the state root's default cloud-design-tfstate-<account>."
  type        = string
  default     = null
}

variable "state_key" {
  description = "Object key of this environment's state in the bucket (backend.hcl key)."
  type        = string
}

variable "hosted_zone_ids" {
  description = "IDs of this environment's Route 53 hosted zones whose records the plan role reads (the private zone)."
  type        = list(string)
}

variable "bucket_arns" {
  description = "ARNs of this environment's S3 buckets whose configuration the plan role reads (not their objects)."
  type        = list(string)
}

variable "kms_key_arn" {
  description = "ARN of the environment's KMS key: the plan role describes it and decrypts SSM and Secrets Manager values through those services."
  type        = string
}

variable "secrets_prefix" {
  description = "Secrets Manager name prefix of the environment's secrets, e.g. cloud-design/dev."
  type        = string
}

variable "ssm_prefix" {
  description = "SSM parameter path prefix of the environment, e.g. /cloud-design/dev."
  type        = string

  validation {
    condition     = startswith(var.ssm_prefix, "/")
    error_message = "ssm_prefix must start with /."
  }
}

variable "max_session_duration" {
  description = "Longest session in seconds a job gets from either role (IAM allows 3600 to 43200)."
  type        = number
  default     = 3600
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
