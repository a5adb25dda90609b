"""The images step: the pinned tags exist in ECR before the first sync; dev builds them first.

Real: the step (cloudctl.bootstrap.images), boto3's ECR client, python-gitlab's requests.
STAND-INs, each named: moto's ECR (tests/infrastructure/aws_emulator.py, a moto server on loopback)
plays ECR; ../fake_gitlab.py (a scripted HTTP server) plays GitLab's REST API, and records what
python-gitlab sent.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import aws_emulator
import fake_gitlab
import pytest
from cloudctl.bootstrap import images
from cloudctl.bootstrap.context import Aws, Context
from cloudctl.bootstrap.inputs import Inputs
from cloudctl.bootstrap.layout import Layout
from cloudctl.bootstrap.outputs import EnvOutputs
from cloudctl.bootstrap.shell import Shell, StepError
from cloudctl.bootstrap.waits import WaitPolicy
from cloudctl_fakes import ADMIN_CIDR, IMAGES, IMAGES_FIXTURE, REAL_ROOT, REPO_URL, FakeClock

PROJECT = "/api/v4/projects/acme%2Fmovies"
FILE = f"{PROJECT}/repository/files/overlays%2Fdev%2Fimages%2Fkustomization.yaml"
NEW_TAG = "main-4f2a9c1"




@pytest.fixture(scope="module")
def ecr_emulator(tmp_path_factory) -> Iterator[aws_emulator.Emulator]:
    with aws_emulator.running(tmp_path_factory.mktemp("moto"), amis=[]) as emulator:
        yield emulator


@pytest.fixture
def registry(ecr_emulator, monkeypatch) -> dict[str, str]:
    """Fresh ECR repositories cloud-design/<env>/<image> in the emulator; {image: repository URL}."""
    for key, value in ecr_emulator.client_env().items():
        monkeypatch.setenv(key, value)
    ecr = ecr_emulator.client("ecr")
    urls = {}
    for env in ("dev", "prod"):
        for image in IMAGES:
            name = f"cloud-design/{env}/{image}"
            for existing in ecr.describe_repositories()["repositories"]:
                if existing["repositoryName"] == name:
                    ecr.delete_repository(repositoryName=name, force=True)
            created = ecr.create_repository(repositoryName=name)["repository"]
            if env == "dev":
                urls[image] = created["repositoryUri"]
    return urls


def push(emulator, env: str, tag: str, only: tuple[str, ...] = IMAGES) -> None:
    ecr = emulator.client("ecr")
    for image in only:
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": f"sha256:{image}-{tag}"},
            }
        )
        ecr.put_image(repositoryName=f"cloud-design/{env}/{image}", imageManifest=manifest, imageTag=tag)


@pytest.fixture
def gitlab(monkeypatch):
    fake, server = fake_gitlab.start()
    monkeypatch.setenv("GITLAB_TOKEN", fake_gitlab.TOKEN)
    yield fake
    server.shutdown()
    server.server_close()


def context(
    tmp_path: Path, env: str, urls: dict[str, str], gitlab_url: str, clock: FakeClock, out
) -> Context:
    root = tmp_path / "checkout"
    (root / f"overlays/{env}/images").mkdir(parents=True, exist_ok=True)
    (root / f"overlays/{env}/images/kustomization.yaml").write_text(IMAGES_FIXTURE)
    layout = Layout(root, env)
    outputs = EnvOutputs.placeholder(env, "eu-west-1")
    outputs = EnvOutputs(
        **{
            **outputs.__dict__,
            "ecr_repository_urls": {i: u.replace("/dev/", f"/{env}/") for i, u in urls.items()},
        }
    )
    return Context(
        layout=layout,
        shell=Shell(layout=layout, dry_run=False, out=out),
        aws=Aws(),
        kubeconfig=tmp_path / "kubeconfig",
        region="eu-west-1",
        inputs=Inputs(repo_url=REPO_URL, admin_cidr=ADMIN_CIDR, revision="main", gitlab_url=gitlab_url),
        waits=WaitPolicy(timeout_s=60, interval_s=15, sleep=clock.sleep, clock=clock.clock),
        outputs=outputs,
    )


def images_file(tag: str) -> dict:
    text = IMAGES_FIXTURE.replace("0.1.0", tag)
    return {
        "file_path": "overlays/dev/images/kustomization.yaml",
        "encoding": "base64",
        "content": base64.b64encode(text.encode()).decode(),
    }


def pipeline(status: str, url: str) -> dict:
    return {"id": 4711, "status": status, "ref": "main", "web_url": f"{url}/acme/movies/-/pipelines/4711"}


@pytest.fixture
def out(tmp_path):
    with (tmp_path / "out.txt").open("w+") as handle:
        yield handle


def said(out) -> str:
    out.seek(0)
    return out.read()


def test_dev_with_every_image_in_ecr_builds_nothing(tmp_path, ecr_emulator, registry, gitlab, out):
    push(ecr_emulator, "dev", "0.1.0")
    ctx = context(tmp_path, "dev", registry, gitlab.url, FakeClock(), out)

    images.ensure_images(ctx)

    assert gitlab.requests == []
    assert "every image of overlays/dev/images/kustomization.yaml is in ECR" in said(out)


def test_dev_builds_every_service_then_waits_for_the_tag_commit(
    tmp_path, ecr_emulator, registry, gitlab, out
):
    """ECR is empty: start the pipeline, wait for it, then for the revision's file to pin built tags."""
    clock = FakeClock()
    gitlab.reply("POST", f"{PROJECT}/pipeline", pipeline("created", gitlab.url), status=201)
    gitlab.reply("GET", f"{PROJECT}/pipelines/4711", pipeline("running", gitlab.url))
    gitlab.reply("GET", f"{PROJECT}/pipelines/4711", pipeline("success", gitlab.url))
    gitlab.reply("GET", FILE, images_file("0.1.0"))  # before the build
    gitlab.reply("GET", FILE, images_file("0.1.0"))  # the tag writer has not committed yet
    gitlab.reply("GET", FILE, images_file(NEW_TAG))
    push(ecr_emulator, "dev", NEW_TAG)  # what the pipeline's build jobs pushed
    ctx = context(tmp_path, "dev", registry, gitlab.url, clock, out)

    images.ensure_images(ctx)

    (create,) = [r for r in gitlab.requests if r.method == "POST"]
    assert create.body == {"ref": "main", "variables": [{"key": "BUILD_ALL", "value": "true"}]}
    assert create.headers["PRIVATE-TOKEN"] == fake_gitlab.TOKEN
    assert gitlab.calls() == [
        ("GET", FILE),
        ("POST", f"{PROJECT}/pipeline"),
        ("GET", f"{PROJECT}/pipelines/4711"),
        ("GET", f"{PROJECT}/pipelines/4711"),
        ("GET", FILE),
        ("GET", FILE),
    ]
    assert [r.query for r in gitlab.requests if r.path == FILE] == [{"ref": ["main"]}] * 3
    text = said(out)
    assert (
        "overlays/dev/images/kustomization.yaml at main pins api-gateway:0.1.0, billing-app:0.1.0, "
        "inventory-app:0.1.0, not in ECR either: building every service" in text
    )
    assert f"pipeline 4711: {gitlab.url}/acme/movies/-/pipelines/4711" in text
    assert (
        f"pins api-gateway:{NEW_TAG}, billing-app:{NEW_TAG}, inventory-app:{NEW_TAG}, all in ECR: "
        "the root will sync them" in text
    )
    assert clock.sleeps == 2  # one while running, one before the tag commit


