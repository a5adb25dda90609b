output "dns_name" {
  description = "Public DNS name of the ALB."
  value       = aws_lb.this.dns_name
}

output "arn_suffix" {
  description = "ARN suffix of the ALB (the CloudWatch LoadBalancer dimension)."
  value       = aws_lb.this.arn_suffix
}

output "base_url" {
  description = "URL of the ALB: https when a certificate is given, http otherwise."
  value       = "${local.https ? "https" : "http"}://${aws_lb.this.dns_name}"
}

output "target_group_arn_suffixes" {
  description = "ARN suffix of each target group by route name (the CloudWatch TargetGroup dimension)."
  value       = { for name, group in aws_lb_target_group.this : name => group.arn_suffix }
}
