# The root every environment shares: envs/dev and envs/prod link these files and differ only in
# terraform.tfvars and backend.hcl. Names come from docs/contract.md ("AWS names").
locals {
  name       = "cloud-design-${var.environment}"
  ssm_prefix = "/cloud-design/${var.environment}"
  # The workload contract (contract.yaml at the repository root; envs/<env> link this file, so
  # path.module is envs/<env>): the ALB path rules to the K3s NodePorts and the ECR repositories.
  # The GitOps tree's Services carry the same NodePorts, checked against it by `make validate`.
  contract = yamldecode(file("${path.module}/../../../../contract.yaml"))
  routes = merge(
    {
      for name, workload in local.contract.workloads :
      name => merge(workload.route, { node_port = workload.node_port }) if workload.route != null
    },
    # Argo CD carries the admin login: only admin_cidr reaches it through the ALB (README, "Argo CD").
    {
      for name, service in local.contract.platform :
      name => merge(service.route, { node_port = service.node_port })
    },
  )
  images = distinct([for workload in local.contract.workloads : workload.image])
  # The Secrets Manager secrets cloud-design/<env>/<name> and their JSON keys: the database module
  # writes rds-master with the instance, the secrets module every other (each refuses at plan a
  # contract naming what it cannot generate).
  secret_keys = { for name, secret in local.contract.secrets : name => secret.keys }
  node_names  = concat(["master"], [for index in range(var.worker_count) : "worker-${index}"])
  # Data survives `terraform destroy` only where deletion protection is on (prod).
  disposable = !var.deletion_protection
}

module "kms" {
  source = "../../modules/kms"
  name   = local.name
}

module "storage" {
  source        = "../../modules/storage"
  name          = local.name
  kms_key_arn   = module.kms.key_arn
  force_destroy = local.disposable
}

module "network" {
  source              = "../../modules/network"
  name                = local.name
  flow_log_bucket_arn = module.storage.logs_bucket_arn
}

module "security_groups" {
  source     = "../../modules/security_groups"
  name       = local.name
  vpc_id     = module.network.vpc_id
  admin_cidr = var.admin_cidr
  node_ports = { for name, route in local.routes : name => route.node_port }
}

module "registry" {
  source           = "../../modules/registry"
  name_prefix      = "cloud-design/${var.environment}"
  repository_names = local.images
  keep_images      = var.ecr_keep_images
  layer_cache      = var.layer_cache
  kms_key_arn      = module.kms.key_arn
  force_delete     = local.disposable
}

module "secrets" {
  source                  = "../../modules/secrets"
  name_prefix             = "cloud-design/${var.environment}"
  secrets                 = { for name, keys in local.secret_keys : name => keys if name != "rds-master" }
  kms_key_arn             = module.kms.key_arn
  recovery_window_in_days = local.disposable ? 0 : 7
  secret_versions         = var.secret_versions
}

module "database" {
  source                         = "../../modules/database"
  identifier                     = local.name
  subnet_ids                     = module.network.private_subnet_ids
  security_group_id              = module.security_groups.rds_security_group_id
  instance_class                 = var.db_instance_class
  allocated_storage_gb           = var.db_allocated_storage_gb
  multi_az                       = var.db_multi_az
  deletion_protection            = var.deletion_protection
  log_retention_days             = var.log_retention_days
  kms_key_arn                    = module.kms.key_arn
  master_secret_name             = "cloud-design/${var.environment}/rds-master"
  master_secret_keys             = lookup(local.secret_keys, "rds-master", null)
  master_password_version        = lookup(var.secret_versions, "rds-master", 1)
  secret_recovery_window_in_days = local.disposable ? 0 : 7
}

# postgres.cloud-design.internal -> the RDS address, inside this VPC only: the cluster's Service
# `postgres` names it, so no endpoint is ever copied into git.
module "dns" {
  source = "../../modules/dns"
  name   = local.name
  vpc_id = module.network.vpc_id
  cnames = { postgres = module.database.endpoint }
}

