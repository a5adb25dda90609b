output "zone_id" {
  description = "ID of the private hosted zone."
  value       = aws_route53_zone.this.zone_id
}

output "fqdns" {
  description = "Fully qualified name of each CNAME by short name (postgres = postgres.cloud-design.internal)."
  value       = { for key, record in aws_route53_record.cname : key => record.fqdn }
}
