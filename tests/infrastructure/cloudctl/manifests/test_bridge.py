"""gitops-bridge offline (cloudctl/manifests/bridge.py): the root ApplicationSet against the cluster
Secret, an Application's kustomize field written into its folder, and cloudctl's first apply of
root.yaml agreeing with what the root Application renders afterwards."""

from __future__ import annotations

import copy

import pytest
import yaml
from cloudctl.bootstrap import cluster_secret
from cloudctl.errors import CloudctlError
from cloudctl.manifests import bridge, tree
from manifest_helpers import ENVS, ROOT, find

IMAGES = tree.ecr_repository_names(ROOT)  # contract.yaml's


def root_appset(env: str) -> dict:
    docs = yaml.safe_load_all((ROOT / f"clusters/{env}/root.yaml").read_text())
    return next(doc for doc in docs if doc["kind"] == "ApplicationSet")


@pytest.mark.parametrize("env", ENVS)
def test_the_root_application_is_generated_from_the_secret_of_its_environment(env):
    secret = cluster_secret.example(env, IMAGES)
    app = bridge.generate(root_appset(env), secret)
    annotations = secret["metadata"]["annotations"]
    assert (app["kind"], app["metadata"]) == ("Application", {"name": "root", "namespace": "argocd"})
    source = app["spec"]["source"]
    assert (source["repoURL"], source["targetRevision"], source["path"]) == (
        annotations["repo_url"],
        annotations["repo_revision"],
        f"clusters/{env}",
    )
    patch = yaml.safe_load(source["kustomize"]["patches"][0]["patch"])
    config = yaml.safe_load((ROOT / f"clusters/{env}/cluster.yaml").read_text())
    # Every key of the ConfigMap `cluster` is patched, with the annotation of the same name.
    assert {op["path"]: op["value"] for op in patch} == {
        f"/data/{key}": annotations[key] for key in config["data"]
    }
    assert set(config["data"].values()) == {cluster_secret.PLACEHOLDER + key for key in config["data"]}


def test_the_other_environment_s_secret_generates_nothing():
    with pytest.raises(CloudctlError, match="ApplicationSet root: its generators select no cluster Secret"):
        bridge.generate(root_appset("dev"), cluster_secret.example("prod", IMAGES))


def test_a_missing_annotation_fails_as_missingkey_error_does():
    secret = cluster_secret.example("dev", IMAGES)
    del secret["metadata"]["annotations"]["aws_region"]
    with pytest.raises(
        CloudctlError, match="ApplicationSet root: the cluster Secret has no annotation aws_region"
    ):
        bridge.generate(root_appset("dev"), secret)


def test_a_template_expression_it_does_not_know_is_an_error_not_a_pass():
    appset = root_appset("dev")
    appset["spec"]["template"]["spec"]["source"]["path"] = "clusters/{{ .name }}"
    with pytest.raises(CloudctlError, match=r"template expression \{\{ \.name \}\} is not rehearsed offline"):
        bridge.generate(appset, cluster_secret.example("dev", IMAGES))


def test_kustomize_images_and_patches_are_written_as_argo_cd_writes_them(tmp_path):
    kustomization = tmp_path / "kustomization.yaml"
    kustomization.write_text(
        yaml.safe_dump({"images": [{"name": "a", "newTag": "1"}], "resources": ["x.yaml"]})
    )
    patch = {"target": {"kind": "Service"}, "patch": "- {op: remove, path: /spec/x}"}
    bridge.apply_kustomize(
        kustomization,
        {"images": ["a=registry.example/r/a", "b=registry.example:5000/r/b:2@sha256:00"], "patches": [patch]},
    )
    doc = yaml.safe_load(kustomization.read_text())
    assert doc["images"] == [
        {"name": "a", "newTag": "1", "newName": "registry.example/r/a"},
        {"name": "b", "newTag": "2", "newName": "registry.example:5000/r/b", "digest": "sha256:00"},
    ]
    assert doc["patches"] == [patch]
    with pytest.raises(CloudctlError, match=r"Application kustomize field\(s\) \['namePrefix'\]"):
        bridge.apply_kustomize(kustomization, {"namePrefix": "x-"})


@pytest.mark.parametrize("env", ENVS)
def test_cloudctl_applies_root_yaml_as_the_root_renders_it_later(env, rendered):
    """The first apply fills the AppProject's placeholder itself; Argo CD's first sync of the same
    file must then change nothing, or it would flap between the two."""
    values = cluster_secret.example(env, IMAGES)["metadata"]["annotations"]
    applied = cluster_secret.root_objects((ROOT / f"clusters/{env}/root.yaml").read_text(), values)
    assert [(d["kind"], d["metadata"]["name"]) for d in applied] == [
        ("AppProject", "platform"),
        ("ApplicationSet", "root"),
    ]
    for doc in applied:
        assert find(rendered[f"clusters/{env}"].objects, doc["kind"], doc["metadata"]["name"]).doc == doc


def test_root_objects_refuses_a_placeholder_it_has_no_value_for():
    text = (ROOT / "clusters/dev/root.yaml").read_text()
    with pytest.raises(
        CloudctlError, match="from-cluster-secret:repo_url: the cluster Secret has no annotation repo_url"
    ):
        cluster_secret.root_objects(text, {})


def test_the_cluster_secret_is_argo_cd_s_in_cluster_entry():
    secret = cluster_secret.example("dev", IMAGES)
    assert secret["metadata"]["labels"] == {
        "argocd.argoproj.io/secret-type": "cluster",
        cluster_secret.ENVIRONMENT_LABEL: "dev",
    }
    assert secret["stringData"] == {"name": "in-cluster", "server": "https://kubernetes.default.svc"}
    untouched = copy.deepcopy(secret)
    assert cluster_secret.fill(secret, {}) == untouched  # nothing in it is a placeholder
