variable "name" {
  description = "Name prefix of the security groups, e.g. cloud-design-dev."
  type        = string
}

variable "vpc_id" {
  description = "ID of the VPC the groups belong to."
  type        = string
}

variable "admin_cidr" {
  description = "IPv4 CIDR allowed to reach the Kubernetes API on 6443 (the operators' address; the env root validates it)."
  type        = string
}

variable "node_ports" {
  description = "NodePorts the ALB forwards to, by workload name."
  type        = map(number)

  validation {
    condition     = alltrue([for port in values(var.node_ports) : port >= 30000 && port <= 32767])
    error_message = "NodePorts must lie in the Kubernetes NodePort range 30000-32767."
  }
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
