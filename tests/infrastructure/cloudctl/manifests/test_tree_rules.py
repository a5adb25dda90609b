"""Rules about the tree itself: no secret values in git, one image line per image per env, the
account placeholder documented, pinned versions, wave order, and the READMEs."""

from __future__ import annotations

import re

import pytest
import yaml
from cloudctl.bootstrap import cluster_secret
from cloudctl.manifests import tree
from manifest_helpers import ENVS, ROOT, find


def yaml_docs(top):
    for path in sorted((ROOT / top).rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if isinstance(doc, dict):
                yield path, doc


@pytest.mark.parametrize("top", ["base", "overlays", "apps", "clusters"])
def test_no_secret_values_in_git(top):
    for path, doc in yaml_docs(top):
        if doc.get("kind") == "Secret":
            assert not doc.get("data") and not doc.get("stringData"), f"{path}: a Secret with values"
    text = "\n".join(p.read_text() for p in (ROOT / top).rglob("*.yaml"))
    assert not re.search(r"(?i)(password|secret)\s*:\s*['\"]?[A-Za-z0-9+/]{12,}", text)


@pytest.mark.parametrize("env", ENVS)
def test_images_component_holds_only_the_tags(env):
    path = ROOT / f"overlays/{env}/images/kustomization.yaml"
    doc = yaml.safe_load(path.read_text())
    assert doc["kind"] == "Component" and set(doc) == {"apiVersion", "kind", "images"}
    assert [i["name"] for i in doc["images"]] == list(
        tree.ecr_repository_names(ROOT)
    )  # contract.yaml's order
    for image in doc["images"]:
        assert set(image) == {"name", "newTag"}  # the repository comes from the cluster Secret
        assert image["newTag"] != "latest"


ACCOUNT_SPECIFIC = {
    "an AWS account id": re.compile(r"\b\d{12}\b"),
    "an ECR registry": re.compile(r"\.dkr\.ecr\."),
    "an RDS endpoint or ARN": re.compile(r"rds\.amazonaws\.com|arn:aws:rds:"),
    "an AWS region": re.compile(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d\b"),
    "a git repository of ours": re.compile(r"https://git(?:lab|hub)\.[a-z.]+/(?!.*charts)"),
}


@pytest.mark.parametrize("what", sorted(ACCOUNT_SPECIFIC))
def test_nothing_account_specific_is_written_in_git(what):
    """What differs per adopter reaches the cluster through the cluster Secret (clusters/README.md)."""
    found = [
        f"{p.relative_to(ROOT)}:{number}: {line.strip()}"
        for top in ("base", "overlays", "apps", "clusters")
        for p in sorted((ROOT / top).rglob("*.yaml"))
        for number, line in enumerate(p.read_text().splitlines(), 1)
        if ACCOUNT_SPECIFIC[what].search(line)
    ]
    assert found == []


def test_the_account_specific_patterns_find_what_they_are_for():
    samples = {
        "an AWS account id": "newName: 123456789012.dkr",
        "an ECR registry": "x.dkr.ecr.eu-west-1.amazonaws.com/a",
        "an RDS endpoint or ARN": "arn:aws:rds:eu-west-1:1:db:x",
        "an AWS region": "region: eu-west-1",
        "a git repository of ours": "repoURL: https://gitlab.com/cloud-design/cloud-design.git",
    }
    assert {what for what, sample in samples.items() if ACCOUNT_SPECIFIC[what].search(sample)} == set(samples)


def test_every_application_of_ours_gets_the_repository_of_the_cluster_secret(rendered):
    for env in ENVS:
        wanted = cluster_secret.example(env, tree.ecr_repository_names(ROOT))["metadata"]["annotations"]
        sources = [
            o.doc["spec"]["source"]
            for o in rendered[f"clusters/{env}"].objects
            if o.kind == "Application" and "chart" not in o.doc["spec"]["source"]
        ]
        assert len(sources) >= 7
        assert {(s["repoURL"], s["targetRevision"]) for s in sources} == {
            (wanted[cluster_secret.REPO_URL], wanted[cluster_secret.REPO_REVISION])
        }
        projects = [o for o in rendered[f"clusters/{env}"].objects if o.kind == "AppProject"]
        assert {p.doc["spec"]["sourceRepos"][0] for p in projects} == {wanted[cluster_secret.REPO_URL]}


def test_helm_charts_are_pinned_to_the_validated_crd_versions(rendered):
    apps = {
        o.name: o.doc["spec"]["source"] for o in rendered["clusters/dev"].objects if o.kind == "Application"
    }
    assert (apps["external-secrets"]["chart"], apps["external-secrets"]["targetRevision"]) == (
        "external-secrets",
        "2.9.0",
    )
    assert (apps["keda"]["chart"], apps["keda"]["targetRevision"]) == ("keda", "2.20.2")


def wave(obj):
    return int(obj.doc["metadata"].get("annotations", {}).get("argocd.argoproj.io/sync-wave", "0"))


@pytest.mark.parametrize("env", ENVS)
def test_sync_waves_follow_the_issue_order(env, rendered):
    objects = rendered[f"clusters/{env}"].objects
    order = [
        "movies-namespace",
        "external-secrets",
        "aws-secrets-manager",  # the ClusterSecretStore, rendered by the root itself
        "movies-secrets",
        "movies-rabbitmq",
        "movies-workloads",
    ]
    kinds = {"aws-secrets-manager": "ClusterSecretStore"}
    waves = [wave(find(objects, kinds.get(name, "Application"), name)) for name in order]
    assert waves == sorted(waves) and len(set(waves)) == len(waves) - 0
    assert wave(find(objects, "Application", "keda")) == wave(
        find(objects, "Application", "external-secrets")
    )
    workloads = rendered[f"overlays/{env}/workloads"].objects
    job = find(workloads, "Job", "migrations").doc["metadata"]["annotations"]
    assert (
        job["argocd.argoproj.io/hook"] == "Sync"
        and job["argocd.argoproj.io/sync-wave"] == "-1"
        and job["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    )
    # The migrations run before every Deployment rolls (first_sync rehearsal: and after what they need).
    assert all(wave(o) >= 0 for o in workloads if o.kind == "Deployment")
    assert all(
        wave(o) > wave(find(workloads, "Deployment", "billing"))
        for o in workloads
        if o.kind in ("HorizontalPodAutoscaler", "ScaledObject")
    )


def test_dev_prunes_prod_has_sync_windows(rendered):
    for env, prune in (("dev", True), ("prod", False)):
        objects = rendered[f"clusters/{env}"].objects
        policy = find(objects, "Application", "movies-workloads").doc["spec"]["syncPolicy"]["automated"]
        assert policy == {"prune": prune, "selfHeal": True}
        windows = find(objects, "AppProject", "movies").doc["spec"].get("syncWindows", [])
        assert (len(windows) > 0) == (env == "prod")
        assert all(w["kind"] == "deny" and w["manualSync"] for w in windows)


def test_nothing_uses_the_default_project(rendered):
    for env in ENVS:
        for obj in rendered[f"clusters/{env}"].objects:
            if obj.kind == "Application":
                assert obj.doc["spec"]["project"] in ("platform", "movies")


def test_argocd_manages_itself_without_finalizer_and_with_server_side_apply(rendered):
    app = find(rendered["clusters/prod"].objects, "Application", "argocd").doc
    assert "finalizers" not in app["metadata"]
    assert "ServerSideApply=true" in app["spec"]["syncPolicy"]["syncOptions"]
    assert app["spec"]["source"]["path"] == "clusters/prod/argocd"


@pytest.mark.parametrize("folder", ["base", "overlays", "apps", "clusters"])
def test_each_top_folder_has_a_readme(folder):
    text = (ROOT / folder / "README.md").read_text()
    assert len(text.splitlines()) >= 5


@pytest.mark.parametrize(("env", "bounds", "worker_max"), [("dev", (1, 3), 2), ("prod", (2, 5), 3)])
def test_overlay_sizing_patches_apply(env, bounds, worker_max, rendered):
    objects = rendered[f"overlays/{env}/workloads"].objects
    for name in ("api-gateway", "inventory", "billing"):
        spec = find(objects, "HorizontalPodAutoscaler", name).doc["spec"]
        assert (spec["minReplicas"], spec["maxReplicas"]) == bounds
    assert find(objects, "ScaledObject", "billing-worker").doc["spec"]["maxReplicaCount"] == worker_max


def test_prod_spreads_pods_and_drains_one_pod_at_a_time(rendered):
    prod, dev = rendered["overlays/prod/workloads"].objects, rendered["overlays/dev/workloads"].objects
    for obj in (o for o in prod if o.kind == "Deployment"):
        spread = obj.doc["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert [c["topologyKey"] for c in spread] == ["kubernetes.io/hostname", "topology.kubernetes.io/zone"]
        assert spread[0]["whenUnsatisfiable"] == "DoNotSchedule"
    for name in ("api-gateway", "inventory", "billing"):
        # maxUnavailable 1, never minAvailable = minReplicas: a drain can always evict a pod.
        for objects in (prod, dev):
            assert find(objects, "PodDisruptionBudget", name).doc["spec"] == {
                "maxUnavailable": 1,
                "selector": {"matchLabels": {"app.kubernetes.io/name": name}},
            }
    assert not any(
        "topologySpreadConstraints" in o.doc["spec"]["template"]["spec"]
        for o in dev
        if o.kind == "Deployment"
    )
