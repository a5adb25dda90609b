"""STAND-IN for AWS: a moto server on a free loopback port, over TLS, stopped by its PID.

moto (PyPI `moto[server]`) answers the AWS APIs our Terraform and cloudctl use: EC2, ELBv2, RDS,
ECR, S3, IAM, STS, KMS, Secrets Manager, SSM, CloudWatch, CloudWatch Logs, SNS and Route 53. It serves TLS
with a certificate made here for 127.0.0.1, so the TLS-only bucket policies hold as they do on AWS
(`aws:SecureTransport` is true) and nothing has to be relaxed for plain HTTP. Clients trust that
certificate through `SSL_CERT_FILE` (Terraform, Go) and `AWS_CA_BUNDLE` (boto3).

What moto cannot do is listed in infrastructure/README.md ("The emulator run"); the workarounds are
in moto_gaps.py, one per gap.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import boto3
import loopback_tls

REGION = "eu-west-1"
# moto's fixed account: what the roots' data "aws_caller_identity" reads back.
ACCOUNT_ID = "123456789012"
# The AWS API names of every service the Terraform roots and cloudctl call, as the provider's
# `endpoints` block spells them.
ENDPOINT_SERVICES = (
    "cloudwatch",
    "ec2",
    "ecr",
    "elbv2",
    "iam",
    "kms",
    "logs",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "sns",
    "ssm",
    "sts",
)
START_SECONDS = 60

# moto gap, fixed inside the server process because no override file can reach it: AWS makes a
# hosted zone private when CreateHostedZone names a VPC, as the AWS provider's request does; moto
# reads only HostedZoneConfig.PrivateZone, which the provider does not send, so it would make a
# public zone without the VPC. After moto's own create, the zone becomes private with that VPC.
SERVER_GAP_FIXES = """
import sys
import xml.etree.ElementTree as ElementTree

from moto.route53.responses import Route53
from moto.server import main

moto_create_hosted_zone = Route53.create_hosted_zone


def create_hosted_zone(self):
    result = moto_create_hosted_zone(self)
    request = ElementTree.fromstring(self.body)
    fields = {element.tag.rsplit("}", 1)[-1]: element.text for element in request.iter()}
    if fields.get("VPCId"):
        zone = result.result["HostedZone"]
        if not zone.vpcs:
            zone.private_zone = True
            zone.add_vpc(fields["VPCId"], fields.get("VPCRegion"))
    return result


Route53.create_hosted_zone = create_hosted_zone

# Not a fix: a trace for the security-group rule flake (moto_gaps.SERIAL_CHANGES). Each rule change
# is logged with a digest of its parameters, so a failed run's moto.log shows whether the request
# that moto refused as a duplicate (or as not found) had already arrived once.
import hashlib
import threading
import time

from moto.ec2.responses.security_groups import SecurityGroups


def traced(action):
    moto_action = getattr(SecurityGroups, action)

    def run(self):
        digest = hashlib.sha256(repr(sorted(self.querystring.items())).encode()).hexdigest()[:12]
        sys.stderr.write(f"rule-trace {time.time():.3f} {threading.get_ident()} {action} {digest}\\n")
        return moto_action(self)

    return run


for action in (
    "authorize_security_group_egress",
    "authorize_security_group_ingress",
    "revoke_security_group_egress",
    "revoke_security_group_ingress",
):
    setattr(SecurityGroups, action, traced(action))
main(sys.argv[1:])
"""
# The Project tag every resource of ours carries (the providers' default_tags) and our name prefix.
PROJECT_TAG = "cloud-design"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (key and certificate as PEM files)."""
    key_path, cert_path = directory / "moto-key.pem", directory / "moto-cert.pem"
    loopback_tls.write_certificate(cert_path, key_path, "moto on loopback (test stand-in)")
    return key_path, cert_path


