"""STAND-INs and canned data for the bootstrap CLI's tests (the fixtures in conftest.py use them).

Nothing here reaches AWS or a cluster: STAND-IN terraform/kubectl binaries (standin_tool.py), STAND-IN
AWS clients (botocore Stubbers), a STAND-IN ALB (an HTTP server on loopback), a fake clock, and tool
output in the real tools' shapes.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from botocore.stub import Stubber
from cloudctl.bootstrap.context import Aws
from cloudctl.bootstrap.state_adopt import STATE_RESOURCES
from cloudctl.manifests import tree

HERE = Path(__file__).resolve().parent
REAL_ROOT = Path(__file__).resolve().parents[3]
ENV = "dev"
# contract.yaml's ECR images: in its order (the images Component), and in name order (Terraform's
# ecr_repository_urls map, which the images step reads).
CONTRACT_IMAGES = tree.ecr_repository_names(REAL_ROOT)
IMAGES = tuple(sorted(CONTRACT_IMAGES))

# Canned `terraform output -json`, in the shape terraform 1.x prints (value, type, sensitive).
ALB = "cloud-design-dev-alb-1234567890.eu-west-1.elb.amazonaws.com"
ENV_OUTPUTS = {
    "alb_dns_name": {"sensitive": False, "type": "string", "value": ALB},
    "argocd_url": {"sensitive": False, "type": "string", "value": f"http://{ALB}/argocd"},
    "cluster_name": {"sensitive": False, "type": "string", "value": "cloud-design-dev"},
    "ecr_repository_urls": {
        "sensitive": False,
        "type": ["object", dict.fromkeys(IMAGES, "string")],
        "value": {
            name: f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/cloud-design/dev/{name}" for name in IMAGES
        },
    },
    "kubeconfig_parameter": {"sensitive": False, "type": "string", "value": "/cloud-design/dev/kubeconfig"},
    "rds_endpoint": {
        "sensitive": False,
        "type": "string",
        "value": "cloud-design-dev.c1x2y3z4w5v6.eu-west-1.rds.amazonaws.com:5432",
    },
    "region": {"sensitive": False, "type": "string", "value": "eu-west-1"},
    "master_instance_id": {"sensitive": False, "type": "string", "value": "i-0fedcba9876543210"},
    # Not one the contract names, but printed by the real env root: the CLI reads it too.
    "kubeconfig_placeholder": {"sensitive": False, "type": "string", "value": "pending"},
}
MASTER = "i-0fedcba9876543210"
# overlays/<env>/images/kustomization.yaml: tags only; the registry comes from the cluster Secret.
IMAGES_FIXTURE = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nimages:\n" + "".join(
    f"  - {{name: {name}, newTag: 0.1.0}}\n" for name in CONTRACT_IMAGES
)
REPO_URL = "https://gitlab.com/acme/movies.git"
ADMIN_CIDR = "198.18.7.42/32"
# What every up test passes: the inputs git does not hold.
INPUTS = ("--repo-url", REPO_URL, "--admin-cidr", ADMIN_CIDR)
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
certificate_arn         = ""
ecr_keep_images         = 20
"""
BACKEND_FIXTURE = """key          = "envs/{env}/terraform.tfstate"
region       = "eu-west-1"
encrypt      = true
use_lockfile = true
"""
# clusters/<env>/root.yaml in the real file's shape: an AppProject with a placeholder the cluster
# Secret fills, and the ApplicationSet that generates the root Application.
ROOT_APP_FIXTURE = """apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata: {{name: platform, namespace: argocd}}
spec:
  sourceRepos: ["from-cluster-secret:repo_url", "https://kedacore.github.io/charts"]
---
apiVersion: argoproj.io/v1alpha1
kind: ApplicationSet
metadata: {{name: root, namespace: argocd}}
spec:
  generators:
    - clusters: {{selector: {{matchLabels: {{cloud-design.io/environment: {env}}}}}}}
  template:
    metadata: {{name: root}}
    spec:
      project: platform
      source: {{repoURL: '{{{{ index .metadata.annotations "repo_url" }}}}', path: clusters/{env}}}
      destination: {{server: "https://kubernetes.default.svc", namespace: argocd}}
"""


def application(
    name: str,
    project: str = "platform",
    wave: int = 0,
    sync: str = "Synced",
    health: str = "Healthy",
    resources: list[dict] | None = None,
    conditions: list[dict] | None = None,
    operation_message: str | None = None,
) -> dict:
    """One Application as `kubectl get applications.argoproj.io -o json` lists it (Argo CD 3.x)."""
    status: dict = {"sync": {"status": sync}, "health": {"status": health}, "resources": resources or []}
    if conditions:
        status["conditions"] = conditions
    if operation_message:
        status["operationState"] = {"phase": "Running", "message": operation_message}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {
            "name": name,
            "namespace": "argocd",
            "annotations": {"argocd.argoproj.io/sync-wave": str(wave)} if wave else {},
        },
        "spec": {"project": project},
        "status": status,
    }


