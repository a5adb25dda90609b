"""The checkov stage: it must have scanned something, report failures by kustomization, and
every skip in the tree is a manifest annotation with a reason."""

from __future__ import annotations

import re

import pytest
import yaml
from cloudctl.errors import CloudctlError
from cloudctl.manifests import checkov_run
from manifest_helpers import ROOT

SKIP = re.compile(r"^checkov\.io/skip\d+$")


def test_a_scan_that_found_nothing_fails(tmp_path):
    empty = tmp_path / "nothing.yaml"
    empty.write_text("just: a mapping\n")
    with pytest.raises(CloudctlError, match="checkov scanned zero resources in 1 file"):
        checkov_run.run(ROOT, {"base/nothing": empty})


def test_a_failing_object_is_reported_with_its_kustomization(tmp_path):
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "bad", "namespace": "movies-dev"},
        "spec": {
            "containers": [{"name": "c", "image": "busybox:1.36", "securityContext": {"privileged": True}}]
        },
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(pod))
    result = checkov_run.run(ROOT, {"overlays/dev/bad": path})
    assert result.resources == 1
    assert any(
        line.startswith("overlays/dev/bad: Pod.movies-dev.bad: CKV_K8S_16") for line in result.failed
    ), result.failed


def test_every_skip_in_the_tree_carries_a_reason():
    skips = 0
    for top in ("base", "overlays", "apps", "clusters"):
        for path in (ROOT / top).rglob("*.yaml"):
            for doc in yaml.safe_load_all(path.read_text()):
                if not isinstance(doc, dict):
                    continue  # a JSON patch
                annotations = (doc.get("metadata") or {}).get("annotations") or {}
                for key, value in annotations.items():
                    if SKIP.match(key):
                        skips += 1
                        check, _, reason = str(value).partition("=")
                        assert re.fullmatch(r"CKV2?_[A-Z0-9_]+", check), f"{path}: {key}"
                        assert len(reason.split()) >= 4, f"{path}: {key} has no written reason"
    assert skips > 0
