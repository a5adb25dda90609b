"""registry.py: the ECR repositories computed from the job's AWS identity, and the check that lets a
retried build of the same commit skip a push that IMMUTABLE tags would refuse.

The check runs for real: Debian's `docker-registry` (the CNCF distribution registry, the same API
ECR serves) on a free loopback port, and skopeo, which pushes a small image the test makes and then
answers the lookups. Only STS is a stand-in (botocore's Stubber): there is no AWS here.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import socket
import subprocess
import time
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from cloudctl.delivery import builds, commands, registry
from cloudctl.errors import CloudctlError
from oci_registry import free_port, push, single_image

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = Path(__file__).parent / "fixtures"
SHA = "3f2a9c1e5b7d"


def cli(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    commands.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


# --- repositories: named like Terraform's, in the account and region the job runs as -----------
def test_repository_names_are_terraforms():
    for env in ("dev", "prod"):
        main = (ROOT / f"infrastructure/terraform/envs/{env}/main.tf").read_text()
        block = re.search(r"module \"registry\" \{.*?\n\}", main, re.S).group(0)
        prefix = re.search(r'name_prefix\s*=\s*"([^"]+)"', block).group(1)
        assert prefix.replace("${var.environment}", env) == f"{registry.REPOSITORY_PREFIX}/{env}"
    assert registry.repository_name("dev", "api-gateway") == "cloud-design/dev/api-gateway"


def test_the_ci_variables_name_the_registry():
    found = registry.EcrRegistry.from_environment(
        {"AWS_ACCOUNT_ID": "123456789012", "AWS_REGION": "eu-west-1"}
    )
    assert found.host == "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert found.repository("prod", "billing-app") == registry.Repository(
        "123456789012", "eu-west-1", "cloud-design/prod/billing-app"
    )
    assert registry.EcrRegistry.from_host(found.host) == found


def test_without_an_account_variable_sts_names_the_account():
    sts = boto3.client("sts", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sts) as stub:
        stub.add_response(
            "get_caller_identity",
            {"Account": "210987654321", "Arn": "arn:aws:sts::210987654321:x", "UserId": "x"},
        )
        found = registry.EcrRegistry.from_environment({"AWS_REGION": "eu-central-1"}, sts=sts)
    assert found == registry.EcrRegistry("210987654321", "eu-central-1")


def test_an_sts_failure_is_one_line():
    sts = boto3.client("sts", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(sts) as stub, pytest.raises(CloudctlError, match="cannot tell the AWS account"):
        stub.add_client_error("get_caller_identity", service_error_code="ExpiredToken")
        registry.EcrRegistry.from_environment({"AWS_REGION": "eu-west-1"}, sts=sts)


def test_without_any_region_the_error_says_where_to_set_one(monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    with pytest.raises(CloudctlError, match="no AWS region: set AWS_REGION"):
        registry.EcrRegistry.from_environment({"AWS_ACCOUNT_ID": "123456789012"})


def test_the_registry_login_is_ecrs_authorization_token():
    import base64

    ecr = boto3.client("ecr", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
    token = base64.b64encode(b"AWS:short-lived-password").decode()
    with Stubber(ecr) as stub:
        stub.add_response("get_authorization_token", {"authorizationData": [{"authorizationToken": token}]})
        assert registry.ecr_credentials(ecr) == "AWS:short-lived-password"
        stub.add_client_error("get_authorization_token", service_error_code="AccessDeniedException")
        with pytest.raises(CloudctlError, match="ECR: cannot get a registry login"):
            registry.ecr_credentials(ecr)


@pytest.mark.parametrize(
    ("account", "region", "error"),
    [("12345", "eu-west-1", "malformed AWS account"), ("123456789012", "europe", "malformed AWS region")],
)
def test_malformed_identities_are_refused(account, region, error):
    with pytest.raises(CloudctlError, match=error):
        registry.EcrRegistry(account, region)


def test_a_host_that_is_not_ecr_is_refused():
    with pytest.raises(CloudctlError, match="not an ECR registry"):
        registry.EcrRegistry.from_host("registry.example.com")


# --- a real registry (conftest.py: registry_server) -----------------------------------------------
@pytest.fixture(scope="module")
def oci_registry(registry_server):
    return registry_server.host


@pytest.fixture(scope="module")
def pushed_once(oci_registry, tmp_path_factory):
    """api-gateway at SHA pushed once, as the first run of its build job does."""
    image = single_image(tmp_path_factory.mktemp("image"), "built from " + SHA)
    destination = f"{oci_registry}/cloud-design/dev/api-gateway:{SHA}"
    first = push(image, destination)
    assert first.returncode == 0, first.stderr
    return image, destination


def test_a_pushed_tag_is_present_and_a_new_one_is_not(oci_registry, pushed_once):
    assert registry.tag_present(pushed_once[1]) is True
    assert registry.tag_present(f"{oci_registry}/cloud-design/dev/api-gateway:0000000") is False


def present_images(registry: str, plan: Path) -> int:
    """`cloudctl present-images` for this commit's dev images, writing the build plan; its exit code."""
    return cli(
        "present-images",
        "--env",
        "dev",
        "--tag",
        SHA,
        "--registry",
        registry,
        "--build-plan",
        str(plan),
        "--repo",
        str(ROOT),
    )


