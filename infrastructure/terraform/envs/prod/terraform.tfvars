# prod: Multi-AZ database, deletion protection and final snapshot, longer log retention.
region                  = "eu-west-1"
environment             = "prod"
master_instance_type    = "t3.medium"
worker_instance_type    = "t3.small"
worker_count            = 2
db_instance_class       = "db.t3.micro"
db_allocated_storage_gb = 20
db_multi_az             = true
deletion_protection     = true
log_retention_days      = 90
# admin_cidr is never committed: each operator passes their own (cloudctl up, as TF_VAR_admin_cidr).
certificate_arn = null
ecr_keep_images = 50
# No layer cache: prod's images are copied from dev, never built here.
layer_cache = false
# GitLab CI roles: the project path (the same placeholder as clusters/'s repoURL; set yours).
# dev and prod share one account here, so dev's root creates the GitLab OIDC provider and prod
# looks it up (apply dev first); set true when prod has an account of its own.
gitlab_project_path  = "cloud-design/cloud-design"
create_oidc_provider = false
promote_images_from  = "dev"
