"""STAND-INs and canned data for the bootstrap CLI's tests (the fixtures in conftest.py use them).

Nothing here reaches AWS or a cluster: STAND-IN terraform/kubectl binaries (standin_tool.py), STAND-IN
AWS clients (botocore Stubbers), a fake clock, and tool output in the real tools' shapes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import boto3
from botocore.stub import Stubber
from cloudctl.bootstrap.context import Aws
from cloudctl.bootstrap.state_adopt import STATE_RESOURCES

HERE = Path(__file__).resolve().parent
REAL_ROOT = Path(__file__).resolve().parents[3]
ENV = "dev"

# Canned `terraform output -json`, in the shape terraform 1.x prints (value, type, sensitive).
ALB = "cloud-design-dev-alb-1234567890.eu-west-1.elb.amazonaws.com"
ENV_OUTPUTS = {
    "alb_dns_name": {"sensitive": False, "type": "string", "value": ALB},
    "argocd_url": {"sensitive": False, "type": "string", "value": f"http://{ALB}/argocd"},
    "cluster_name": {"sensitive": False, "type": "string", "value": "cloud-design-dev"},
    "ecr_repository_urls": {
        "sensitive": False,
        "type": ["object", {"api-gateway": "string", "billing-app": "string", "inventory-app": "string"}],
        "value": {
            name: f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/cloud-design/dev/{name}"
            for name in ("api-gateway", "billing-app", "inventory-app")
        },
    },
    "kubeconfig_parameter": {"sensitive": False, "type": "string", "value": "/cloud-design/dev/kubeconfig"},
    "rds_endpoint": {
        "sensitive": False,
        "type": "string",
        "value": "cloud-design-dev.c1x2y3z4w5v6.eu-west-1.rds.amazonaws.com:5432",
    },
    "region": {"sensitive": False, "type": "string", "value": "eu-west-1"},
    # Not one of the seven the contract names, but printed by the real env root: the CLI reads it too.
    "kubeconfig_placeholder": {"sensitive": False, "type": "string", "value": "pending"},
}
STATE_BUCKET = "cloud-design-tfstate-123456789012"
STATE_OUTPUTS = {
    "state_bucket": {"sensitive": False, "type": "string", "value": STATE_BUCKET},
    "region": {"sensitive": False, "type": "string", "value": "eu-west-1"},
}
# What K3s writes to /etc/rancher/k3s/k3s.yaml, with the server address the master publishes.
KUBECONFIG = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    server: https://203.0.113.10:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
users:
- name: default
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==
    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCg==
"""
TFVARS_FIXTURE = """region                  = "eu-west-1"
environment             = "{env}"
master_instance_type    = "t3.medium"
worker_instance_type    = "t3.small"
worker_count            = 2
db_instance_class       = "db.t3.micro"
db_allocated_storage_gb = 20
db_multi_az             = {multi_az}
log_retention_days      = 30
admin_cidr              = "198.51.100.0/24"
certificate_arn         = ""
ecr_keep_images         = 20
"""
BACKEND_FIXTURE = """key          = "envs/{env}/terraform.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true
"""
ROOT_APP_FIXTURE = """apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: root
  namespace: argocd
spec:
  project: default
  source: {{repoURL: "https://gitlab.example.com/cloud-design.git", path: clusters/{env}/apps}}
  destination: {{server: "https://kubernetes.default.svc", namespace: argocd}}
"""


STATE_LIST = (
    "\n".join(STATE_RESOURCES) + "\ndata.aws_caller_identity.current\ndata.aws_iam_policy_document.state\n"
)


def terraform_rules() -> list[dict]:
    return [
        {"match": ["state", "list"], "cwd": "terraform/state", "stdout": STATE_LIST},
        {
            "match": ["output", "-json"],
            "cwd": "terraform/state",
            "stdout": json.dumps(STATE_OUTPUTS, indent=2),
        },
        {"match": ["output", "-json"], "cwd": f"envs/{ENV}", "stdout": json.dumps(ENV_OUTPUTS, indent=2)},
        {"match": ["init"], "stdout": "Terraform has been successfully initialized!\n"},
        {"match": ["apply"], "stdout": "Apply complete! Resources: 0 added, 0 changed, 0 destroyed.\n"},
        {"match": ["plan"], "stdout": "Plan: 0 to add, 1 to change, 0 to destroy.\n", "exit": 2},
        {"match": ["destroy"], "stdout": "Destroy complete! Resources: 61 destroyed.\n"},
    ]