def plan_values(path: Path) -> dict[str, str]:
    """A build plan file as the job's shell reads it (sourced by sh, then printed back)."""
    done = subprocess.run(
        ["sh", "-c", 'set -a && . "$1" && env', "sh", str(path)],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin"},
    )
    names = {"IMAGE", "CONTEXT", "DOCKERFILE", "DESTINATION", "CACHE", "PRESENT"}
    values = dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)
    return {name: value for name, value in values.items() if name in names}


def test_the_retried_build_skips_exactly_the_images_already_pushed(
    oci_registry, pushed_once, tmp_path, capsys
):
    plan = tmp_path / "plan"
    assert present_images(oci_registry, plan) == 0
    out = capsys.readouterr().out
    assert f"cloud-design/dev/api-gateway:{SHA}: already there, the build job skips its push" in out
    assert f"cloud-design/dev/billing-app:{SHA}: not there yet" in out
    assert sorted(p.name for p in plan.iterdir()) == [
        "api-gateway.env",
        "billing-app.env",
        "inventory-app.env",
    ]
    assert plan_values(plan / "api-gateway.env") == {
        "IMAGE": "api-gateway",
        "CONTEXT": "services",
        "DOCKERFILE": "services/api-gateway/Dockerfile",
        "DESTINATION": f"{oci_registry}/cloud-design/dev/api-gateway:{SHA}",
        "CACHE": f"{oci_registry}/cloud-design/dev/api-gateway/cache",
        "PRESENT": "true",
    }
    billing = plan_values(plan / "billing-app.env")
    assert billing["DOCKERFILE"] == "services/billing/Dockerfile" and billing["PRESENT"] == "false"


ECR_HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
STANDIN_BUILDAH = """#!/bin/sh
# STAND-IN for buildah (no container storage or registry login here): records its argv, one
# JSON list per call, and the auth file the job wrote, then succeeds.
python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@" >> "$STANDIN_LOG"
cat "$REGISTRY_AUTH_FILE" > "$STANDIN_LOG.auth"
"""
STANDIN_CURL = """#!/bin/sh
# STAND-IN for curl (no internet here): writes a fixed file where -o says, as a download would.
while [ $# -gt 0 ]; do
  if [ "$1" = -o ]; then shift; printf 'stand-in ecr credential helper\n' > "$1"; fi
  shift
done
"""
STANDIN_HELPER_SHA256 = hashlib.sha256(b"stand-in ecr credential helper\n").hexdigest()


