"""Deliberately broken copies of the tree make `make validate`'s validator fail, and each failure
names the file and the object. One copy carries all four breakages, so one render proves them all."""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml
from manifest_helpers import copy_tree


def edit_yaml(path, change, index=0):
    docs = list(yaml.safe_load_all(path.read_text()))
    change(docs[index])
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory):
    root = copy_tree(tmp_path_factory.mktemp("broken"))

    # 1. missing limits
    edit_yaml(
        root / "base/api-gateway/deployment.yaml",
        lambda d: d["spec"]["template"]["spec"]["containers"][0]["resources"].pop("limits"),
    )
    # 2. a :latest image (the tag CI would write)
    images = root / "overlays/dev/images/kustomization.yaml"
    images.write_text(images.read_text().replace("newTag: 0.1.0", "newTag: latest", 1))
    # 3. an unknown field in a core object
    edit_yaml(root / "base/billing/service.yaml", lambda d: d["spec"].update(clusterIp="None"))
    # 4. a custom resource with a wrong field
    edit_yaml(root / "base/billing-worker/scaledobject.yaml", lambda d: d["spec"].update(maxReplicas=3))

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cloudctl.manifests",
            "validate",
            "--root",
            str(root),
            "--only",
            "schema,policy",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return result


def test_validate_fails(broken_run):
    assert broken_run.returncode != 0
    assert "problem(s) in the GitOps tree" in broken_run.stderr


def failures(run):
    return [line for line in run.stdout.splitlines() if line.startswith("FAIL ")]


def test_missing_limits_names_file_and_object(broken_run):
    assert any(
        line.startswith(
            "FAIL base/api-gateway/deployment.yaml: Deployment/api-gateway: "
            "container api-gateway: no limits for cpu, memory"
        )
        for line in failures(broken_run)
    ), broken_run.stdout


def test_latest_image_names_file_and_object(broken_run):
    assert any(
        line.startswith(
            "FAIL base/api-gateway/deployment.yaml: Deployment/api-gateway: container api-gateway: image"
        )
        and "uses the floating tag latest" in line
        for line in failures(broken_run)
    ), broken_run.stdout


def test_unknown_field_names_file_and_object(broken_run):
    assert any(
        line.startswith("FAIL base/billing/service.yaml: Service/billing: spec") and "clusterIp" in line
        for line in failures(broken_run)
    ), broken_run.stdout


def test_wrong_custom_resource_field_names_file_and_object(broken_run):
    assert any(
        line.startswith("FAIL base/billing-worker/scaledobject.yaml: ScaledObject/billing-worker: spec")
        and "maxReplicas" in line
        for line in failures(broken_run)
    ), broken_run.stdout


def test_nothing_else_is_reported(broken_run):
    # the four breakages show up once per rendering that contains them, and nothing unrelated
    unrelated = [
        line
        for line in failures(broken_run)
        if not any(k in line for k in ("no limits", "floating tag latest", "clusterIp", "maxReplicas"))
    ]
    assert unrelated == []
