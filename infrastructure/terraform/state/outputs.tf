output "state_bucket" {
  description = "Name of the state bucket; pass it to terraform init as -backend-config=\"bucket=<name>\"."
  value       = aws_s3_bucket.state.id
}

output "region" {
  description = "Region of the state bucket."
  value       = var.region
}