def run_build_job(tmp_path: Path, present: list[str], helper_sha256: str = STANDIN_HELPER_SHA256):
    """build-api-gateway run by gitlab-ci-local's shell executor, with the plan present-images
    writes, the stand-in buildah and curl first on PATH. Returns (job, clone, buildah calls)."""
    import gitlab_ci_local

    tools = tmp_path / "standins"
    tools.mkdir()
    for name, script in (("buildah", STANDIN_BUILDAH), ("curl", STANDIN_CURL)):
        (tools / name).write_text(script)
        (tools / name).chmod(0o755)
    base = gitlab_ci_local.base_repository(tmp_path / "origin")
    clone = gitlab_ci_local.pipeline_clone(base, tmp_path / "pipeline", ["services/api-gateway/app.py"])
    builds.write_plan(clone / ".build/build-plan", builds.plan(ROOT, ECR_HOST, "dev", SHA, present))
    log = tmp_path / "buildah.jsonl"
    variables = {
        "CI_PIPELINE_SOURCE": "push",
        "CI_PROJECT_DIR": str(clone),
        "CI_COMMIT_SHA": SHA,
        "AWS_ACCOUNT_ID": "123456789012",
        "AWS_REGION": "eu-west-1",
        "ECR_LOGIN_SHA256": helper_sha256,
        "STANDIN_LOG": str(log),
    }
    job = gitlab_ci_local.run(
        clone, "--force-shell-executor", "build-api-gateway", variables=variables, path=[tools]
    )
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return job, clone, calls


def test_the_build_job_runs_buildah_with_the_plans_values(tmp_path):
    job, clone, calls = run_build_job(tmp_path, present=[])
    assert job.returncode == 0, (job.stdout + job.stderr)[-3000:]
    destination = f"{ECR_HOST}/cloud-design/dev/api-gateway:{SHA}"
    cache = f"{ECR_HOST}/cloud-design/dev/api-gateway/cache"
    assert calls == [
        [
            "build",
            "--layers",
            "--cache-from",
            cache,
            "--cache-to",
            cache,
            "-f",
            "services/api-gateway/Dockerfile",
            "-t",
            destination,
            "services",
        ],
        ["push", destination],
    ]
    # buildah signs in through ECR's credential helper, for this registry only
    auth = json.loads((tmp_path / "buildah.jsonl.auth").read_text())
    assert auth == {"credHelpers": {ECR_HOST: "ecr-login"}}
    assert (clone / ".build/bin/docker-credential-ecr-login").stat().st_mode & 0o111
    assert (clone / ".build/images/api-gateway").read_text() == f"api-gateway={SHA}\n"


def test_a_helper_download_with_another_checksum_stops_the_job_before_buildah(tmp_path):
    job, clone, calls = run_build_job(tmp_path, present=[], helper_sha256="0" * 64)
    assert job.returncode != 0 and calls == []
    assert "FAILED" in job.stdout + job.stderr  # sha256sum --check
    assert not (clone / ".build/images/api-gateway").exists()


def test_the_retried_build_job_then_skips_its_push(oci_registry, pushed_once, tmp_path):
    """The build job itself, with the plan present-images wrote for an image already pushed."""
    job, clone, calls = run_build_job(tmp_path, present=["api-gateway"])
    log = job.stdout + job.stderr
    assert job.returncode == 0, log[-3000:]
    assert calls == []  # buildah was never called
    destination = f"{ECR_HOST}/cloud-design/dev/api-gateway:{SHA}"
    assert f"{destination} is already in ECR (an earlier run built this commit): no build, no push" in log
    # ... and still hands its tag to deploy-dev, which commits it to dev
    assert (clone / ".build/images/api-gateway").read_text() == f"api-gateway={SHA}\n"


def test_an_unreachable_registry_is_an_error_not_an_absent_tag(capsys):
    closed = f"127.0.0.1:{free_port()}"
    with pytest.raises(
        CloudctlError,
        match=rf"cannot tell whether {closed}/cloud-design/dev/api-gateway:{SHA} exists: .*connect",
    ):
        cli("present-images", "--env", "dev", "--tag", SHA, "--registry", closed, "--repo", str(ROOT))


def test_a_registry_that_is_not_one_is_an_error(tmp_path):
    # A plain HTTP server that answers 404 to everything: not the registry's MANIFEST_UNKNOWN.
    port = free_port()
    server = subprocess.Popen(
        ["python3", "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        with pytest.raises(CloudctlError, match="cannot tell whether"):
            registry.tag_present(f"127.0.0.1:{port}/cloud-design/dev/api-gateway:{SHA}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_a_malformed_tag_is_refused_before_any_lookup():
    with pytest.raises(CloudctlError, match="malformed image tag"):
        cli(
            "present-images",
            "--env",
            "dev",
            "--tag",
            "latest:x",
            "--registry",
            "127.0.0.1:1",
            "--repo",
            str(ROOT),
        )
