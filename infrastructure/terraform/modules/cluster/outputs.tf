output "cluster_name" {
  description = "Name of the cluster (the kubeconfig's context name)."
  value       = var.cluster_name
}

output "k3s_version" {
  description = "K3s release installed on the nodes."
  value       = var.k3s_version
}

output "api_endpoint" {
  description = "Kubernetes API URL reachable from the admin CIDR."
  value       = "https://${aws_eip.master.public_ip}:6443"
}

output "master_public_ip" {
  description = "Elastic IP of the master."
  value       = aws_eip.master.public_ip
}

output "master_private_ip" {
  description = "Private IP of the master (the workers join it)."
  value       = aws_instance.master.private_ip
}

output "master_instance_id" {
  description = "Instance ID of the master (for SSM Session Manager)."
  value       = aws_instance.master.id
}

output "worker_instance_ids" {
  description = "Instance IDs of the workers."
  value       = aws_instance.worker[*].id
}

output "node_instance_ids" {
  description = "Instance IDs of every node, master first (ALB targets, alarms)."
  value       = concat([aws_instance.master.id], aws_instance.worker[*].id)
}

output "token_parameter_name" {
  description = "SSM parameter holding the K3s token."
  value       = aws_ssm_parameter.k3s_token.name
}

output "kubeconfig_parameter_name" {
  description = "SSM parameter holding the kubeconfig once the master has published it."
  value       = aws_ssm_parameter.kubeconfig.name
}

output "kubeconfig_placeholder" {
  description = "Value the kubeconfig parameter holds until the master has published it."
  value       = var.kubeconfig_placeholder
}
