"""Every root and every module through the real Terraform engine: `init -backend=false` and `validate`.

The provider is the pinned hashicorp/aws, from a filesystem mirror when one holds it, from the
registry otherwise (terraform_engine.py). These tests also prove that the check can fail: an
attribute the pinned provider does not have fails validate, and init with neither a mirror nor a
registry fails in one line that names what is missing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from terraform_engine import (
    PROVIDER_SOURCE,
    TERRAFORM_TREE,
    TerraformFailed,
    Workspace,
    pinned_aws_version,
)
from terraform_hcl import MODULE_DIRS, ROOT_DIRS

ALL_DIRS = tuple(str(path.relative_to(TERRAFORM_TREE)) for path in (*ROOT_DIRS, *MODULE_DIRS))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return Workspace.create(tmp_path_factory.mktemp("validate"))


def validate(workspace: Workspace, relative: str) -> dict:
    workspace.init(relative, "-backend=false")
    result = workspace.run(relative, "validate", "-json", "-no-color", ok=(0, 1))
    return json.loads(result.stdout)


def problems(report: dict) -> list[str]:
    return [f"{d['severity']}: {d['summary']}: {d.get('detail', '')}".strip() for d in report["diagnostics"]]


@pytest.mark.parametrize("relative", ALL_DIRS)
def test_init_and_validate(workspace: Workspace, relative: str):
    report = validate(workspace, relative)
    # Warnings count too: a deprecated attribute today is an error on the next major.
    assert report["valid"] and not report["diagnostics"], problems(report)


def test_validate_fails_on_an_attribute_the_pinned_provider_lacks(workspace: Workspace):
    """aws_region's `region` exists only in provider 6.x; with 5.100.0 validate must refuse it."""
    network = workspace.root("modules/network/main.tf")
    original = network.read_text()
    assert "data.aws_region.current.id" in original
    network.write_text(original.replace("data.aws_region.current.id", "data.aws_region.current.region"))
    try:
        report = validate(workspace, "modules/network")
    finally:
        network.write_text(original)
    assert not report["valid"]
    assert any("region" in problem for problem in problems(report)), problems(report)


def test_init_names_the_missing_provider_when_no_mirror_and_no_registry(tmp_path: Path):
    # The registry is made unreachable (a proxy on a closed loopback port) and no mirror is used.
    unreachable = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    workspace = Workspace.create(tmp_path, unreachable)
    workspace.mirror = None
    (tmp_path / "terraform.tfrc").write_text("# registry only\n")
    with pytest.raises(TerraformFailed) as failed:
        workspace.init("state", "-backend=false")
    message = str(failed.value)
    assert "\n" not in message
    assert f"hashicorp/aws {pinned_aws_version()} is in no filesystem mirror" in message


ROOTS = tuple(str(path.relative_to(TERRAFORM_TREE)) for path in ROOT_DIRS)


@pytest.mark.parametrize("relative", ROOTS)
def test_every_root_commits_a_lock_file_for_the_pinned_provider(relative: str):
    """init (above) checks the installed provider against these hashes; here, that they are the pin's."""
    lock = TERRAFORM_TREE / relative / ".terraform.lock.hcl"
    assert lock.is_file(), f"{relative} has no committed .terraform.lock.hcl"
    text = lock.read_text()
    assert f'provider "{PROVIDER_SOURCE}"' in text
    assert f'version     = "{pinned_aws_version()}"' in text
    assert '"h1:' in text


def test_init_refuses_a_provider_whose_hash_the_lock_file_does_not_list(tmp_path: Path):
    workspace = Workspace.create(tmp_path)
    lock = workspace.root("state") / ".terraform.lock.hcl"
    lock.write_text(re.sub(r'"h1:[^"]+"', '"h1:' + "A" * 43 + '="', lock.read_text()))
    with pytest.raises(TerraformFailed, match="checksum|match"):
        workspace.init("state", "-backend=false")