def applications_json(apps: list[dict]) -> str:
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": apps})


# The Applications of a converged dev cluster, as Argo CD names and waves them (apps/).
CHILD_APPS = [
    application("argocd", wave=-5),
    application("movies-namespace", wave=-4),
    application("external-secrets", wave=-3),
    application("keda", wave=-3),
    application("argocd-gitlab-webhook", wave=-1),
    application("movies-secrets", "movies", 1),
    application("movies-rabbitmq", "movies", 2),
    application("movies-workloads", "movies", 3),
]
CONVERGED = [application("root"), *CHILD_APPS]


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
        {"match": ["apply", "-f", "-"], "stdout": "serverside-applied\n"},
        {
            "match": ["wait"],
            "stdout": "customresourcedefinition.apiextensions.k8s.io/applications.argoproj.io "
            "condition met\n",
        },
        {"match": ["rollout", "status"], "stdout": 'deployment "argocd-server" successfully rolled out\n'},
        {"match": ["delete"], "stdout": "deleted\n"},
        {"match": ["get", "applications.argoproj.io", "-o", "json"], "stdout": applications_json(CONVERGED)},
        {
            "match": ["get", "nodes"],
            "stdout": "NAME STATUS ROLES AGE VERSION\nip-10-0-0-10 Ready control-plane 1h v1.34.1+k3s1\n",
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

    def applied(self) -> list[dict]:
        """Every object kubectl was given on stdin (`apply -f -` of a v1 List), in order."""
        return [
            item for call in self.calls() if call.get("stdin") for item in json.loads(call["stdin"])["items"]
        ]

    def reset_log(self) -> None:
        for name in ("calls.jsonl", "terraform-used.json", "kubectl-used.json"):
            (self.home / name).unlink(missing_ok=True)

    def remove(self, tool: str) -> None:
        (self.bin / tool).unlink()


class StubbedAws(Aws):
    """STAND-IN for AWS: the real credential check, but SSM, STS and S3 answer from botocore Stubbers."""

    def __init__(self) -> None:
        super().__init__()
        self.clients = {
            name: boto3.client(name, region_name="eu-west-1") for name in ("ssm", "sts", "s3", "ecr")
        }
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

    def ecr(self, region: str):
        return self.clients["ecr"]

    def described(self, description: str | None, name: str = "/cloud-design/dev/kubeconfig") -> None:
        """describe-parameters: the parameter with this description (None: no such parameter yet)."""
        found = (
            []
            if description is None
            else [{"Name": name, "Type": "SecureString", "Description": description}]
        )
        self.stubber.add_response(
            "describe_parameters",
            {"Parameters": found},
            expected_params={"ParameterFilters": [{"Key": "Name", "Option": "Equals", "Values": [name]}]},
        )

    def not_yet(self, name: str = "/cloud-design/dev/kubeconfig") -> None:
        """Terraform's parameter, not yet overwritten by the master (its own description)."""
        self.described("Admin kubeconfig of cloud-design-dev, published by the master at boot", name)

    def holds(
        self, value: str = KUBECONFIG, name: str = "/cloud-design/dev/kubeconfig", publisher: str = MASTER
    ) -> None:
        """The parameter as the master `publisher` wrote it: its description, then its value."""
        self.described(f"published by {publisher}", name)
        parameter = {"Name": name, "Type": "SecureString", "Value": value, "Version": 1}
        self.stubber.add_response(
            "get_parameter", {"Parameter": parameter}, expected_params={"Name": name, "WithDecryption": True}
        )

    def images_present(self, tag: str = "0.1.0", env: str = "dev") -> None:
        """describe-images finds each image's pinned tag (the images step asks in name order)."""
        for image in IMAGES:
            repository = f"cloud-design/{env}/{image}"
            self.stubbers["ecr"].add_response(
                "describe_images",
                {"imageDetails": [{"repositoryName": repository, "imageTags": [tag]}]},
                expected_params={"repositoryName": repository, "imageIds": [{"imageTag": tag}]},
            )

    def image_missing(self) -> None:
        self.stubbers["ecr"].add_client_error(
            "describe_images", service_error_code="ImageNotFoundException", http_status_code=400
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


@dataclass
class AlbStandIn:
    """STAND-IN for the ALB: answers GET /api/movies with the queued statuses (the last one repeats)."""

    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> AlbStandIn:
        alb = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 -- http.server's name
                alb.requests.append(self.path)
                status = alb.statuses.pop(0) if len(alb.statuses) > 1 else alb.statuses[0]
                body = b'{"movies": []}' if self.path == "/api/movies" and status == 200 else b"{}"
                self.send_response(status if self.path == "/api/movies" else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
