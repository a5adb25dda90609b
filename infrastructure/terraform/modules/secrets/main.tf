# Application credentials in Secrets Manager under cloud-design/<env>/, with the JSON keys the
# GitOps tree's ExternalSecrets read.
#
# Which secrets and keys: var.secrets, contract.yaml's `secrets:` (the env root passes them, less
# rds-master, which the database module writes with the instance). A value needs a generator, so
# this module holds one per kind it can produce, and variables.tf refuses at plan a contract that
# names a secret or key without a generator, or leaves out one this module writes:
#   <user>-db              username (= <user>, the login role owning database <user>), password;
#                          any number of them: a new <user>-db in the contract is a new secret;
#   rabbitmq               username (var.rabbitmq_username), password, erlang_cookie;
#   argocd-gitlab-webhook  secret.
#
# No secret value reaches the Terraform state: Secrets Manager itself generates each value
# (ephemeral aws_secretsmanager_random_password, i.e. GetRandomPassword, on every plan and apply)
# and Terraform hands it over once through the write-only secret_string_wo. The provider sends
# secret_string_wo only when secret_string_wo_version changes, so re-applying keeps the stored
# value; bumping an entry of var.secret_versions is the rotation (docs/runbooks/disaster-recovery.md).
# Values are alphanumeric so they stay URL-safe inside DATABASE_URL and AMQP_URL.
locals {
  # The JSON keys each generator below writes: var.secrets must list exactly these (variables.tf).
  database_secret_pattern = "^[a-z][a-z0-9_]*-db$"
  database_keys           = ["username", "password"]
  generated_keys = {
    rabbitmq                = ["username", "password", "erlang_cookie"]
    "argocd-gitlab-webhook" = ["secret"]
  }
  # The database logins by secret name: <user>-db => <user>.
  database_secrets = {
    for name in keys(var.secrets) : name => trimsuffix(name, "-db") if can(regex(local.database_secret_pattern, name))
  }
  # Every secret of this module by short name; the short name is also its key in secret_versions.
  versions = { for name in keys(var.secrets) : name => lookup(var.secret_versions, name, 1) }
}

ephemeral "aws_secretsmanager_random_password" "database" {
  for_each            = local.database_secrets
  password_length     = 32
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "database" {
  #checkov:skip=CKV2_AWS_57:Rotation needs a Lambda that also re-runs common.provision; rotate by bumping secret_versions and re-applying.
  for_each                = local.database_secrets
  name                    = "${var.name_prefix}/${each.key}"
  description             = "PostgreSQL login of the ${each.value} service"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "database" {
  for_each  = local.database_secrets
  secret_id = aws_secretsmanager_secret.database[each.key].id
  secret_string_wo = jsonencode({
    username = each.value
    password = ephemeral.aws_secretsmanager_random_password.database[each.key].random_password
  })
  secret_string_wo_version = local.versions[each.key]
}

ephemeral "aws_secretsmanager_random_password" "rabbitmq" {
  password_length     = 32
  exclude_punctuation = true
}

ephemeral "aws_secretsmanager_random_password" "erlang_cookie" {
  password_length     = 64
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "rabbitmq" {
  #checkov:skip=CKV2_AWS_57:RabbitMQ reads its user from this secret only at first start; rotate by bumping secret_versions and restarting it.
  name                    = "${var.name_prefix}/rabbitmq"
  description             = "RabbitMQ user and Erlang cookie"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "rabbitmq" {
  secret_id = aws_secretsmanager_secret.rabbitmq.id
  secret_string_wo = jsonencode({
    username      = var.rabbitmq_username
    password      = ephemeral.aws_secretsmanager_random_password.rabbitmq.random_password
    erlang_cookie = ephemeral.aws_secretsmanager_random_password.erlang_cookie.random_password
  })
  secret_string_wo_version = local.versions["rabbitmq"]
}

# The GitLab webhook token Argo CD checks (argocd-secret's webhook.gitlab.secret, written there by
# the ExternalSecret in base/argocd-gitlab-webhook); an admin pastes the same value into GitLab.
ephemeral "aws_secretsmanager_random_password" "argocd_gitlab_webhook" {
  password_length     = 40
  exclude_punctuation = true
}

resource "aws_secretsmanager_secret" "argocd_gitlab_webhook" {
  #checkov:skip=CKV2_AWS_57:GitLab holds a copy that only an admin can update; rotate by bumping secret_versions, re-applying and pasting the new value into GitLab.
  name                    = "${var.name_prefix}/argocd-gitlab-webhook"
  description             = "Secret token of the GitLab webhook that tells Argo CD about pushes"
  kms_key_id              = var.kms_key_arn
  recovery_window_in_days = var.recovery_window_in_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "argocd_gitlab_webhook" {
  secret_id = aws_secretsmanager_secret.argocd_gitlab_webhook.id
  secret_string_wo = jsonencode({
    secret = ephemeral.aws_secretsmanager_random_password.argocd_gitlab_webhook.random_password
  })
  secret_string_wo_version = local.versions["argocd-gitlab-webhook"]
}
