"""Monthly cost estimate of one environment: its terraform.tfvars against a pinned price table.

Sizes come from the tfvars; the few counts the tfvars do not hold come from the topology the
Terraform modules fix (TOPOLOGY below); traffic and data volumes are assumptions the caller can
change (Usage). Prices are on-demand, without free tier, so this is what the account pays once the
free tier or credits are gone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudctl.bootstrap.tfvars import CONTRACT_VARIABLES, variable_default
from cloudctl.errors import CloudctlError

DEFAULT_PRICE_TABLE = Path(__file__).with_name("prices-eu-west-1.json")
# Every contract variable but those that cost nothing by themselves.
TFVARS_USED = tuple(
    name for name in CONTRACT_VARIABLES if name not in ("environment", "admin_cidr", "certificate_arn")
)
PRICE_KEYS = (
    "region",
    "currency",
    "taken_on",
    "source",
    "hours_per_month",
    "ec2_linux_hourly",
    "ebs_gp3_gb_month",
    "ssm_advanced_parameter_month",
    "rds_postgresql_single_az_hourly",
    "rds_multi_az_factor",
    "rds_gp3_single_az_gb_month",
    "alb_hourly",
    "alb_lcu_hourly",
    "public_ipv4_hourly",
    "internet_egress_gb",
    "internet_egress_free_gb",
    "s3_standard_gb_month",
    "cloudwatch_logs_ingest_gb",
    "cloudwatch_logs_stored_gb_month",
    "cloudwatch_dashboard_month",
    "cloudwatch_alarm_month",
    "secrets_manager_secret_month",
    "kms_key_month",
    "ecr_storage_gb_month",
)
# Counts fixed by the Terraform modules, not by tfvars. root_volume_gb is read from the module.
ROOT_VOLUME = ("infrastructure/terraform/modules/cluster/variables.tf", "root_volume_size_gb")
TOPOLOGY = {
    "alb_public_ipv4": 2,  # an internet-facing ALB holds one public IPv4 per AZ (2 AZs)
    "secrets": 4,  # inventory-db, billing-db, rabbitmq, and the RDS-managed master password
    "kms_keys": 1,  # modules/kms: one customer-managed key per environment
    "dashboards": 1,
    # Billed per metric: ALB 5xx (2 metrics), unhealthy targets (4 target groups), RDS free storage;
    # plus one CPU alarm per node.
    "alarm_metrics_fixed": 7,
    "ssm_advanced_parameters": 1,  # the kubeconfig (certificates can exceed the standard tier's 4 KB)
    "ecr_repositories": 3,
}
# Log bytes shrink when CloudWatch stores them; it bills stored bytes after compression (~6:1 for JSON logs).
LOG_COMPRESSION = 6


@dataclass(frozen=True)
class Usage:
    """Traffic and data volumes: assumptions, not facts; every one is a command-line option."""

    egress_gb: float = 20.0  # responses served to the internet per month
    log_ingest_gb: float = 5.0  # application and K3s logs shipped to CloudWatch per month
    s3_gb: float = 10.0  # kept in the log and backup buckets
    alb_lcu: float = 0.5  # average load balancer capacity units (a quiet site stays well under 1)
    image_gb: float = 0.15  # compressed size of one service image in ECR


@dataclass(frozen=True)
class Line:
    item: str
    detail: str
    monthly: float


@dataclass(frozen=True)
class Estimate:
    lines: tuple[Line, ...]

    @property
    def total(self) -> float:
        return sum(line.monthly for line in self.lines)


def load_price_table(path: Path) -> dict[str, Any]:
    try:
        table = json.loads(path.read_text())
    except OSError as err:
        raise CloudctlError(f"cannot read the price table {path}: {err.strerror}") from err
    except json.JSONDecodeError as err:
        raise CloudctlError(f"price table {path} is not JSON ({err.msg} at line {err.lineno})") from err
    if not isinstance(table, dict):
        raise CloudctlError(f"price table {path} is not a JSON object")
    missing = [key for key in PRICE_KEYS if key not in table]
    if missing:
        raise CloudctlError(f"price table {path} lacks {', '.join(missing)}")
    return table


def _price(table: dict[str, Any], group: str, size: str, variable: str) -> float:
    try:
        return float(table[group][size])
    except KeyError:
        known = ", ".join(sorted(table[group]))
        raise CloudctlError(
            f"no price for {variable} = {size!r} in the price table (it knows {known})"
        ) from None


def _count(tfvars: dict[str, Any], name: str) -> int:
    value = tfvars[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise CloudctlError(f"{name} = {value!r} in the tfvars is not a non-negative whole number")
    return value


def root_volume_gb(repo_root: Path) -> int:
    """Each node's root volume size: the cluster module's default (the env roots do not override it)."""
    path, name = ROOT_VOLUME
    size = variable_default(repo_root / path, name)
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        raise CloudctlError(f"{path}: {name} default {size!r} is not a positive whole number")
    return size


def estimate(tfvars: dict[str, Any], table: dict[str, Any], usage: Usage, root_gb: int) -> Estimate:
    if tfvars["region"] != table["region"]:
        raise CloudctlError(
            f"the tfvars deploy to {tfvars['region']}, the price table is for {table['region']}"
        )
    hours = float(table["hours_per_month"])
    workers = _count(tfvars, "worker_count")
    nodes = 1 + workers
    storage_gb = _count(tfvars, "db_allocated_storage_gb")
    multi_az = tfvars["db_multi_az"]
    if not isinstance(multi_az, bool):
        raise CloudctlError(f"db_multi_az = {multi_az!r} in the tfvars is not true or false")
    az_factor = float(table["rds_multi_az_factor"]) if multi_az else 1.0
    az_label = "Multi-AZ" if multi_az else "single-AZ"

    master = tfvars["master_instance_type"]
    worker = tfvars["worker_instance_type"]
    db_class = tfvars["db_instance_class"]
    master_hourly = _price(table, "ec2_linux_hourly", master, "master_instance_type")
    worker_hourly = _price(table, "ec2_linux_hourly", worker, "worker_instance_type")
    db_hourly = _price(table, "rds_postgresql_single_az_hourly", db_class, "db_instance_class")

    ebs_gb = nodes * root_gb
    public_ips = nodes + TOPOLOGY["alb_public_ipv4"]
    billable_egress = max(0.0, usage.egress_gb - float(table["internet_egress_free_gb"]))
    retention_months = _count(tfvars, "log_retention_days") / 30
    stored_logs_gb = usage.log_ingest_gb * retention_months / LOG_COMPRESSION
    alarms = TOPOLOGY["alarm_metrics_fixed"] + nodes
    ecr_gb = TOPOLOGY["ecr_repositories"] * _count(tfvars, "ecr_keep_images") * usage.image_gb

    lines = (
        Line("EC2 master", f"1 x {master} @ ${master_hourly}/h", master_hourly * hours),
        Line("EC2 workers", f"{workers} x {worker} @ ${worker_hourly}/h", workers * worker_hourly * hours),
        Line(
            "EBS root volumes",
            f"{nodes} x {root_gb} GB gp3",
            ebs_gb * table["ebs_gp3_gb_month"],
        ),
        Line("RDS PostgreSQL", f"{db_class} {az_label}", db_hourly * az_factor * hours),
        Line(
            "RDS storage",
            f"{storage_gb} GB gp3 {az_label} (backups up to this size are free)",
            storage_gb * table["rds_gp3_single_az_gb_month"] * az_factor,
        ),
        Line(
            "ALB",
            f"1 ALB + {usage.alb_lcu} LCU average",
            (table["alb_hourly"] + usage.alb_lcu * table["alb_lcu_hourly"]) * hours,
        ),
        Line(
            "Public IPv4",
            f"{public_ips} addresses ({nodes} nodes, {TOPOLOGY['alb_public_ipv4']} ALB)",
            public_ips * table["public_ipv4_hourly"] * hours,
        ),
        Line(
            "Data transfer out",
            f"{usage.egress_gb:g} GB ({table['internet_egress_free_gb']} GB/month free)",
            billable_egress * table["internet_egress_gb"],
        ),
        Line(
            "CloudWatch logs",
            f"{usage.log_ingest_gb:g} GB in, ~{stored_logs_gb:.1f} GB kept",
            usage.log_ingest_gb * table["cloudwatch_logs_ingest_gb"]
            + stored_logs_gb * table["cloudwatch_logs_stored_gb_month"],
        ),
        Line(
            "CloudWatch dashboard+alarms",
            f"{TOPOLOGY['dashboards']} dashboard, {alarms} alarm metrics (no free tier)",
            TOPOLOGY["dashboards"] * table["cloudwatch_dashboard_month"]
            + alarms * table["cloudwatch_alarm_month"],
        ),
        Line(
            "S3 logs and backups",
            f"~{usage.s3_gb:g} GB Standard (rough)",
            usage.s3_gb * table["s3_standard_gb_month"],
        ),
        Line(
            "SSM parameters",
            f"{TOPOLOGY['ssm_advanced_parameters']} advanced (kubeconfig); standard ones are free",
            TOPOLOGY["ssm_advanced_parameters"] * table["ssm_advanced_parameter_month"],
        ),
        Line(
            "Secrets Manager",
            f"{TOPOLOGY['secrets']} secrets",
            TOPOLOGY["secrets"] * table["secrets_manager_secret_month"],
        ),
        Line(
            "KMS",
            f"{TOPOLOGY['kms_keys']} customer-managed key",
            TOPOLOGY["kms_keys"] * table["kms_key_month"],
        ),
        Line(
            "ECR storage",
            f"~{ecr_gb:.1f} GB ({TOPOLOGY['ecr_repositories']} repos x {tfvars['ecr_keep_images']} images)",
            ecr_gb * table["ecr_storage_gb_month"],
        ),
    )
    return Estimate(lines)


def render(result: Estimate, table: dict[str, Any], env: str, tfvars_path: str) -> str:
    width = max(len(line.item) for line in result.lines)
    rows = [f"  {line.item:<{width}}  {line.monthly:8.2f}  {line.detail}" for line in result.lines]
    total = result.total
    # The inputs are rounded prices and guessed volumes: a whole-dollar total with a band says as much.
    low, high = math.floor(total * 0.9), math.ceil(total * 1.1)
    return "\n".join(
        [
            f"cloudctl cost --env {env}: monthly estimate from {tfvars_path}",
            f"prices: {table['region']} on-demand, {table['currency']}, as known on {table['taken_on']} "
            "(AWS public price pages; no free tier)",
            f"  {'item':<{width}}  {'USD/mo':>8}  basis",
            *rows,
            f"  {'total':<{width}}  {total:8.2f}  ~ ${round(total)} a month "
            f"(${low}-{high} allowing for rounding and the usage assumptions)",
        ]
    )
