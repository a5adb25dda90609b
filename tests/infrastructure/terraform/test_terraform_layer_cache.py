"""buildah's layer cache in ECR (docs/delivery.md, "Terraform for the layer cache"): one MUTABLE
repository <prefix>/<image>/cache per image of contract.yaml, in dev only, pulled from and pushed
to by the dev push role and by nobody else. The names equal what the build jobs derive
(cloudctl.delivery.builds) in test_terraform_emulator.py, where the repositories exist."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from terraform_engine import TERRAFORM_BIN
from terraform_hcl import (
    COMMON,
    data_sources,
    labelled,
    module_dir,
    resources,
    tfvars,
    variable_block,
    variable_default,
)

REGISTRY = module_dir("registry")
CI_OIDC = module_dir("ci_oidc")
VARIABLES = COMMON / "variables.tf"
# What buildah needs on a cache repository: --cache-from pulls, --cache-to pushes.
CACHE_PULL = {"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"}
CACHE_PUSH = {"ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload", "ecr:PutImage"}


def test_layer_cache_repositories_are_mutable_encrypted_scanned_disposable_and_expire():
    """buildah's cache (docs/delivery.md): <image>/cache beside each image repository, dev only."""
    this, cache = (resources(REGISTRY, "aws_ecr_repository")[name] for name in ("this", "cache"))
    assert cache["for_each"] == "${var.layer_cache ? toset(var.repository_names) : toset([])}"
    assert cache["name"] == "${var.name_prefix}/${each.key}/cache"
    assert cache["image_tag_mutability"] == "MUTABLE"
    assert cache["force_delete"] is True
    assert cache["image_scanning_configuration"] == this["image_scanning_configuration"]
    assert cache["encryption_configuration"] == this["encryption_configuration"]
    assert cache["encryption_configuration"][0]["kms_key"] == "${var.kms_key_arn}"
    # The one check it may skip, with its reason, in the way this repository skips checks.
    text = (REGISTRY / "main.tf").read_text()
    skip = re.search(r'resource "aws_ecr_repository" "cache" \{\n\s*#checkov:skip=CKV_AWS_51:(.+)', text)
    assert skip and "cache-key tag" in skip.group(1)
    policy = resources(REGISTRY, "aws_ecr_lifecycle_policy")["cache"]
    assert policy["for_each"] == "${aws_ecr_repository.cache}"
    assert 'countType = "sinceImagePushed", countUnit = "days"' in policy["policy"]
    assert "countNumber = var.cache_expire_days" in policy["policy"]
    assert variable_default("registry", "cache_expire_days") == 14
    assert variable_default("registry", "layer_cache") is False
    assert labelled(COMMON, "module")["registry"]["layer_cache"] == "${var.layer_cache}"
    assert (tfvars("dev")["layer_cache"], tfvars("prod")["layer_cache"]) == (True, False)


def test_the_dev_push_role_pulls_and_pushes_the_cache_and_the_nodes_never_see_it():
    calls = labelled(COMMON, "module")
    assert calls["ci_oidc"]["push_repository_arns"] == (
        "${concat(values(module.registry.repository_arns), values(module.registry.cache_repository_arns))}"
    )
    # The nodes pull deployed images only.
    assert calls["iam"]["ecr_repository_arns"] == "${values(module.registry.repository_arns)}"
    (push,) = [
        statement
        for document in data_sources(CI_OIDC, "aws_iam_policy_document")["push"]["statement"]
        for statement in [document]
        if statement.get("sid") == "EcrPushThisEnvironment"
    ]
    assert push["resources"] == "${var.push_repository_arns}"
    assert CACHE_PULL | CACHE_PUSH <= set(push["actions"])
    assert not [action for action in push["actions"] if "Delete" in action or "*" in action]


# --- layer_cache is dev's: the root's own variable blocks, planned without provider or AWS ------
@pytest.fixture(scope="module")
def variables_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("layer-cache")
    blocks = [variable_block(VARIABLES, name) for name in ("environment", "layer_cache")]
    (directory / "main.tf").write_text("\n\n".join(blocks) + "\n")
    return directory


def plan(root: Path, environment: str, layer_cache: bool) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(TERRAFORM_BIN),
            "plan",
            "-input=false",
            "-no-color",
            f"-var=environment={environment}",
            f"-var=layer_cache={str(layer_cache).lower()}",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("environment, layer_cache", [("dev", True), ("dev", False), ("prod", False)])
def test_layer_cache_is_accepted_where_images_are_built(variables_root: Path, environment, layer_cache):
    result = plan(variables_root, environment, layer_cache)
    assert result.returncode == 0, result.stderr


def test_layer_cache_in_prod_is_refused(variables_root: Path):
    result = plan(variables_root, "prod", True)
    assert result.returncode != 0
    assert "layer_cache is for dev only" in " ".join(result.stderr.replace("│", " ").split())
