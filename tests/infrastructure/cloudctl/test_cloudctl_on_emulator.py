"""cloudctl's Terraform steps with the real engine against the AWS emulator: up, plan, status, down.

(`down --include-state` is not run: the state bucket has prevent_destroy, so Terraform refuses it
on AWS as it would here; infrastructure/README.md, "Destroy an environment".)

Real: cloudctl (through cli.main), python-terraform driving `.venv/bin/terraform` (Terraform 1.15.5),
hashicorp/aws 5.100.0, the committed state and env roots, the S3 backend with native locking,
cloudctl's own boto3 calls (STS, S3, SSM).

STAND-INs, each named: moto plays AWS (tests/infrastructure/aws_emulator.py, with the overrides of
moto_gaps.py in the checkout's copy); kubectl is standin_tool.py (no cluster here, so Argo CD's
Applications are its recorded converged answer); a thread plays the master's cloud-init, which on
AWS publishes the K3s kubeconfig to SSM once K3s runs, and pushes the pinned images as dev's first
pipeline would (test_up_images.py drives that build against the GitLab stand-in); AlbStandIn answers
GET /api/movies in place of the ALB, which moto creates without a data plane.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import aws_emulator
import moto_gaps
import pytest
from cloudctl.bootstrap import argo_status, commands, images
from cloudctl.bootstrap.waits import WaitPolicy
from cloudctl_fakes import ADMIN_CIDR, IMAGES, INPUTS, KUBECONFIG, REAL_ROOT, STATE_BUCKET, AlbStandIn
from terraform_engine import TERRAFORM_BIN, Workspace

# A whole up, plan and down: about five minutes, mostly the provider's own waits (S3 lifecycle
# consistency checks, RDS, the ALB), so past the suite's default timeout.
pytestmark = pytest.mark.timeout(1200)
ENV = "dev"
KUBECONFIG_PARAMETER = f"/cloud-design/{ENV}/kubeconfig"
PLACEHOLDER = "pending"


class MasterStandIn(threading.Thread):
    """STAND-IN for the master's cloud-init and dev's first pipeline: once Terraform has created the
    kubeconfig parameter (holding the placeholder) and the master instance, overwrite the parameter
    with a kubeconfig and the description `published by <instance-id>`, as the master does after K3s
    starts; once the ECR repositories exist, push the tags overlays/dev/images pins."""

    def __init__(self, emulator: aws_emulator.Emulator, tag: str) -> None:
        super().__init__(daemon=True)
        self.emulator = emulator
        self.tag = tag
        self.stop = threading.Event()
        self.published = threading.Event()
        self.pushed = threading.Event()

    def master_id(self) -> str | None:
        for instance_id, instance in self.emulator.instances().items():
            tags = {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}
            if tags.get("cloud-design/role") == "master":
                return instance_id
        return None

    def push_images(self) -> None:
        ecr = self.emulator.client("ecr")
        names = {r["repositoryName"] for r in ecr.describe_repositories()["repositories"]}
        wanted = [f"cloud-design/{ENV}/{image}" for image in IMAGES]
        if not set(wanted) <= names:
            return
        for name in wanted:
            manifest = {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": f"sha256:{name}"},
            }
            ecr.put_image(repositoryName=name, imageManifest=json.dumps(manifest), imageTag=self.tag)
        self.pushed.set()

    def run(self) -> None:
        ssm = self.emulator.client("ssm")
        while not self.stop.wait(1):
            if not self.pushed.is_set():
                self.push_images()
            if self.published.is_set():
                continue
            try:
                value = ssm.get_parameter(Name=KUBECONFIG_PARAMETER, WithDecryption=True)["Parameter"][
                    "Value"
                ]
            except ssm.exceptions.ParameterNotFound:
                continue
            master = self.master_id()
            if value == PLACEHOLDER and master:
                ssm.put_parameter(
                    Name=KUBECONFIG_PARAMETER,
                    Value=KUBECONFIG,
                    Type="SecureString",
                    Description=f"published by {master}",
                    Overwrite=True,
                )
                self.published.set()


@pytest.fixture
def emulated(tmp_path: Path, standins, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """A checkout whose Terraform points at a running moto, the real terraform and a STAND-IN kubectl."""
    checkout = tmp_path / "checkout"
    with aws_emulator.running(
        tmp_path / "moto", moto_gaps.stand_in_amis(moto_gaps.pinned_ami_name())
    ) as emulator:
        workspace = Workspace.create(
            tmp_path, emulator.client_env(), tree=checkout / "infrastructure" / "terraform"
        )
        moto_gaps.write_overrides(workspace.tree, emulator)
        # What up and down read of the GitOps tree (the stand-in kubectl reads nothing of it).
        clusters = checkout / "clusters" / ENV
        shutil.copytree(REAL_ROOT / "clusters" / ENV / "argocd", clusters / "argocd")
        shutil.copy2(REAL_ROOT / "clusters" / ENV / "root.yaml", clusters / "root.yaml")
        images = checkout / "overlays" / ENV / "images"
        images.mkdir(parents=True)
        shutil.copy2(REAL_ROOT / "overlays" / ENV / "images" / "kustomization.yaml", images)
        for key in (
            "TF_CLI_CONFIG_FILE",
            "TF_IN_AUTOMATION",
            "TF_INPUT",
            "CHECKPOINT_DISABLE",
            "TF_PLUGIN_CACHE_DIR",
        ):
            monkeypatch.setenv(key, workspace.env[key])
        for key, value in {**emulator.client_env(), **moto_gaps.SERIAL_CHANGES}.items():
            monkeypatch.setenv(key, value)
        # The real terraform; kubectl stays the stand-in, first on PATH.
        standins.remove("terraform")
        monkeypatch.setenv(
            "PATH", f"{standins.bin}{os.pathsep}{TERRAFORM_BIN.parent}{os.pathsep}{os.environ['PATH']}"
        )
        monkeypatch.setattr(commands, "wait_policy", WaitPolicy(timeout_s=300, interval_s=1))
        yield checkout, emulator, workspace


@pytest.fixture
def alb(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlbStandIn]:
    """STAND-IN for the ALB's data plane: GET <alb>/api/movies goes to a server on loopback."""
    server = AlbStandIn().start()
    real = argo_status.http_status

    def through_stand_in(url: str) -> str:
        return real(f"http://{server.host}/{url.split('/', 3)[3]}")

    monkeypatch.setattr(argo_status, "http_status", through_stand_in)
    yield server
    server.stop()