@dataclass(frozen=True)
class Emulator:
    """A running moto server: where it answers and the environment that points clients at it."""

    url: str
    cert_path: Path
    pid: int
    workdir: Path

    def client_env(self) -> dict[str, str]:
        """Variables for any AWS client (Terraform, boto3, cloudctl): fake keys, no other credentials."""
        return {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(self.workdir / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.workdir / "no-aws-credentials"),
            # boto3 sends every service here; Terraform gets its endpoints from moto_gaps' override.
            "AWS_ENDPOINT_URL": self.url,
            "AWS_CA_BUNDLE": str(self.cert_path),
            "SSL_CERT_FILE": str(self.cert_path),
        }

    def client(self, service: str):  # noqa: ANN201 - a boto3 client of any service
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=self.url,
            verify=str(self.cert_path),
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def instances(self) -> dict[str, dict]:
        """Our instances that are not terminated, by id."""
        reservations = self.client("ec2").describe_instances(
            Filters=[
                {"Name": "tag:Project", "Values": [PROJECT_TAG]},
                {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
            ]
        )["Reservations"]
        return {i["InstanceId"]: i for r in reservations for i in r["Instances"]}

    def leftovers(self) -> dict[str, list]:
        """Everything of ours the emulator still holds, by kind; kinds with nothing left are omitted."""
        ec2, elbv2, rds, iam = (
            self.client("ec2"),
            self.client("elbv2"),
            self.client("rds"),
            self.client("iam"),
        )
        tagged = [{"Name": "tag:Project", "Values": [PROJECT_TAG]}]
        found: dict[str, list] = {
            "instances": list(self.instances()),
            "vpcs": [v["VpcId"] for v in ec2.describe_vpcs(Filters=tagged)["Vpcs"]],
            "subnets": [s["SubnetId"] for s in ec2.describe_subnets(Filters=tagged)["Subnets"]],
            "security groups": [
                g["GroupId"] for g in ec2.describe_security_groups(Filters=tagged)["SecurityGroups"]
            ],
            "elastic ips": [a["AllocationId"] for a in ec2.describe_addresses(Filters=tagged)["Addresses"]],
            "load balancers": [
                b["LoadBalancerName"] for b in elbv2.describe_load_balancers()["LoadBalancers"]
            ],
            "target groups": [g["TargetGroupName"] for g in elbv2.describe_target_groups()["TargetGroups"]],
            "db instances": [d["DBInstanceIdentifier"] for d in rds.describe_db_instances()["DBInstances"]],
            "db subnet groups": [
                g["DBSubnetGroupName"] for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]
            ],
            "repositories": [
                r["repositoryName"] for r in self.client("ecr").describe_repositories()["repositories"]
            ],
            "buckets": [b["Name"] for b in self.client("s3").list_buckets()["Buckets"]],
            "secrets": [s["Name"] for s in self.client("secretsmanager").list_secrets()["SecretList"]],
            "parameters": [p["Name"] for p in self.client("ssm").describe_parameters()["Parameters"]],
            "roles": [
                r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(PROJECT_TAG)
            ],
            "instance profiles": [
                p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]
            ],
            "oidc providers": [
                p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
            ],
            "key aliases": [
                a["AliasName"]
                for a in self.client("kms").list_aliases()["Aliases"]
                if PROJECT_TAG in a["AliasName"]
            ],
            "alarms": [a["AlarmName"] for a in self.client("cloudwatch").describe_alarms()["MetricAlarms"]],
            "dashboards": [
                d["DashboardName"] for d in self.client("cloudwatch").list_dashboards()["DashboardEntries"]
            ],
            "log groups": [g["logGroupName"] for g in self.client("logs").describe_log_groups()["logGroups"]],
            "topics": [t["TopicArn"] for t in self.client("sns").list_topics()["Topics"]],
            "hosted zones": [z["Name"] for z in self.client("route53").list_hosted_zones()["HostedZones"]],
        }
        return {kind: items for kind, items in found.items() if items}


def _wait_until_serving(url: str, cert_path: Path, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    context = ssl.create_default_context(cafile=str(cert_path))
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"moto server exited {process.returncode}: {log.read_text()[-500:]}")
        try:
            with urllib.request.urlopen(f"{url}/moto-api/data.json", context=context, timeout=2):  # noqa: S310
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"moto server did not answer on {url} within {START_SECONDS} s")


@contextmanager
def running(workdir: Path, amis: list[dict]) -> Iterator[Emulator]:
    """Start moto on a free loopback port with `amis` as its only images; stop it by its PID."""
    workdir.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = write_certificate(workdir)
    amis_path = workdir / "amis.json"
    amis_path.write_text(json.dumps(amis))
    port = free_port()
    url = f"https://127.0.0.1:{port}"
    log = workdir / "moto.log"
    env = {**os.environ, "MOTO_AMIS_PATH": str(amis_path)}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                SERVER_GAP_FIXES,
                "-H",
                "127.0.0.1",
                "-p",
                str(port),
                "-c",
                str(cert_path),
                "-k",
                str(key_path),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    try:
        _wait_until_serving(url, cert_path, process, log)
        yield Emulator(url=url, cert_path=cert_path, pid=process.pid, workdir=workdir)
    finally:
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
