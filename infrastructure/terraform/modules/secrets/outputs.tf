output "secret_arns" {
  description = "Secret ARN by name: inventory-db, billing-db, rabbitmq."
  value = merge(
    { for user, secret in aws_secretsmanager_secret.database : "${user}-db" => secret.arn },
    { rabbitmq = aws_secretsmanager_secret.rabbitmq.arn },
  )
}

output "secret_names" {
  description = "Secret name by short name: inventory-db, billing-db, rabbitmq."
  value = merge(
    { for user, secret in aws_secretsmanager_secret.database : "${user}-db" => secret.name },
    { rabbitmq = aws_secretsmanager_secret.rabbitmq.name },
  )
}
