# RDS PostgreSQL in the private subnets. RDS keeps the master password in Secrets Manager; the
# application roles and databases (inventory, billing) are created by `python -m common.provision`.
resource "aws_db_subnet_group" "this" {
  name        = var.identifier
  description = "Private subnets of ${var.identifier}"
  subnet_ids  = var.subnet_ids
  tags        = var.tags
}

resource "aws_db_parameter_group" "this" {
  name        = "${var.identifier}-postgres${var.engine_major_version}"
  family      = "postgres${var.engine_major_version}"
  description = "TLS-only connections and slow-query logging for ${var.identifier}"

  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  parameter {
    name  = "log_statement"
    value = "ddl"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = tostring(var.slow_query_log_ms)
  }

  tags = var.tags
}

# RDS writes its exported logs to this fixed name; creating the group first sets its retention
# and key instead of leaving an unbounded group behind.
resource "aws_cloudwatch_log_group" "exports" {
  #checkov:skip=CKV_AWS_338:Retention is an environment setting (log_retention_days); a year of database logs is not needed here.
  for_each          = toset(local.log_exports)
  name              = "/aws/rds/instance/${var.identifier}/${each.key}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
  tags              = var.tags
}

locals {
  log_exports = ["postgresql", "upgrade"]
}

resource "aws_db_instance" "this" {
  #checkov:skip=CKV_AWS_118:The basic RDS metrics (CPU, storage, connections) feed the dashboard and alarms; OS-level enhanced monitoring is not needed at db.t3.micro.
  #checkov:skip=CKV_AWS_353:Performance Insights is not needed at this size; slow queries are logged instead (log_min_duration_statement).
  #checkov:skip=CKV_AWS_354:Performance Insights is not enabled (see CKV_AWS_353), so it has nothing to encrypt.
  #checkov:skip=CKV_AWS_157:Multi-AZ is an environment setting: off in dev to save cost, on in prod (db_multi_az).
  #checkov:skip=CKV_AWS_293:Deletion protection is an environment setting: on in prod, off in dev so it can be torn down (deletion_protection).
  identifier     = var.identifier
  engine         = "postgres"
  engine_version = var.engine_major_version
  instance_class = var.instance_class

  allocated_storage = var.allocated_storage_gb
  storage_type      = "gp3"
  storage_encrypted = true
  kms_key_id        = var.kms_key_arn

  username                      = var.master_username
  manage_master_user_password   = true
  master_user_secret_kms_key_id = var.kms_key_arn
  # IAM authentication is available to operators in addition to the managed master password.
  iam_database_authentication_enabled = true

  db_subnet_group_name   = aws_db_subnet_group.this.name
  parameter_group_name   = aws_db_parameter_group.this.name
  vpc_security_group_ids = [var.security_group_id]
  publicly_accessible    = false
  multi_az               = var.multi_az

  backup_retention_period    = var.backup_retention_days
  backup_window              = "02:00-03:00"
  maintenance_window         = "sun:03:30-sun:04:30"
  auto_minor_version_upgrade = true
  copy_tags_to_snapshot      = true

  enabled_cloudwatch_logs_exports = local.log_exports

  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = !var.deletion_protection
  final_snapshot_identifier = var.deletion_protection ? "${var.identifier}-final" : null

  tags       = merge(var.tags, { Name = var.identifier })
  depends_on = [aws_cloudwatch_log_group.exports]
}
