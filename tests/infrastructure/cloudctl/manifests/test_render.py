"""Rendering: every kustomization renders offline, nothing renders empty, remote resources must be
pinned, and each object remembers its source file."""

from __future__ import annotations

import urllib.request

import pytest
import yaml
from cloudctl.errors import CloudctlError
from cloudctl.manifests import render, upstream
from manifest_helpers import ROOT


def _tree(root, files: dict[str, str]):
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    for top in ("base", "overlays", "apps", "clusters"):
        (root / top).mkdir(exist_ok=True)
    return root


def test_every_kustomization_and_component_is_discovered():
    kustomizations, components = render.discover(ROOT)
    assert {
        "base/api-gateway",
        "overlays/dev/workloads",
        "overlays/prod/workloads",
        "clusters/dev",
        "clusters/prod/argocd",
        "apps",
    } <= set(kustomizations)
    assert {"base/components/monitoring", "overlays/dev/images", "overlays/prod/environment"} <= set(
        components
    )


def test_objects_name_their_source_file(rendered):
    deployment = next(
        o
        for o in rendered["overlays/dev/workloads"].objects
        if o.kind == "Deployment" and o.name == "inventory"
    )
    assert deployment.source == "base/inventory/deployment.yaml"
    assert "config.kubernetes.io/origin" not in deployment.doc["metadata"].get("annotations", {})
    assert deployment.where() == "base/inventory/deployment.yaml: Deployment/inventory"


def test_a_kustomization_rendering_nothing_fails(tmp_path):
    root = _tree(tmp_path, {"base/empty/kustomization.yaml": "resources: []\n"})
    with pytest.raises(CloudctlError, match="base/empty: renders zero objects"):
        render.render_all(root, tmp_path / "work")


def test_an_unpinned_remote_resource_fails(tmp_path):
    root = _tree(tmp_path, {"base/remote/kustomization.yaml": "resources:\n  - https://example.com/x.yaml\n"})
    with pytest.raises(
        CloudctlError,
        match="base/remote/kustomization.yaml: remote resource https://example.com/x.yaml is not pinned",
    ):
        render.render_all(root, tmp_path / "work")


def test_a_broken_kustomization_names_its_folder(tmp_path):
    root = _tree(tmp_path, {"base/bad/kustomization.yaml": "resources:\n  - missing.yaml\n"})
    with pytest.raises(CloudctlError, match="base/bad: kubectl kustomize failed"):
        render.render_all(root, tmp_path / "work")


def test_pinned_files_come_from_the_mirror_when_present(tmp_path):
    url = next(iter(upstream.PINNED))
    path = upstream.fetch(url, tmp_path)
    assert str(path).startswith(str(upstream.mirror_dir()))


def test_without_mirror_the_pinned_url_is_downloaded_once(tmp_path, monkeypatch):
    # Stand-in for the network (no internet here): urlopen answers with fixed bytes.
    calls = []

    class Answer:
        def __init__(self, url):
            calls.append(url)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self):
            return b"kind: List\n"

    monkeypatch.setenv("UPSTREAM_MIRROR", str(tmp_path / "absent"))
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Answer(url))
    url = f"{upstream.ARGOCD}/install.yaml"
    first = upstream.fetch(url, tmp_path / "cache")
    second = upstream.fetch(url, tmp_path / "cache")
    assert first == second and first.read_bytes() == b"kind: List\n" and calls == [url]


def test_without_mirror_and_network_the_error_names_the_url(tmp_path, monkeypatch):
    def refuse(url, timeout):
        raise OSError("network unreachable")  # stand-in for an offline machine

    monkeypatch.setenv("UPSTREAM_MIRROR", str(tmp_path / "absent"))
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    with pytest.raises(
        CloudctlError, match="cannot download https://raw.githubusercontent.com/argoproj/argo-cd/v3.5.1"
    ):
        upstream.fetch(f"{upstream.ARGOCD}/install.yaml", tmp_path / "cache")


def test_the_argocd_kustomization_names_the_pinned_release():
    doc = yaml.safe_load((ROOT / "base/argocd/kustomization.yaml").read_text())
    # namespace.yaml first: the install holds no Namespace (the first-sync rehearsal checks it).
    assert doc["resources"] == [
        "namespace.yaml",
        "https://raw.githubusercontent.com/argoproj/argo-cd/v3.5.1/manifests/install.yaml",
    ]
    assert doc["resources"][1] in upstream.PINNED


def test_the_mirror_beside_the_checkout_is_the_default(monkeypatch):
    """No UPSTREAM_MIRROR: ../shared/upstream is read when present, else nothing (download)."""
    monkeypatch.delenv("UPSTREAM_MIRROR", raising=False)
    beside = ROOT.parent / "shared" / "upstream"
    assert upstream.DEFAULT_MIRROR == beside
    assert upstream.mirror_dir() == (beside if beside.is_dir() else None)
    monkeypatch.setattr(upstream, "DEFAULT_MIRROR", ROOT / "no-such-mirror")
    assert upstream.mirror_dir() is None