def test_up_plan_status_and_down_drive_the_real_engine(emulated, run, standins, alb, tmp_path: Path):
    checkout, emulator, workspace = emulated
    kubeconfig = tmp_path / "kube" / "config"
    common = ("--env", ENV, "--repo-root", str(checkout), "--kubeconfig", str(kubeconfig))
    timings: dict[str, float] = {}
    pinned = (checkout / "overlays" / ENV / "images" / "kustomization.yaml").read_text()
    (tag,) = set(images.pinned_tags(pinned, "overlays/dev/images").values())

    master = MasterStandIn(emulator, tag)
    master.start()
    started = time.monotonic()
    up = run("up", *common, *INPUTS)
    timings["up"] = time.monotonic() - started
    master.stop.set()
    assert up.code == 0, up.out[-3000:] + up.err[-3000:]
    assert master.published.is_set() and master.pushed.is_set()
    assert alb.requests == ["/api/movies"]
    (secret,) = [obj for obj in standins.applied() if obj["metadata"]["name"] == "in-cluster"]
    assert secret["metadata"]["annotations"]["aws_account_id"] == aws_emulator.ACCOUNT_ID
    # What up applied is in the emulator, and its state in the state bucket through the S3 backend.
    assert set(emulator.leftovers()) >= {"instances", "db instances", "load balancers", "buckets"}
    state_objects = emulator.client("s3").list_objects_v2(Bucket=STATE_BUCKET)["Contents"]
    assert [item["Key"] for item in state_objects] == [f"envs/{ENV}/terraform.tfstate"]
    assert kubeconfig.read_text() == KUBECONFIG
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    kubectl = [call["argv"][2:] for call in standins.calls() if call["tool"] == "kubectl"]
    assert ["apply", "--server-side", "--force-conflicts", "-k", f"clusters/{ENV}/argocd"] in kubectl
    assert "    ALB:         http://" in up.out

    started = time.monotonic()
    plan = run("plan", *common, "--admin-cidr", ADMIN_CIDR)
    timings["plan"] = time.monotonic() - started
    assert plan.code == 0, plan.err
    assert "infrastructure/terraform/state: no changes" in plan.out
    assert f"infrastructure/terraform/envs/{ENV}: no changes" in plan.out

    status = run("status", *common)
    assert status.code == 0, status.out + status.err
    assert f"{ENV}: cluster cloud-design-{ENV} in eu-west-1" in status.out

    started = time.monotonic()
    down = run("down", *common, "--admin-cidr", ADMIN_CIDR, "--yes")
    timings["down"] = time.monotonic() - started
    assert down.code == 0, down.out[-3000:] + down.err[-3000:]
    # Only the state bucket is left, holding the env's (now empty) state: down keeps the state root.
    assert emulator.leftovers() == {"buckets": [STATE_BUCKET]}
    print("cloudctl on the emulator: " + ", ".join(f"{k} {v:.0f} s" for k, v in timings.items()))
