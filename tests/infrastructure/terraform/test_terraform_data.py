"""database, secrets, registry, storage and the state bucket: the facts the modules fix."""

from __future__ import annotations

import re

import pytest
from terraform_hcl import (
    TERRAFORM,
    data_sources,
    ephemeral_resources,
    labelled,
    module_dir,
    resources,
    tfvars,
    variable_default,
)

DATABASE = module_dir("database")
SECRETS = module_dir("secrets")
REGISTRY = module_dir("registry")
STORAGE = module_dir("storage")
STATE = TERRAFORM / "state"
COMMON = TERRAFORM / "envs" / "common"


# --- database -----------------------------------------------------------------------------------
def test_rds_postgres_15_small_encrypted_private():
    db = resources(DATABASE, "aws_db_instance")["this"]
    assert db["engine"] == "postgres"
    assert variable_default("database", "engine_major_version") == "15"
    assert variable_default("database", "instance_class") == "db.t3.micro"
    assert variable_default("database", "allocated_storage_gb") == 20
    assert db["storage_type"] == "gp3"
    assert db["storage_encrypted"] is True
    assert db["publicly_accessible"] is False
    assert "password" not in db
    assert variable_default("database", "backup_retention_days") == 7
    assert db["backup_retention_period"] == "${var.backup_retention_days}"
    assert db["db_subnet_group_name"] == "${aws_db_subnet_group.this.name}"


def test_database_sits_in_the_private_subnets_with_the_contract_identifier():
    call = labelled(COMMON, "module")["database"]
    assert call["subnet_ids"] == "${module.network.private_subnet_ids}"
    assert call["identifier"] == "${local.name}"  # cloud-design-<env>


def test_prod_protects_data_and_dev_stays_disposable():
    db = resources(DATABASE, "aws_db_instance")["this"]
    assert db["deletion_protection"] == "${var.deletion_protection}"
    assert db["skip_final_snapshot"] == "${!var.deletion_protection}"
    assert db["multi_az"] == "${var.multi_az}"
    prod, dev = tfvars("prod"), tfvars("dev")
    assert (prod["db_multi_az"], prod["deletion_protection"]) == (True, True)
    assert (dev["db_multi_az"], dev["deletion_protection"]) == (False, False)
    for env in (prod, dev):
        assert (env["db_instance_class"], env["db_allocated_storage_gb"]) == ("db.t3.micro", 20)


def test_master_login_is_our_named_write_only_secret():
    """cloud-design/<env>/rds-master (username, password): generated once per version, handed to
    the secret and to the instance through write-only attributes, never RDS-managed."""
    db = resources(DATABASE, "aws_db_instance")["this"]
    assert "manage_master_user_password" not in db and "master_user_secret_kms_key_id" not in db
    generated = "${ephemeral.aws_secretsmanager_random_password.master.random_password}"
    assert db["password_wo"] == generated
    assert db["password_wo_version"] == "${var.master_password_version}"
    password = ephemeral_resources(DATABASE, "aws_secretsmanager_random_password")["master"]
    assert password["exclude_punctuation"] is True and password["password_length"] >= 32
    version = resources(DATABASE, "aws_secretsmanager_secret_version")["master"]
    assert "secret_string" not in version
    assert re.findall(r"(\w+) = ", version["secret_string_wo"]) == ["username", "password"]
    assert generated.strip("${}") in version["secret_string_wo"]
    assert version["secret_string_wo_version"] == "${var.master_password_version}"
    assert resources(DATABASE, "aws_secretsmanager_secret")["master"]["name"] == "${var.master_secret_name}"
    call = labelled(COMMON, "module")["database"]
    assert call["master_secret_name"] == "cloud-design/${var.environment}/rds-master"
    assert call["master_password_version"] == '${lookup(var.secret_versions, "rds-master", 1)}'
    assert "rds_master_secret_arn" not in labelled(COMMON, "output")


