output "secret_arns" {
  description = "Secret ARN by short name, the names of var.secrets (contract.yaml's: every <user>-db, rabbitmq, argocd-gitlab-webhook)."
  value = merge(
    { for name, secret in aws_secretsmanager_secret.database : name => secret.arn },
    { rabbitmq = aws_secretsmanager_secret.rabbitmq.arn },
    { "argocd-gitlab-webhook" = aws_secretsmanager_secret.argocd_gitlab_webhook.arn },
  )
}

output "secret_names" {
  description = "Secret name (<prefix>/<short name>) by short name, the names of var.secrets (contract.yaml's: every <user>-db, rabbitmq, argocd-gitlab-webhook)."
  value = merge(
    { for name, secret in aws_secretsmanager_secret.database : name => secret.name },
    { rabbitmq = aws_secretsmanager_secret.rabbitmq.name },
    { "argocd-gitlab-webhook" = aws_secretsmanager_secret.argocd_gitlab_webhook.name },
  )
}