def kubectl_rules() -> list[dict]:
    return [
        {"match": ["get", "--raw", "/readyz"], "stdout": "ok"},
        {"match": ["apply", "-k"], "stdout": "deployment.apps/argocd-server serverside-applied\n"},
        {"match": ["apply", "-f"], "stdout": "application.argoproj.io/root serverside-applied\n"},
        {
            "match": ["wait"],
            "stdout": "customresourcedefinition.apiextensions.k8s.io/applications.argoproj.io "
            "condition met\n",
        },
        {"match": ["rollout", "status"], "stdout": 'deployment "argocd-server" successfully rolled out\n'},
        {
            "match": ["get", "applications.argoproj.io", "root", "-o", "json"],
            "stdout": json.dumps(
                {"kind": "Application", "metadata": {"name": "root", "namespace": "argocd"}}
            ),
        },
        {"match": ["patch"], "stdout": "application.argoproj.io/root patched\n"},
        {"match": ["delete"], "stdout": 'application.argoproj.io "root" deleted\n'},
        {
            "match": ["get", "applications.argoproj.io", "-o", "name"],
            "stdout": "application.argoproj.io/billing\n",
            "times": 2,
        },
        {"match": ["get", "applications.argoproj.io", "-o", "name"], "stdout": ""},
        {
            "match": ["get", "nodes"],
            "stdout": "NAME STATUS ROLES AGE VERSION\nip-10-0-0-10 Ready control-plane 1h v1.34.1+k3s1\n",
        },
        {
            "match": ["get", "applications.argoproj.io"],
            "stdout": "NAME SYNC STATUS HEALTH STATUS\nroot Synced Healthy\n",
        },
    ]


@dataclass
class Standins:
    """The STAND-IN terraform and kubectl on PATH, their scripted answers and the log of their calls."""

    home: Path
    bin: Path

    def rules(self, tool: str) -> list[dict]:
        return json.loads((self.home / f"{tool}-rules.json").read_text())

    def set_rules(self, tool: str, rules: list[dict]) -> None:
        (self.home / f"{tool}-rules.json").write_text(json.dumps(rules))

    def prepend(self, tool: str, rule: dict) -> None:
        self.set_rules(tool, [rule, *self.rules(tool)])

    def calls(self) -> list[dict]:
        log = self.home / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def reset_log(self) -> None:
        for name in ("calls.jsonl", "terraform-used.json", "kubectl-used.json"):
            (self.home / name).unlink(missing_ok=True)

    def remove(self, tool: str) -> None:
        (self.bin / tool).unlink()


class StubbedAws(Aws):
    """STAND-IN for AWS: the real credential check, but SSM, STS and S3 answer from botocore Stubbers."""

    def __init__(self) -> None:
        super().__init__()
        self.clients = {name: boto3.client(name, region_name="eu-west-1") for name in ("ssm", "sts", "s3")}
        self.stubbers = {name: Stubber(client) for name, client in self.clients.items()}
        for stubber in self.stubbers.values():
            stubber.activate()
        self.stubber = self.stubbers["ssm"]
        self.regions: list[str] = []

    def ssm(self, region: str):
        self.regions.append(region)
        return self.clients["ssm"]

    def sts(self, region: str):
        return self.clients["sts"]

    def s3(self, region: str):
        return self.clients["s3"]

    def not_yet(self, name: str = "/cloud-design/dev/kubeconfig") -> None:
        self.stubber.add_client_error(
            "get_parameter",
            service_error_code="ParameterNotFound",
            http_status_code=400,
            expected_params={"Name": name, "WithDecryption": True},
        )

    def holds(self, value: str = KUBECONFIG, name: str = "/cloud-design/dev/kubeconfig") -> None:
        parameter = {"Name": name, "Type": "SecureString", "Value": value, "Version": 1}
        self.stubber.add_response(
            "get_parameter", {"Parameter": parameter}, expected_params={"Name": name, "WithDecryption": True}
        )

    def account(self, account: str = "123456789012") -> None:
        self.stubbers["sts"].add_response(
            "get_caller_identity",
            {"Account": account, "Arn": f"arn:aws:iam::{account}:user/ops", "UserId": "AIDA"},
        )

    def bucket(self, name: str, exists: bool) -> None:
        if exists:
            self.stubbers["s3"].add_response("head_bucket", {}, expected_params={"Bucket": name})
        else:
            self.stubbers["s3"].add_client_error(
                "head_bucket",
                service_error_code="404",
                http_status_code=404,
                expected_params={"Bucket": name},
            )

    def assert_all_used(self) -> None:
        for stubber in self.stubbers.values():
            stubber.assert_no_pending_responses()


@dataclass
class FakeClock:
    """Time that passes only when the code sleeps: waits run instantly and deterministically."""

    now: float = 0.0
    sleeps: int = 0

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        self.sleeps += 1

    def clock(self) -> float:
        return self.now


@dataclass
class Result:
    code: int
    out: str
    err: str

    def commands(self) -> list[str]:
        """The commands the CLI printed ("$ ..." lines), without their notes."""
        return [line[2:].split("   # ")[0] for line in self.out.splitlines() if line.startswith("$ ")]
