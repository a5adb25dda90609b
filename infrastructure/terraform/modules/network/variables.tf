variable "name" {
  description = "Name prefix of the VPC and its parts, e.g. cloud-design-dev."
  type        = string
}

variable "vpc_cidr" {
  description = "CIDR block of the VPC."
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR block."
  }
}

variable "public_subnet_cidrs" {
  description = "CIDR blocks of the public subnets, one per availability zone (ALB and K3s nodes)."
  type        = list(string)
  default     = ["10.0.0.0/24", "10.0.1.0/24"]

  validation {
    condition     = length(var.public_subnet_cidrs) >= 2
    error_message = "The ALB needs public subnets in at least two availability zones."
  }
}

variable "private_subnet_cidrs" {
  description = "CIDR blocks of the private subnets, one per availability zone (RDS only)."
  type        = list(string)
  default     = ["10.0.10.0/24", "10.0.11.0/24"]

  validation {
    condition     = length(var.private_subnet_cidrs) >= 2
    error_message = "An RDS subnet group needs subnets in at least two availability zones."
  }
}

variable "availability_zone_suffixes" {
  description = "Letters of the availability zones to use in the region, one per subnet pair (a, b: eu-west-1a, eu-west-1b)."
  type        = list(string)
  default     = ["a", "b"]
}

variable "flow_log_bucket_arn" {
  description = "ARN of the S3 bucket that receives the VPC flow logs (under vpc-flow-logs/)."
  type        = string
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
