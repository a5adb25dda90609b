output "secret_arns" {
  description = "Secret ARN by name: inventory-db, billing-db, rabbitmq, argocd-gitlab-webhook."
  value = merge(
    { for name, secret in aws_secretsmanager_secret.database : name => secret.arn },
    { rabbitmq = aws_secretsmanager_secret.rabbitmq.arn },
    { "argocd-gitlab-webhook" = aws_secretsmanager_secret.argocd_gitlab_webhook.arn },
  )
}

output "secret_names" {
  description = "Secret name by short name: inventory-db, billing-db, rabbitmq, argocd-gitlab-webhook."
  value = merge(
    { for name, secret in aws_secretsmanager_secret.database : name => secret.name },
    { rabbitmq = aws_secretsmanager_secret.rabbitmq.name },
    { "argocd-gitlab-webhook" = aws_secretsmanager_secret.argocd_gitlab_webhook.name },
  )
}
