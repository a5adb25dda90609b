"""Layout and conventions: roots and modules, typed and described variables, described outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from terraform_hcl import ENVS, MODULE_DIRS, ROOT_DIRS, TERRAFORM, labelled, load_dir

ALL_DIRS = (*ROOT_DIRS, *MODULE_DIRS)
EXPECTED_MODULES = {
    "ci_oidc",
    "cluster",
    "database",
    "dns",
    "iam",
    "kms",
    "load_balancer",
    "monitoring",
    "network",
    "registry",
    "s3_bucket",
    "secrets",
    "security_groups",
    "storage",
}
# Building blocks called by other modules rather than by the environment root.
SHARED_MODULES = {"s3_bucket"}


def ids(paths):
    return [str(path.relative_to(TERRAFORM)) for path in paths]


def test_one_module_per_concern():
    assert {path.name for path in MODULE_DIRS} == EXPECTED_MODULES


@pytest.mark.parametrize("directory", ALL_DIRS, ids=ids(ALL_DIRS))
def test_standard_files(directory: Path):
    for name in ("versions.tf", "main.tf", "variables.tf", "outputs.tf"):
        assert (directory / name).is_file(), f"{directory.name} lacks {name}"


@pytest.mark.parametrize("directory", ALL_DIRS, ids=ids(ALL_DIRS))
def test_every_variable_has_a_type_and_a_description(directory: Path):
    variables = labelled(directory, "variable")
    assert variables, f"{directory} declares no variables"
    for name, body in variables.items():
        assert body.get("type"), f"{directory.name}: variable {name} has no type"
        assert len(body.get("description", "")) > 10, f"{directory.name}: variable {name} has no description"


@pytest.mark.parametrize("directory", ALL_DIRS, ids=ids(ALL_DIRS))
def test_every_output_has_a_description(directory: Path):
    outputs = labelled(directory, "output")
    assert outputs, f"{directory} declares no outputs"
    for name, body in outputs.items():
        assert len(body.get("description", "")) > 10, f"{directory.name}: output {name} has no description"


@pytest.mark.parametrize("env", ENVS)
def test_env_roots_share_one_configuration(env: str):
    """dev and prod link the common root files; only their values and backend key differ."""
    directory = TERRAFORM / "envs" / env
    for name in ("versions.tf", "providers.tf", "main.tf", "variables.tf", "outputs.tf"):
        link = directory / name
        assert link.is_symlink(), f"envs/{env}/{name} should link ../common/{name}"
        assert os.readlink(link) == f"../common/{name}"
        assert link.resolve() == (TERRAFORM / "envs" / "common" / name).resolve()
    assert (directory / "terraform.tfvars").is_file()
    assert (directory / "backend.hcl").is_file()


def test_modules_are_called_by_the_env_root():
    modules = labelled(TERRAFORM / "envs" / "common", "module")
    assert {Path(body["source"]).name for body in modules.values()} == EXPECTED_MODULES - SHARED_MODULES
    for body in modules.values():
        assert body["source"].startswith("../../modules/")


def test_storage_builds_its_buckets_from_the_shared_bucket_module():
    buckets = labelled(TERRAFORM / "modules" / "storage", "module")
    assert {name: body["source"] for name, body in buckets.items()} == {
        "logs": "../s3_bucket",
        "backups": "../s3_bucket",
    }


def test_cloud_init_templates_are_separate_files():
    templates = TERRAFORM / "modules" / "cluster" / "templates"
    assert {path.name for path in templates.glob("*.tftpl")} == {
        "master.sh.tftpl",
        "worker.sh.tftpl",
        "node-setup.sh.tftpl",
    }


def test_no_ssh_key_pairs_or_provisioners():
    """Operators use SSM Session Manager: no key pairs, no SSH provisioners anywhere."""
    for directory in ALL_DIRS:
        config = load_dir(directory)
        for block in config.get("resource", []):
            assert "aws_key_pair" not in block
            for resources in block.values():
                for body in resources.values():
                    assert "key_name" not in body and "provisioner" not in body and "connection" not in body
