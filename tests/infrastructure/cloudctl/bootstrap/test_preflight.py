"""Missing terraform, kubectl or AWS credentials: one line before any step runs (STAND-IN binaries)."""

from __future__ import annotations

import io
import json

import pytest
from botocore.response import StreamingBody
from cloudctl.bootstrap import commands
from cloudctl_fakes import ADMIN_CIDR, ENV_OUTPUTS, INPUTS, StubbedAws


@pytest.mark.parametrize(
    ("tool", "hint"),
    [
        ("terraform", "install the Terraform version pinned by required_version in infrastructure/terraform"),
        ("kubectl", "run `make venv` and put .venv/bin (the pinned kubectl) first on PATH"),
    ],
)
def test_a_missing_tool_is_one_line_before_anything_runs(run, repo, standins, ssm, monkeypatch, tool, hint):
    standins.remove(tool)
    monkeypatch.setenv("PATH", str(standins.bin))  # only the stand-ins: the machine's tools must not count

    result = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", *INPUTS)

    assert result.code == 1
    assert result.err == f"cloudctl up: error: {tool} not found on PATH: {hint}\n"
    assert standins.calls() == []
    assert "==>" not in result.out


def test_plan_does_not_need_kubectl(run, repo, standins, ssm, monkeypatch):
    standins.remove("kubectl")
    monkeypatch.setenv("PATH", str(standins.bin))

    result = run("plan", "--env", "dev", "--repo-root", str(repo), "--admin-cidr", ADMIN_CIDR)

    assert result.code == 0, result.err
    assert "infrastructure/terraform/envs/dev: changes pending" in result.out


def test_missing_aws_credentials_is_one_line_before_anything_runs(run, repo, standins, monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)

    result = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", *INPUTS)

    assert result.code == 1
    assert result.err == (
        "cloudctl up: error: no AWS credentials found: set AWS_PROFILE (after `aws sso login`) or "
        "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY\n"
    )
    assert standins.calls() == []


def test_missing_gitops_files_are_named_before_anything_runs(run, repo, standins, ssm):
    (repo / "clusters/dev/root.yaml").unlink()

    result = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", *INPUTS)

    assert result.code == 1
    assert result.err == f"cloudctl up: error: missing in the checkout {repo}: clusters/dev/root.yaml\n"
    assert standins.calls() == []


def test_tfvars_of_another_environment_are_refused(run, repo, standins, ssm):
    tfvars = repo / "infrastructure/terraform/envs/dev/terraform.tfvars"
    tfvars.write_text(tfvars.read_text().replace('environment             = "dev"', 'environment = "prod"'))

    result = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", *INPUTS)

    assert result.code == 1
    assert result.err == (
        "cloudctl up: error: infrastructure/terraform/envs/dev/terraform.tfvars sets environment = 'prod', "
        "not 'dev'\n"
    )
    assert standins.calls() == []


def test_unparseable_tfvars_is_one_line(run, repo, standins, ssm):
    (repo / "infrastructure/terraform/envs/dev/terraform.tfvars").write_text(
        'region = "eu-west-1\nenvironment =\n'
    )

    result = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", *INPUTS)

    assert result.code == 1
    assert result.err.startswith("cloudctl up: error: ") and result.err.count("\n") == 1
    assert "terraform.tfvars is not valid HCL" in result.err
    assert standins.calls() == []


def test_credentials_sts_rejects_are_one_line_before_anything_runs(run, repo, standins, monkeypatch):
    stub = StubbedAws()
    stub.stubbers["sts"].add_client_error(
        "get_caller_identity",
        service_error_code="ExpiredToken",
        http_status_code=403,
        service_message="The security token included in the request is expired",
    )
    monkeypatch.setattr(commands, "aws_factory", lambda: stub)

    result = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", *INPUTS)

    assert result.code == 1
    assert result.err == (
        "cloudctl up: error: AWS rejected the credentials (sts get-caller-identity: ExpiredToken)\n"
    )
    assert standins.calls() == []


def test_the_preflight_names_the_account_it_will_change(run, repo, standins, ssm, clock, alb):
    ssm.images_present()
    ssm.holds()

    result = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", *INPUTS)

    assert result.code == 0, result.err
    assert result.out.startswith("preflight: terraform, kubectl on PATH; AWS account 123456789012\n")
    ssm.assert_all_used()  # the STS answer was used


# --- GITLAB_TOKEN: refused only when dev's images step will have to build -------------------------

STATE_KEY = "envs/dev/terraform.tfstate"


def env_state(ssm, urls: dict | None) -> None:
    """The env root's Terraform state in the state bucket (None: no state yet, a new account)."""
    bucket = "cloud-design-tfstate-123456789012"
    if urls is None:
        ssm.stubbers["s3"].add_client_error(
            "get_object",
            service_error_code="NoSuchBucket",
            http_status_code=404,
            expected_params={"Bucket": bucket, "Key": STATE_KEY},
        )
        return
    body = json.dumps(
        {"version": 4, "outputs": {"ecr_repository_urls": {"value": urls, "type": "map"}}}
    ).encode()
    ssm.stubbers["s3"].add_response(
        "get_object",
        {"Body": StreamingBody(io.BytesIO(body), len(body))},
        expected_params={"Bucket": bucket, "Key": STATE_KEY},
    )


def test_dev_on_a_new_account_needs_a_gitlab_token_before_anything_runs(
    run, repo, standins, ssm, monkeypatch
):
    monkeypatch.delenv("GITLAB_TOKEN")
    env_state(ssm, None)

    result = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", *INPUTS)

    assert result.code == 1
    assert result.err == (
        "cloudctl up: error: GITLAB_TOKEN is not set, and the env has no Terraform state yet "
        "(s3://cloud-design-tfstate-123456789012/envs/dev/terraform.tfstate): dev's first images are built "
        "by the GitLab pipeline, which needs a token with the api scope\n"
    )
    assert standins.calls() == []


def test_dev_with_a_missing_image_needs_a_gitlab_token(run, repo, standins, ssm, monkeypatch):
    monkeypatch.delenv("GITLAB_TOKEN")
    env_state(ssm, ENV_OUTPUTS["ecr_repository_urls"]["value"])
    for _ in range(3):  # the three images, none pushed
        ssm.image_missing()

    result = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", *INPUTS)

    assert result.code == 1
    assert (
        "GITLAB_TOKEN is not set, and api-gateway:0.1.0, billing-app:0.1.0, inventory-app:0.1.0 not in ECR: "
        in result.err
    )
    assert result.err.count("\n") == 1
    assert standins.calls() == []


def test_dev_whose_images_exist_needs_no_gitlab_token(run, repo, standins, ssm, clock, monkeypatch, alb):
    monkeypatch.delenv("GITLAB_TOKEN")
    env_state(ssm, ENV_OUTPUTS["ecr_repository_urls"]["value"])
    ssm.images_present()  # the preflight's look
    ssm.images_present()  # the images step's
    ssm.holds()

    result = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", *INPUTS)

    assert result.code == 0, result.err
    ssm.assert_all_used()