def test_database_has_a_stable_private_name():
    """postgres.cloud-design.internal in a private zone of the VPC: the cluster names only it."""
    dns = module_dir("dns")
    assert variable_default("dns", "zone_name") == "cloud-design.internal"
    assert variable_default("dns", "ttl_seconds") == 30
    zone = resources(dns, "aws_route53_zone")["this"]
    assert zone["vpc"][0]["vpc_id"] == "${var.vpc_id}"  # a VPC makes the zone private
    record = resources(dns, "aws_route53_record")["cname"]
    assert (record["type"], record["ttl"], record["records"]) == (
        "CNAME",
        "${var.ttl_seconds}",
        ["${each.value}"],
    )
    call = labelled(COMMON, "module")["dns"]
    assert call["vpc_id"] == "${module.network.vpc_id}"
    assert call["cnames"] == {"postgres": "${module.database.endpoint}"}
    assert labelled(COMMON, "output")["database_host"]["value"] == '${module.dns.fqdns["postgres"]}'


def test_tls_is_forced():
    parameters = resources(DATABASE, "aws_db_parameter_group")["this"]["parameter"]
    assert {"name": "rds.force_ssl", "value": "1"} in parameters


# --- secrets ------------------------------------------------------------------------------------
def test_application_secrets_have_the_contract_names_and_keys():
    # Which ones: contract.yaml's (test_terraform_secrets_contract); here, how each is named.
    secrets = resources(SECRETS, "aws_secretsmanager_secret")
    assert secrets["database"]["name"] == "${var.name_prefix}/${each.key}"
    assert secrets["database"]["for_each"] == "${local.database_secrets}"
    assert secrets["rabbitmq"]["name"] == "${var.name_prefix}/rabbitmq"
    assert labelled(COMMON, "module")["secrets"]["name_prefix"] == "cloud-design/${var.environment}"
    versions = resources(SECRETS, "aws_secretsmanager_secret_version")
    database_keys = re.findall(r"(\w+) = ", versions["database"]["secret_string_wo"])
    rabbitmq_keys = re.findall(r"(\w+) = ", versions["rabbitmq"]["secret_string_wo"])
    assert database_keys == ["username", "password"]
    assert rabbitmq_keys == ["username", "password", "erlang_cookie"]


def test_generated_passwords_are_url_safe():
    passwords = ephemeral_resources(SECRETS, "aws_secretsmanager_random_password")
    assert set(passwords) == {"database", "rabbitmq", "erlang_cookie", "argocd_gitlab_webhook"}
    for password in passwords.values():
        assert password["exclude_punctuation"] is True  # alphanumeric only: safe inside DATABASE_URL/AMQP_URL
        assert password["password_length"] >= 32


def test_secret_values_are_write_only_and_versioned():
    """No secret value in the state: only write-only attributes carry them, each with its version."""
    for name, version in resources(SECRETS, "aws_secretsmanager_secret_version").items():
        assert "secret_string" not in version, name
        assert "ephemeral.aws_secretsmanager_random_password." in version["secret_string_wo"], name
        assert version["secret_string_wo_version"].startswith("${local.versions["), name


# --- registry -----------------------------------------------------------------------------------
def test_ecr_repositories_immutable_scanned_and_trimmed():
    # No list of its own: the env root passes contract.yaml's images (test_terraform_edge).
    assert "default" not in labelled(REGISTRY, "variable")["repository_names"]
    assert labelled(COMMON, "module")["registry"]["name_prefix"] == "cloud-design/${var.environment}"
    repo = resources(REGISTRY, "aws_ecr_repository")["this"]
    assert repo["name"] == "${var.name_prefix}/${each.key}"
    assert repo["image_tag_mutability"] == "IMMUTABLE"
    assert repo["image_scanning_configuration"][0]["scan_on_push"] is True
    policy = resources(REGISTRY, "aws_ecr_lifecycle_policy")["this"]["policy"]
    assert 'countType = "imageCountMoreThan"' in policy and "countNumber = var.keep_images" in policy
    assert tfvars("dev")["ecr_keep_images"] >= 1 and tfvars("prod")["ecr_keep_images"] >= 1


# --- storage ------------------------------------------------------------------------------------
BUCKET = module_dir("s3_bucket")


def bucket_call(name):
    return labelled(STORAGE, "module")[name]


