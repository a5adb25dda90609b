output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "CIDR block of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "availability_zones" {
  description = "Availability zones of the subnets, in subnet order."
  value       = local.azs
}

output "public_subnet_ids" {
  description = "IDs of the public subnets, in availability-zone order."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, in availability-zone order."
  value       = aws_subnet.private[*].id
}
