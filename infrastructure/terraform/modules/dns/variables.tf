variable "name" {
  description = "Name of the environment the zone serves, e.g. cloud-design-dev (comment and Name tag)."
  type        = string
}

variable "zone_name" {
  description = "Name of the private hosted zone; the same in every environment, since each zone is visible only in its own VPC."
  type        = string
  default     = "cloud-design.internal"
}

variable "vpc_id" {
  description = "ID of the VPC the zone is associated with (it needs DNS support and DNS hostnames enabled)."
  type        = string
}

variable "cnames" {
  description = "CNAME records by short name: postgres = <RDS address> makes postgres.<zone_name>."
  type        = map(string)
}

variable "ttl_seconds" {
  description = "TTL of the records: how long a resolver may keep the old target after the record moves."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags added to every resource of this module."
  type        = map(string)
  default     = {}
}
