# K3s on EC2: one master (server) and workers (agents) spread over the public subnets' AZs.
# Terraform generates the cluster token and keeps it in SSM; cloud-init on each node reads it,
# installs the pinned K3s, and the master publishes its kubeconfig back to SSM.
data "aws_region" "current" {}

data "aws_ami" "node" {
  owners             = [var.ami_owner]
  most_recent        = true
  include_deprecated = true # a pinned name must keep resolving after AWS deprecates it
  filter {
    name   = "name"
    values = [var.ami_name]
  }
  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

resource "random_password" "k3s_token" {
  length  = 48
  special = false
}

resource "aws_ssm_parameter" "k3s_token" {
  name        = var.token_parameter_name
  description = "K3s cluster join token of ${var.cluster_name}"
  type        = "SecureString"
  key_id      = var.kms_key_arn
  value       = random_password.k3s_token.result
  tags        = var.tags
}

# Created empty here so Terraform owns (and destroys) it; the master overwrites the value.
resource "aws_ssm_parameter" "kubeconfig" {
  name        = var.kubeconfig_parameter_name
  description = "Admin kubeconfig of ${var.cluster_name}, published by the master at boot"
  type        = "SecureString"
  tier        = "Advanced" # a K3s kubeconfig with embedded certificates can exceed 4 KB
  key_id      = var.kms_key_arn
  value       = var.kubeconfig_placeholder
  tags        = var.tags

  lifecycle {
    ignore_changes = [value]
  }
}

# A fixed public address for the API, so the kubeconfig and the TLS SANs survive a stop/start.
resource "aws_eip" "master" {
  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.cluster_name}-master" })
}

locals {
  k3s_install_script_url = "https://raw.githubusercontent.com/k3s-io/k3s/${replace(var.k3s_version, "+", "%2B")}/install.sh"
  ecr_credential_provider_url = join("/", [
    "https://artifacts.k8s.io/binaries/cloud-provider-aws",
    var.ecr_credential_provider_version,
    "linux/amd64/ecr-credential-provider-linux-amd64",
  ])
  node_setup = templatefile("${path.module}/templates/node-setup.sh.tftpl", {
    region                      = data.aws_region.current.region
    token_parameter             = aws_ssm_parameter.k3s_token.name
    k3s_log_group               = var.k3s_log_group_name
    ecr_credential_provider_url = local.ecr_credential_provider_url
    k3s_install_script_url      = local.k3s_install_script_url
  })
  metadata_options = {
    http_endpoint = "enabled"
    http_tokens   = "required" # IMDSv2 only
    # 2 hops: pods (one network hop behind the node) use the instance role, e.g. ESO.
    http_put_response_hop_limit = 2
  }
}

resource "aws_instance" "master" {
  #checkov:skip=CKV_AWS_88:No NAT gateway by design; nodes need a public address for egress. Inbound is limited by the nodes security group.
  #checkov:skip=CKV_AWS_126:Basic 5-minute metrics drive the alarms; detailed monitoring costs extra per instance.
  ami                         = data.aws_ami.node.id
  instance_type               = var.master_instance_type
  subnet_id                   = var.subnet_ids[0]
  vpc_security_group_ids      = [var.security_group_id]
  iam_instance_profile        = var.master_instance_profile
  associate_public_ip_address = true
  ebs_optimized               = true
  # cloud-init runs once per instance, so new user data (e.g. a new k3s_version) means a new node.
  user_data_replace_on_change = true
  user_data = templatefile("${path.module}/templates/master.sh.tftpl", {
    cluster_name         = var.cluster_name
    node_setup           = local.node_setup
    k3s_version          = var.k3s_version
    api_address          = aws_eip.master.public_ip
    region               = data.aws_region.current.region
    kubeconfig_parameter = aws_ssm_parameter.kubeconfig.name
    kms_key_arn          = var.kms_key_arn
  })

  metadata_options {
    http_endpoint               = local.metadata_options.http_endpoint
    http_tokens                 = local.metadata_options.http_tokens
    http_put_response_hop_limit = local.metadata_options.http_put_response_hop_limit
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    encrypted             = true
    delete_on_termination = true
  }

  tags        = merge(var.tags, { Name = "${var.cluster_name}-master", "cloud-design/role" = "master" })
  volume_tags = merge(var.tags, { Name = "${var.cluster_name}-master" })
}

resource "aws_eip_association" "master" {
  allocation_id = aws_eip.master.id
  instance_id   = aws_instance.master.id
}

resource "aws_instance" "worker" {
  #checkov:skip=CKV_AWS_88:No NAT gateway by design; nodes need a public address for egress. Inbound is limited by the nodes security group.
  #checkov:skip=CKV_AWS_126:Basic 5-minute metrics drive the alarms; detailed monitoring costs extra per instance.
  count                       = var.worker_count
  ami                         = data.aws_ami.node.id
  instance_type               = var.worker_instance_type
  subnet_id                   = var.subnet_ids[count.index % length(var.subnet_ids)]
  vpc_security_group_ids      = [var.security_group_id]
  iam_instance_profile        = var.worker_instance_profile
  associate_public_ip_address = true
  ebs_optimized               = true
  # A new master (new private IP) means new workers that join it.
  user_data_replace_on_change = true
  user_data = templatefile("${path.module}/templates/worker.sh.tftpl", {
    cluster_name      = var.cluster_name
    node_setup        = local.node_setup
    k3s_version       = var.k3s_version
    master_private_ip = aws_instance.master.private_ip
  })

  metadata_options {
    http_endpoint               = local.metadata_options.http_endpoint
    http_tokens                 = local.metadata_options.http_tokens
    http_put_response_hop_limit = local.metadata_options.http_put_response_hop_limit
  }

  root_block_device {
    volume_type           = "gp3"
    volume_size           = var.root_volume_size_gb
    encrypted             = true
    delete_on_termination = true
  }

  tags        = merge(var.tags, { Name = "${var.cluster_name}-worker-${count.index}", "cloud-design/role" = "worker" })
  volume_tags = merge(var.tags, { Name = "${var.cluster_name}-worker-${count.index}" })
}
