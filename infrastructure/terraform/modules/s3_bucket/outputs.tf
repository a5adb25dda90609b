# Both outputs wait for the bucket policy: consumers such as ALB access logs and VPC flow logs
# check at creation that they may write, which only the policy grants.
output "id" {
  description = "Name of the bucket (available once its policy is in place)."
  value       = aws_s3_bucket.this.id
  depends_on  = [aws_s3_bucket_policy.this]
}

output "arn" {
  description = "ARN of the bucket (available once its policy is in place)."
  value       = aws_s3_bucket.this.arn
  depends_on  = [aws_s3_bucket_policy.this]
}
