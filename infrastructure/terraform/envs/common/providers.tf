provider "aws" {
  region = var.region

  default_tags {
    tags = {
      Project     = "cloud-design"
      Environment = var.environment
      ManagedBy   = "terraform"
    }
  }
}
