# The values the bootstrap CLI reads from envs/<env>/terraform.tfvars (docs/contract.md).
variable "region" {
  description = "AWS region of the environment."
  type        = string
  default     = "eu-west-1"
}

variable "environment" {
  description = "Environment name; part of every resource name (cloud-design-<env>)."
  type        = string

  validation {
    condition     = contains(["dev", "prod"], var.environment)
    error_message = "environment must be dev or prod."
  }
}

variable "master_instance_type" {
  description = "EC2 instance type of the K3s master."
  type        = string
  default     = "t3.medium"
}

variable "worker_instance_type" {
  description = "EC2 instance type of the K3s workers."
  type        = string
  default     = "t3.small"
}

variable "worker_count" {
  description = "Number of K3s workers (spread over two availability zones)."
  type        = number
  default     = 2
}

variable "db_instance_class" {
  description = "RDS PostgreSQL instance class."
  type        = string
  default     = "db.t3.micro"
}

variable "db_allocated_storage_gb" {
  description = "RDS gp3 storage in GiB."
  type        = number
  default     = 20
}

variable "db_multi_az" {
  description = "Run RDS with a Multi-AZ standby (prod)."
  type        = bool
  default     = false
}

variable "deletion_protection" {
  description = "Protect data from terraform destroy: RDS deletion protection and final snapshot, ALB deletion protection, non-empty buckets and repositories kept, 7-day secret recovery (prod)."
  type        = bool
  default     = false
}

variable "log_retention_days" {
  description = "Retention in days of the CloudWatch log groups (a value CloudWatch accepts, e.g. 7, 14, 30, 90)."
  type        = number
  default     = 14

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of the retention periods CloudWatch Logs accepts."
  }
}

# No default and never in terraform.tfvars: each operator passes their own address
# (cloudctl up --admin-cidr, i.e. TF_VAR_admin_cidr). The checks refuse what would reach nobody or everybody.
variable "admin_cidr" {
  description = "IPv4 CIDR allowed to reach the Kubernetes API (6443) and Argo CD (/argocd on the ALB), e.g. your address as a /32."
  type        = string

  validation {
    condition     = can(regex("^[0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}$", var.admin_cidr)) && can(cidrhost(var.admin_cidr, 0))
    error_message = "admin_cidr must be an IPv4 CIDR such as 198.18.0.10/32 (your address: curl -s https://checkip.amazonaws.com, plus /32)."
  }

  validation {
    condition     = !can(regex("/0+$", var.admin_cidr))
    error_message = "admin_cidr must not be 0.0.0.0/0 or ::/0, which would open the Kubernetes API and Argo CD to the whole internet."
  }

  validation {
    # A CIDR inside a documentation range (RFC 5737): its /24 network is that range's.
    condition = !anytrue([
      for documentation in ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"] :
      try(tonumber(split("/", var.admin_cidr)[1]) >= 24 && cidrhost("${cidrhost(var.admin_cidr, 0)}/24", 0) == cidrhost(documentation, 0), false)
    ])
    error_message = "admin_cidr lies in a documentation range (192.0.2.0/24, 198.51.100.0/24 or 203.0.113.0/24) that reaches nobody: pass your own address."
  }
}

variable "certificate_arn" {
  description = "ACM certificate ARN for HTTPS on the ALB; null serves HTTP only."
  type        = string
  default     = null

  validation {
    condition     = var.certificate_arn == null || can(regex("^arn:aws[a-z-]*:acm:", var.certificate_arn))
    error_message = "certificate_arn must be null or an ACM certificate ARN."
  }
}

variable "ecr_keep_images" {
  description = "Number of most recent images each ECR repository keeps."
  type        = number
  default     = 30
}

variable "layer_cache" {
  description = "Create the ECR repositories cloud-design/<env>/<image>/cache that the CI build jobs push buildah's layer cache to (dev, where images are built; prod is only copied into)."
  type        = bool
  default     = false

  validation {
    condition     = !var.layer_cache || var.environment == "dev"
    error_message = "layer_cache is for dev only: the CI build jobs build and push there, and prod's images are copied from dev, never built."
  }
}

variable "alarm_email" {
  description = "E-mail address subscribed to the alarm topic; null leaves the topic without subscribers."
  type        = string
  default     = null
}

# --- GitLab CI access (modules/ci_oidc) ---------------------------------------------------------
variable "gitlab_url" {
  description = "URL of the GitLab instance whose CI id_tokens the CI roles trust."
  type        = string
  default     = "https://gitlab.com"
}

variable "gitlab_project_path" {
  description = "GitLab project path (<group>/<project>) whose pipelines may assume the CI roles."
  type        = string
}

variable "gitlab_deploy_branch" {
  description = "The branch whose pipelines may push images (GitLab's default branch)."
  type        = string
  default     = "main"
}

variable "create_oidc_provider" {
  description = "Create the account's IAM OIDC provider for gitlab_url here; false when another root (dev, in a shared account) owns it."
  type        = bool
  default     = true
}

variable "promote_images_from" {
  description = "Environment whose ECR repositories (same account and region) the push role may pull from to promote images; null for none."
  type        = string
  default     = null

  validation {
    condition     = var.promote_images_from == null ? true : var.promote_images_from == "dev"
    error_message = "promote_images_from must be null or dev."
  }
}

variable "state_bucket_name" {
  description = "The state bucket the plan role reads; null means the state root's default cloud-design-tfstate-<account>."
  type        = string
  default     = null
}

variable "secret_versions" {
  description = "Version of each generated secret by short name: a secret of contract.yaml's secrets (rds-master among them) or k3s-token (absent means 1). Raise one and apply to store a newly generated value: the rotation (docs/runbooks/disaster-recovery.md)."
  type        = map(number)
  default     = {}

  validation {
    condition     = alltrue([for name in keys(var.secret_versions) : contains(concat(keys(local.secret_keys), ["k3s-token"]), name)])
    error_message = "secret_versions takes k3s-token and the names of contract.yaml's secrets (${join(", ", sort(keys(local.secret_keys)))}); it got ${join(", ", sort([for name in keys(var.secret_versions) : name if !contains(concat(keys(local.secret_keys), ["k3s-token"]), name)]))}."
  }
}
