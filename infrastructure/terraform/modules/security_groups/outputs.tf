output "alb_security_group_id" {
  description = "ID of the ALB's security group."
  value       = aws_security_group.alb.id
}

output "nodes_security_group_id" {
  description = "ID of the K3s nodes' security group."
  value       = aws_security_group.nodes.id
}

output "rds_security_group_id" {
  description = "ID of the RDS instance's security group."
  value       = aws_security_group.rds.id
}
