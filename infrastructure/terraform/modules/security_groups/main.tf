# Three groups: the ALB (open to the internet on 80/443), the K3s nodes (NodePorts from the ALB
# only, the API from the admin CIDR and the nodes, K3s node-to-node traffic) and RDS (5432 from
# the nodes only). No SSH anywhere: operators use SSM Session Manager.
resource "aws_security_group" "alb" {
  #checkov:skip=CKV2_AWS_5:Attached to the ALB in the environment root through this module's outputs.
  name        = "${var.name}-alb"
  description = "Internet-facing ALB of ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-alb" })
}

resource "aws_security_group" "nodes" {
  #checkov:skip=CKV2_AWS_5:Attached to the K3s instances in the environment root through this module's outputs.
  name        = "${var.name}-nodes"
  description = "K3s nodes of ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-nodes" })
}

resource "aws_security_group" "rds" {
  #checkov:skip=CKV2_AWS_5:Attached to the RDS instance in the environment root through this module's outputs.
  name        = "${var.name}-rds"
  description = "RDS PostgreSQL of ${var.name}"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.name}-rds" })
}

# --- ALB --------------------------------------------------------------------------------------
resource "aws_vpc_security_group_ingress_rule" "alb_public" {
  #checkov:skip=CKV_AWS_260:The ALB is the public entry point; HTTP on 80 must be open to everyone (it redirects to 443 when a certificate is set).
  for_each          = toset(["80", "443"])
  security_group_id = aws_security_group.alb.id
  description       = "HTTP(S) from anywhere on port ${each.key}"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = tonumber(each.key)
  to_port           = tonumber(each.key)
}

resource "aws_vpc_security_group_egress_rule" "alb_to_nodes" {
  for_each                     = var.node_ports
  security_group_id            = aws_security_group.alb.id
  description                  = "ALB to the ${each.key} NodePort"
  referenced_security_group_id = aws_security_group.nodes.id
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
}

# --- nodes ------------------------------------------------------------------------------------
resource "aws_vpc_security_group_ingress_rule" "nodes_from_alb" {
  for_each                     = var.node_ports
  security_group_id            = aws_security_group.nodes.id
  description                  = "${each.key} NodePort from the ALB"
  referenced_security_group_id = aws_security_group.alb.id
  ip_protocol                  = "tcp"
  from_port                    = each.value
  to_port                      = each.value
}

resource "aws_vpc_security_group_ingress_rule" "nodes_api_from_admin" {
  security_group_id = aws_security_group.nodes.id
  description       = "Kubernetes API from the administrators"
  cidr_ipv4         = var.admin_cidr
  ip_protocol       = "tcp"
  from_port         = 6443
  to_port           = 6443
}

resource "aws_vpc_security_group_ingress_rule" "nodes_from_nodes" {
  for_each                     = local.node_to_node
  security_group_id            = aws_security_group.nodes.id
  description                  = "${each.key} between K3s nodes"
  referenced_security_group_id = aws_security_group.nodes.id
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.port
  to_port                      = each.value.port
}

resource "aws_vpc_security_group_egress_rule" "nodes_to_nodes" {
  for_each                     = local.node_to_node
  security_group_id            = aws_security_group.nodes.id
  description                  = "${each.key} between K3s nodes"
  referenced_security_group_id = aws_security_group.nodes.id
  ip_protocol                  = each.value.protocol
  from_port                    = each.value.port
  to_port                      = each.value.port
}

# Nodes reach AWS APIs (ECR, SSM, Secrets Manager, CloudWatch), GitHub (K3s, Argo CD's git
# source) and package mirrors over HTTPS only. DNS and NTP go to link-local VPC services that
# security groups do not filter.
resource "aws_vpc_security_group_egress_rule" "nodes_https" {
  security_group_id = aws_security_group.nodes.id
  description       = "HTTPS to AWS APIs, registries and git"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "nodes_to_rds" {
  security_group_id            = aws_security_group.nodes.id
  description                  = "PostgreSQL on RDS"
  referenced_security_group_id = aws_security_group.rds.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

# --- RDS --------------------------------------------------------------------------------------
resource "aws_vpc_security_group_ingress_rule" "rds_from_nodes" {
  security_group_id            = aws_security_group.rds.id
  description                  = "PostgreSQL from the K3s nodes"
  referenced_security_group_id = aws_security_group.nodes.id
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
}

locals {
  # K3s traffic between nodes: API/supervisor, flannel VXLAN, kubelet (metrics-server, logs, exec).
  node_to_node = {
    "k3s-api" = { protocol = "tcp", port = 6443 }
    "flannel" = { protocol = "udp", port = 8472 }
    "kubelet" = { protocol = "tcp", port = 10250 }
  }
}