def test_logs_lifecycle_ia_30_glacier_90_expire_180():
    assert variable_default("storage", "logs_infrequent_access_after_days") == 30
    assert variable_default("storage", "logs_glacier_after_days") == 90
    assert variable_default("storage", "logs_expire_after_days") == 180
    rule = bucket_call("logs")["lifecycle_rule"]
    assert rule["transitions"] == [
        {"days": "${var.logs_infrequent_access_after_days}", "storage_class": "STANDARD_IA"},
        {"days": "${var.logs_glacier_after_days}", "storage_class": "GLACIER"},
    ]
    assert rule["expiration_days"] == "${var.logs_expire_after_days}"


def test_backups_kept_365_days_and_access_logged():
    assert variable_default("storage", "backups_expire_after_days") == 365
    call = bucket_call("backups")
    assert call["lifecycle_rule"]["expiration_days"] == "${var.backups_expire_after_days}"
    assert call["lifecycle_rule"]["noncurrent_expiration_days"] == "${var.backups_expire_after_days}"
    assert call["access_log_target"] == {"bucket": "${module.logs.id}", "prefix": "s3-access/backups/"}
    assert call["kms_key_arn"] == "${var.kms_key_arn}"


def test_only_the_logs_bucket_uses_sse_s3():
    """ALB access logs cannot be written to SSE-KMS; every other bucket uses aws:kms."""
    assert variable_default("s3_bucket", "sse_algorithm") == "aws:kms"
    assert bucket_call("logs")["sse_algorithm"] == "AES256"
    assert "sse_algorithm" not in bucket_call("backups")


def test_bucket_lifecycle_module_applies_the_rule():
    rule = resources(BUCKET, "aws_s3_bucket_lifecycle_configuration")["this"]["rule"][0]
    assert rule["status"] == "Enabled"
    assert rule["dynamic"][0]["transition"]["for_each"] == "${var.lifecycle_rule.transitions}"
    assert rule["noncurrent_version_expiration"][0]["noncurrent_days"] == (
        "${var.lifecycle_rule.noncurrent_expiration_days}"
    )


@pytest.mark.parametrize("directory, name", [(BUCKET, "this"), (STATE, "state")])
def test_buckets_encrypted_versioned_private_tls_only(directory, name):
    assert resources(directory, "aws_s3_bucket_versioning")[name]["versioning_configuration"][0][
        "status"
    ] == ("Enabled")
    sse = resources(directory, "aws_s3_bucket_server_side_encryption_configuration")[name]["rule"][0]
    assert sse["apply_server_side_encryption_by_default"][0]["sse_algorithm"] in (
        "${var.sse_algorithm}",
        "aws:kms",
    )
    block = resources(directory, "aws_s3_bucket_public_access_block")[name]
    assert all(
        block[flag] is True
        for flag in (
            "block_public_acls",
            "block_public_policy",
            "ignore_public_acls",
            "restrict_public_buckets",
        )
    )
    assert resources(directory, "aws_s3_bucket_ownership_controls")[name]["rule"][0]["object_ownership"] == (
        "BucketOwnerEnforced"
    )
    statement = data_sources(directory, "aws_iam_policy_document")[name]["statement"][0]
    assert statement["effect"] == "Deny" and statement["actions"] == ["s3:*"]
    assert statement["condition"][0] == {
        "test": "Bool",
        "variable": "aws:SecureTransport",
        "values": ["false"],
    }


def test_state_bucket_keeps_old_versions_90_days_and_survives_destroy():
    assert labelled(STATE, "variable")["noncurrent_version_expire_after_days"]["default"] == 90
    rule = resources(STATE, "aws_s3_bucket_lifecycle_configuration")["state"]["rule"][0]
    assert (
        rule["noncurrent_version_expiration"][0]["noncurrent_days"]
        == "${var.noncurrent_version_expire_after_days}"
    )
    assert resources(STATE, "aws_s3_bucket")["state"]["lifecycle"][0]["prevent_destroy"] is True
    assert "state_bucket" in labelled(STATE, "output")


def test_bucket_outputs_wait_for_the_policy():
    """The ALB and the flow logs check write access when created; the policy must exist first."""
    for output in labelled(BUCKET, "output").values():
        assert output["depends_on"] == ["${aws_s3_bucket_policy.this}"]
