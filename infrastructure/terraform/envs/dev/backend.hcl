# terraform init -backend-config=backend.hcl -backend-config="bucket=<state_bucket output of ../../state>"
key          = "envs/dev/terraform.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true
