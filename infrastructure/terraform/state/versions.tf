terraform {
  # Same pins as envs/common/versions.tf. This root keeps its own state locally (it creates the
  # bucket every other root stores its state in); `cloudctl up` runs it first.
  required_version = "1.15.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.100.0"
    }
  }
}