module "iam" {
  source                    = "../../modules/iam"
  name                      = local.name
  ecr_repository_arns       = values(module.registry.repository_arns)
  log_group_arns            = values(module.monitoring.log_group_arns)
  token_parameter_name      = "${local.ssm_prefix}/k3s-token"
  kubeconfig_parameter_name = "${local.ssm_prefix}/kubeconfig"
  secrets_prefix            = "cloud-design/${var.environment}"
  kms_key_arn               = module.kms.key_arn
}

module "cluster" {
  source                    = "../../modules/cluster"
  cluster_name              = local.name
  master_instance_type      = var.master_instance_type
  worker_instance_type      = var.worker_instance_type
  worker_count              = var.worker_count
  subnet_ids                = module.network.public_subnet_ids
  security_group_id         = module.security_groups.nodes_security_group_id
  master_instance_profile   = module.iam.master_instance_profile_name
  worker_instance_profile   = module.iam.worker_instance_profile_name
  token_parameter_name      = "${local.ssm_prefix}/k3s-token"
  kubeconfig_parameter_name = "${local.ssm_prefix}/kubeconfig"
  token_version             = lookup(var.secret_versions, "k3s-token", 1)
  k3s_log_group_name        = module.monitoring.log_group_names["k3s"]
  kms_key_arn               = module.kms.key_arn
}

module "load_balancer" {
  source              = "../../modules/load_balancer"
  name                = local.name
  vpc_id              = module.network.vpc_id
  subnet_ids          = module.network.public_subnet_ids
  security_group_id   = module.security_groups.alb_security_group_id
  routes              = local.routes
  target_instance_ids = module.cluster.node_instance_ids
  admin_cidr          = var.admin_cidr
  certificate_arn     = var.certificate_arn
  access_logs_bucket  = module.storage.logs_bucket_id
  deletion_protection = var.deletion_protection
}

module "monitoring" {
  source = "../../modules/monitoring"
  name   = local.name
  # One account can hold both environments, so every group name carries the environment.
  log_groups = {
    applications = "/aws/cloud-design/${var.environment}/applications"
    k3s          = "/aws/cloud-design/${var.environment}/k3s"
  }
  log_retention_days        = var.log_retention_days
  kms_key_arn               = module.kms.key_arn
  alarm_email               = var.alarm_email
  instances                 = zipmap(local.node_names, module.cluster.node_instance_ids)
  alb_arn_suffix            = module.load_balancer.arn_suffix
  target_group_arn_suffixes = module.load_balancer.target_group_arn_suffixes
  rds_identifier            = module.database.identifier
}

# GitLab CI's roles (docs/delivery.md "Credentials"): <name>-ci-plan for terraform plan and drift,
# <name>-ci-push for the build jobs' buildah pushes of images and layer cache (dev) and the
# promotion's skopeo copy dev -> prod (prod).
module "ci_oidc" {
  source               = "../../modules/ci_oidc"
  name                 = local.name
  gitlab_url           = var.gitlab_url
  project_path         = var.gitlab_project_path
  deploy_branch        = var.gitlab_deploy_branch
  create_oidc_provider = var.create_oidc_provider
  # The build jobs read (--cache-from) and write (--cache-to) the layer cache: pull and push there.
  push_repository_arns = concat(values(module.registry.repository_arns), values(module.registry.cache_repository_arns))
  promotion_source_repositories = var.promote_images_from == null ? [] : [
    for image in keys(module.registry.repository_arns) : "cloud-design/${var.promote_images_from}/${image}"
  ]
  state_bucket_name = var.state_bucket_name
  state_key         = "envs/${var.environment}/terraform.tfstate" # backend.hcl's key
  bucket_arns       = [module.storage.logs_bucket_arn, module.storage.backups_bucket_arn]
  hosted_zone_ids   = [module.dns.zone_id]
  kms_key_arn       = module.kms.key_arn
  secrets_prefix    = "cloud-design/${var.environment}"
  ssm_prefix        = local.ssm_prefix
}
