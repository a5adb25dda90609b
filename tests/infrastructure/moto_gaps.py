"""The generated `*_override.tf` files that point a copy of the roots at the emulator.

Terraform merges `*_override.tf` files over a module's own files (Terraform's "override files"),
so these change the temporary copy only: nothing in the real roots or modules changes for the
emulator. Each override below names the moto gap it works around; infrastructure/README.md ("The
emulator run") explains why none of them is a defect of ours.
"""

from __future__ import annotations

import json
from pathlib import Path

import hcl2
from aws_emulator import ENDPOINT_SERVICES, Emulator
from terraform_engine import TERRAFORM_TREE

# The stand-in AMI: moto knows no Amazon Linux 2023 image, so the pinned name is made to exist.
# Its id and owner are moto's; `owner_alias = amazon` is what `owners = ["amazon"]` matches.
STAND_IN_AMI_ID = "ami-0a1b2c3d4e5f60718"


def pinned_ami_name() -> str:
    """The AMI name modules/cluster pins (variable ami_name's default; python-hcl2 keeps quotes)."""
    with (TERRAFORM_TREE / "modules" / "cluster" / "variables.tf").open() as handle:
        variables = hcl2.load(handle)["variable"]
    (default,) = [block['"ami_name"']["default"] for block in variables if '"ami_name"' in block]
    return default.strip('"')


def stand_in_amis(ami_name: str) -> list[dict]:
    """moto gap: it ships no AMI with our pinned name. MOTO_AMIS_PATH gives it this one."""
    return [
        {
            "ami_id": STAND_IN_AMI_ID,
            "name": ami_name,
            "description": "STAND-IN for the pinned Amazon Linux 2023 AMI (moto_gaps.py)",
            "owner_id": "137112412989",
            "owner_alias": "amazon",
            "public": True,
            "state": "available",
            "architecture": "x86_64",
            "image_type": "machine",
            "image_location": f"amazon/{ami_name}",
            "root_device_type": "ebs",
            "root_device_name": "/dev/xvda",
            "virtualization_type": "hvm",
            "hypervisor": "xen",
        }
    ]


def _hcl(value: str) -> str:
    return json.dumps(value)


def provider_override(emulator: Emulator) -> str:
    endpoints = "\n".join(f"    {service} = {_hcl(emulator.url)}" for service in ENDPOINT_SERVICES)
    return (
        "# STAND-IN: every AWS API of this root goes to the moto server on loopback.\n"
        'provider "aws" {\n'
        "  # moto answers S3 on one host name, so buckets go in the path, not the host.\n"
        "  s3_use_path_style = true\n"
        f"  endpoints {{\n{endpoints}\n  }}\n"
        "}\n"
    )


def backend_override(emulator: Emulator) -> str:
    """The S3 backend on moto's S3; key, region and locking still come from backend.hcl."""
    return (
        "# STAND-IN: the S3 backend stores this root's state in moto's S3.\n"
        "terraform {\n"
        '  backend "s3" {\n'
        "    use_path_style = true\n"
        f"    endpoints = {{\n      s3  = {_hcl(emulator.url)}\n      sts = {_hcl(emulator.url)}\n    }}\n"
        "  }\n"
        "}\n"
    )


# moto does not evaluate condition keys such as aws:SecureTransport (it counts every condition as
# met) and ignores the principal of a bucket policy, so the "deny unless TLS" statement denies
# every request, TLS or not, our own state reads and writes included. The statement keeps its
# effect, actions and condition; only its resource becomes a bucket that does not exist. Its
# principal is written {"AWS": "*"}, which AWS reads as "*": moto's put_bucket_logging crashes
# (HTTP 500, retried by the provider for minutes) on a policy statement whose Principal is the
# plain string "*".
NO_SUCH_BUCKET_ARN = "arn:aws:s3:::moto-gap-no-such-bucket"


def tls_policy_override(document: str, keep_sources: bool) -> str:
    sources = (
        "  source_policy_documents = var.extra_policy_json == null ? [] : [var.extra_policy_json]\n"
        if keep_sources
        else ""
    )
    return (
        "# moto gap: aws:SecureTransport is not evaluated, so the TLS-only Deny would deny every\n"
        "# request; it names a bucket that does not exist instead (tests/infrastructure/moto_gaps.py).\n"
        f'data "aws_iam_policy_document" "{document}" {{\n{sources}'
        "  statement {\n"
        '    sid       = "DenyInsecureTransport"\n'
        '    effect    = "Deny"\n'
        '    actions   = ["s3:*"]\n'
        f'    resources = ["{NO_SUCH_BUCKET_ARN}/*"]\n'
        "    principals {\n"
        '      type        = "AWS"\n'
        '      identifiers = ["*"]\n'
        "    }\n"
        "    condition {\n"
        '      test     = "Bool"\n'
        '      variable = "aws:SecureTransport"\n'
        '      values   = ["false"]\n'
        "    }\n"
        "  }\n"
        "}\n"
    )


def state_teardown_override() -> str:
    return (
        "# The test tears down what it made; on AWS, prevent_destroy guards the real state bucket.\n"
        'resource "aws_s3_bucket" "state" {\n'
        "  lifecycle {\n"
        "    prevent_destroy = false\n"
        "  }\n"
        "}\n"
    )


