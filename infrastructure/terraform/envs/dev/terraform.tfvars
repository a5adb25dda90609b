# dev: smallest footprint, disposable (no deletion protection, single-AZ database).
region                  = "eu-west-1"
environment             = "dev"
master_instance_type    = "t3.medium"
worker_instance_type    = "t3.small"
worker_count            = 2
db_instance_class       = "db.t3.micro"
db_allocated_storage_gb = 20
db_multi_az             = false
deletion_protection     = false
log_retention_days      = 14
# admin_cidr is never committed: each operator passes their own (cloudctl up, as TF_VAR_admin_cidr).
certificate_arn = null
ecr_keep_images = 30
# buildah's layer cache for the CI build jobs (cloud-design/dev/<image>/cache).
layer_cache = true
# GitLab CI roles: the project path (the same placeholder as clusters/'s repoURL; set yours).
# dev owns the account's GitLab OIDC provider.
gitlab_project_path  = "cloud-design/cloud-design"
create_oidc_provider = true
