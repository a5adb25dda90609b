provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project   = "cloud-design"
      ManagedBy = "terraform"
      Purpose   = "terraform-state"
    }
  }
}
