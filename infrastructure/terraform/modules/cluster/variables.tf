variable "cluster_name" {
  description = "Name of the cluster, cloud-design-<env>; also the kubeconfig's context name."
  type        = string
}

variable "k3s_version" {
  description = "Pinned K3s release installed on every node (make validate reads the Kubernetes version from this default)."
  type        = string
  default     = "v1.34.1+k3s1"

  validation {
    condition     = can(regex("^v[0-9]+\\.[0-9]+\\.[0-9]+\\+k3s[0-9]+$", var.k3s_version))
    error_message = "k3s_version must be an exact K3s release such as v1.34.1+k3s1."
  }
}

variable "ecr_credential_provider_version" {
  description = "Release of cloud-provider-aws whose ecr-credential-provider binary the kubelet uses (the newest one published to artifacts.k8s.io)."
  type        = string
  default     = "v1.31.7"
}

variable "ami_name" {
  description = "Exact name of the Amazon Linux 2023 AMI (pinned; it ships the AWS CLI and the SSM agent)."
  type        = string
  default     = "al2023-ami-2023.8.20250915.0-kernel-6.1-x86_64"
}

variable "ami_owner" {
  description = "Owner account of the AMI (amazon)."
  type        = string
  default     = "amazon"
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
  description = "Number of K3s workers, spread round-robin over the subnets' availability zones."
  type        = number
  default     = 2

  validation {
    condition     = var.worker_count >= 0 && var.worker_count <= 10
    error_message = "worker_count must be between 0 and 10."
  }
}

variable "root_volume_size_gb" {
  description = "Size in GiB of each node's encrypted gp3 root volume."
  type        = number
  default     = 30
}

variable "subnet_ids" {
  description = "Public subnet IDs in different AZs; the master takes the first, workers go round-robin."
  type        = list(string)
}

variable "security_group_id" {
  description = "Security group of the nodes."
  type        = string
}

variable "master_instance_profile" {
  description = "Instance profile name of the master."
  type        = string
}

variable "worker_instance_profile" {
  description = "Instance profile name of the workers."
  type        = string
}

variable "token_parameter_name" {
  description = "SSM SecureString holding the K3s token, /cloud-design/<env>/k3s-token."
  type        = string
}

variable "token_version" {
  description = "Version of the generated K3s join token; raising it stores a new token on the next apply (nodes that boot afterwards read it)."
  type        = number
  default     = 1
}

variable "kubeconfig_parameter_name" {
  description = "SSM SecureString the master publishes the kubeconfig to, /cloud-design/<env>/kubeconfig."
  type        = string
}

variable "kubeconfig_placeholder" {
  description = "Value of the kubeconfig parameter until the master publishes the real one (the bootstrap CLI waits for it to change)."
  type        = string
  default     = "pending"
}

variable "k3s_log_group_name" {
  description = "CloudWatch log group the nodes ship their bootstrap (cloud-init) log to."
  type        = string
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the SSM parameters."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