def test_a_rerun_whose_checkout_is_behind_the_tag_commit_builds_nothing(
    tmp_path, ecr_emulator, registry, gitlab, out
):
    """The first up built and CI committed new tags; this checkout still pins 0.1.0 (not pulled)."""
    push(ecr_emulator, "dev", NEW_TAG)
    gitlab.reply("GET", FILE, images_file(NEW_TAG))
    ctx = context(tmp_path, "dev", registry, gitlab.url, FakeClock(), out)

    images.ensure_images(ctx)

    assert gitlab.calls() == [("GET", FILE)]  # no pipeline
    assert (
        f"at main pins api-gateway:{NEW_TAG}, billing-app:{NEW_TAG}, inventory-app:{NEW_TAG}, all in ECR"
        in said(out)
    )


def test_a_failed_build_is_one_line_with_the_pipeline_url(tmp_path, ecr_emulator, registry, gitlab, out):
    gitlab.reply("GET", FILE, images_file("0.1.0"))
    gitlab.reply("POST", f"{PROJECT}/pipeline", pipeline("created", gitlab.url), status=201)
    gitlab.reply("GET", f"{PROJECT}/pipelines/4711", pipeline("failed", gitlab.url))
    ctx = context(tmp_path, "dev", registry, gitlab.url, FakeClock(), out)

    with pytest.raises(StepError) as err:
        images.ensure_images(ctx)

    assert str(err.value) == (
        f"pipeline {gitlab.url}/acme/movies/-/pipelines/4711 ended failed: the images were not built"
    )