def flow_log_override() -> str:
    return (
        "# moto gap: it reads an S3 flow-log destination's key prefix as part of the bucket name\n"
        '# ("cloud-design-dev-logs-<account>/vpc-flow-logs/ does not exist"); here the logs go to the\n'
        "# bucket's top level.\n"
        'resource "aws_flow_log" "this" {\n'
        "  log_destination = var.flow_log_bucket_arn\n"
        "}\n"
    )


def access_log_policy_override() -> str:
    # override_policy_documents replaces the statement with the same Sid; the rest stay as written.
    return (
        "# moto gap: PutBucketLogging accepts only a statement whose resource is exactly\n"
        "# <target bucket>/<target prefix>*; AWS accepts one that covers it, as our s3-access/* does.\n"
        "# The S3ServerAccessLogs statement is narrowed to the backups bucket's prefix here.\n"
        'data "aws_iam_policy_document" "log_delivery" {\n'
        "  override_policy_documents = [jsonencode({\n"
        '    Version = "2012-10-17"\n'
        "    Statement = [{\n"
        '      Sid       = "S3ServerAccessLogs"\n'
        '      Effect    = "Allow"\n'
        '      Action    = "s3:PutObject"\n'
        '      Resource  = "${local.logs_arn}/s3-access/backups/*"\n'
        '      Principal = { Service = "logging.s3.amazonaws.com" }\n'
        '      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }\n'
        "    }]\n"
        "  })]\n"
        "}\n"
    )


def instance_security_groups_override() -> str:
    blocks = "".join(
        f'resource "aws_instance" "{name}" {{\n'
        "  lifecycle {\n    ignore_changes = [vpc_security_group_ids]\n  }\n}\n"
        for name in ("master", "worker")
    )
    return (
        "# moto gap: DescribeInstances reports no security groups for an instance launched with\n"
        "# them, so every plan would add them again; the attribute is not compared here.\n" + blocks
    )


def parameter_group_override() -> str:
    return (
        "# moto gap: DescribeDBParameters returns our parameters without Source=user, which the\n"
        "# provider filters on, so every plan would set them again; they are checked with boto3.\n"
        'resource "aws_db_parameter_group" "this" {\n'
        "  lifecycle {\n    ignore_changes = [parameter]\n  }\n"
        "}\n"
    )


# The rules of modules/security_groups whose other side is a security group, not a CIDR.
GROUP_REFERENCING_RULES = (
    ("aws_vpc_security_group_egress_rule", "alb_to_nodes"),
    ("aws_vpc_security_group_egress_rule", "nodes_to_nodes"),
    ("aws_vpc_security_group_egress_rule", "nodes_to_rds"),
    ("aws_vpc_security_group_ingress_rule", "nodes_from_alb"),
    ("aws_vpc_security_group_ingress_rule", "nodes_from_nodes"),
    ("aws_vpc_security_group_ingress_rule", "rds_from_nodes"),
)


def rule_description_override() -> str:
    blocks = "".join(
        f'resource "{kind}" "{name}" {{\n  lifecycle {{\n    ignore_changes = [description]\n  }}\n}}\n'
        for kind, name in GROUP_REFERENCING_RULES
    )
    return (
        "# moto gap: it drops the description of a rule whose other side is a security group, so\n"
        "# every plan would set it again; the description is not compared here.\n" + blocks
    )


# moto gap: when Terraform changes many rules of one security group at once (its default
# parallelism of 10), moto intermittently keeps a rule Terraform never learns of, then answers the
# next create with InvalidPermission.Duplicate or a revoke with InvalidPermission.NotFound (seen
# here in 1 apply or destroy in 5 to 8, and again on a re-run; never in 8 runs one change at a
# time). AWS does not. So against moto, Terraform applies and destroys one change at a time.
SERIAL_CHANGES = {"TF_CLI_ARGS_apply": "-parallelism=1", "TF_CLI_ARGS_destroy": "-parallelism=1"}


def write_overrides(tree: Path, emulator: Emulator) -> list[Path]:
    """Write every override into the copy at `tree`; return the files written."""
    files = {
        tree / "state" / "moto_provider_override.tf": provider_override(emulator),
        tree / "state" / "moto_gaps_override.tf": tls_policy_override("state", False)
        + state_teardown_override(),
        tree / "envs" / "common" / "moto_provider_override.tf": provider_override(emulator),
        tree / "envs" / "common" / "moto_backend_override.tf": backend_override(emulator),
        tree / "modules" / "s3_bucket" / "moto_gaps_override.tf": tls_policy_override("this", True),
        tree / "modules" / "network" / "moto_gaps_override.tf": flow_log_override(),
        tree / "modules" / "storage" / "moto_gaps_override.tf": access_log_policy_override(),
        tree / "modules" / "cluster" / "moto_gaps_override.tf": instance_security_groups_override(),
        tree / "modules" / "database" / "moto_gaps_override.tf": parameter_group_override(),
        tree / "modules" / "security_groups" / "moto_gaps_override.tf": rule_description_override(),
    }
    for env_root in ("dev", "prod"):
        for name in ("moto_provider_override.tf", "moto_backend_override.tf"):
            link = tree / "envs" / env_root / name
            if not link.exists():
                link.symlink_to(f"../common/{name}")
    for path, text in files.items():
        path.write_text(text)
    return sorted(files)
