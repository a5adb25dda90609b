# Application credentials in Secrets Manager under cloud-design/<env>/, with the JSON keys the
# GitOps tree's ExternalSecrets read. Passwords are alphanumeric so they stay URL-safe inside
# DATABASE_URL and AMQP_URL.
resource "random_password" "database" {
  for_each = toset(var.database_users)
  length   = 32
  special  = false
}

resource "aws_secretsmanager_secret" "database" {
  #checkov:skip=CKV2_AWS_57:Rotation needs a Lambda that also re-runs common.provision; rotate by tainting random_password.database and re-applying.
  for_each                = toset(var.database_users)
  name                    = "${var.name_prefix}/${each.key}-db"
  description             = "PostgreSQL login of the ${each.key} service"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "database" {
  for_each  = toset(var.database_users)
  secret_id = aws_secretsmanager_secret.database[each.key].id
  secret_string = jsonencode({
    username = each.key
    password = random_password.database[each.key].result
  })
}

resource "random_password" "rabbitmq" {
  length  = 32
  special = false
}

resource "random_password" "erlang_cookie" {
  length  = 64
  special = false
}

resource "aws_secretsmanager_secret" "rabbitmq" {
  #checkov:skip=CKV2_AWS_57:RabbitMQ reads its user from this secret only at first start; rotate by tainting random_password.rabbitmq and restarting it.
  name                    = "${var.name_prefix}/rabbitmq"
  description             = "RabbitMQ user and Erlang cookie"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "rabbitmq" {
  secret_id = aws_secretsmanager_secret.rabbitmq.id
  secret_string = jsonencode({
    username      = var.rabbitmq_username
    password      = random_password.rabbitmq.result
    erlang_cookie = random_password.erlang_cookie.result
  })
}

# The GitLab webhook token Argo CD checks (argocd-secret's webhook.gitlab.secret, written there by
# the ExternalSecret in base/argocd-gitlab-webhook); an admin pastes the same value into GitLab.
resource "random_password" "argocd_gitlab_webhook" {
  length  = 40
  special = false
}

resource "aws_secretsmanager_secret" "argocd_gitlab_webhook" {
  #checkov:skip=CKV2_AWS_57:GitLab holds a copy that only an admin can update; rotate by tainting random_password.argocd_gitlab_webhook, re-applying and pasting the new value into GitLab.
  name                    = "${var.name_prefix}/argocd-gitlab-webhook"
  description             = "Secret token of the GitLab webhook that tells Argo CD about pushes"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "argocd_gitlab_webhook" {
  secret_id = aws_secretsmanager_secret.argocd_gitlab_webhook.id
  secret_string = jsonencode({
    secret = random_password.argocd_gitlab_webhook.result
  })
}