def test_a_build_that_never_ends_times_out(tmp_path, ecr_emulator, registry, gitlab, out):
    gitlab.reply("GET", FILE, images_file("0.1.0"))
    gitlab.reply("POST", f"{PROJECT}/pipeline", pipeline("created", gitlab.url), status=201)
    gitlab.reply("GET", f"{PROJECT}/pipelines/4711", pipeline("running", gitlab.url))
    ctx = context(tmp_path, "dev", registry, gitlab.url, FakeClock(), out)

    with pytest.raises(StepError) as err:
        images.ensure_images(ctx)

    assert str(err.value).startswith(
        f"gave up waiting for pipeline {gitlab.url}/acme/movies/-/pipelines/4711"
    )
    assert str(err.value).endswith("after 60 s: it is running")


def test_dev_without_a_gitlab_token_says_what_is_missing(
    tmp_path, ecr_emulator, registry, gitlab, out, monkeypatch
):
    monkeypatch.delenv("GITLAB_TOKEN")
    push(ecr_emulator, "dev", "0.1.0", only=("api-gateway",))
    ctx = context(tmp_path, "dev", registry, gitlab.url, FakeClock(), out)

    with pytest.raises(StepError) as err:
        images.ensure_images(ctx)

    assert str(err.value) == "GITLAB_TOKEN is not set: the first images must be built by the GitLab pipeline"
    assert "billing-app:0.1.0, inventory-app:0.1.0" in said(out)
    assert gitlab.requests == []


def test_prod_never_builds_and_asks_for_the_promotion(tmp_path, ecr_emulator, registry, gitlab, out):
    push(ecr_emulator, "prod", "0.1.0", only=("api-gateway", "billing-app"))
    ctx = context(tmp_path, "prod", registry, gitlab.url, FakeClock(), out)

    with pytest.raises(StepError) as err:
        images.ensure_images(ctx)

    assert str(err.value) == (
        "inventory-app:0.1.0 not in ECR: prod never builds; run the promotion first (run the pipeline's "
        "promote-prod job; promote-copy and promote-mr follow) and merge its MR"
    )
    assert gitlab.requests == []


def test_prod_with_its_promoted_images_passes(tmp_path, ecr_emulator, registry, gitlab, out):
    push(ecr_emulator, "prod", "0.1.0")
    ctx = context(tmp_path, "prod", registry, gitlab.url, FakeClock(), out)

    images.ensure_images(ctx)

    assert "every image of overlays/prod/images/kustomization.yaml is in ECR" in said(out)


def test_the_real_images_files_pin_one_tag_per_image_of_terraforms_repositories():
    for env in ("dev", "prod"):
        path = REAL_ROOT / f"overlays/{env}/images/kustomization.yaml"
        assert set(images.pinned_tags(path.read_text(), str(path))) == set(IMAGES)
