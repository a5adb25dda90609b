"""The rehearsal of the first sync (cloudctl/manifests/rehearsal.py) on the real tree, on the
defects it was written to catch, and on one injected defect of each class it checks.

fixtures/first-sync-defects/ keeps two files as they were before the fixes: the migrations Job
as a PreSync hook (its ServiceAccount and the `postgres` Service came only in the Sync phase) and
the AMQP URL with the short host `rabbitmq` (KEDA resolves it from namespace keda). The third
defect, the argocd namespace nobody created, is the install without base/argocd/namespace.yaml.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml
from cloudctl.manifests import deployed, rehearsal, render
from cloudctl.manifests.tree import GITOPS_DIRS
from contract_helpers import contract_root
from manifest_helpers import ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "first-sync-defects"
ENVS = deployed.CLUSTERS  # dev, prod and make e2e's ci


@pytest.fixture(scope="module")
def renderings(tmp_path_factory) -> dict[str, render.Rendering]:
    return {r.target: r for r in render.render_all(ROOT, tmp_path_factory.mktemp("render"))}


@pytest.fixture
def broken(renderings):
    """A deep copy of the renderings to break one object of, then rehearse `env`."""
    copied = {
        target: render.Rendering(target, [render.Obj(copy.deepcopy(o.doc), o.source) for o in r.objects])
        for target, r in renderings.items()
    }

    def edit(target: str, kind: str, name: str) -> dict:
        return next(o.doc for o in copied[target].objects if o.kind == kind and o.name == name)

    def rehearse(env: str) -> list[str]:
        return rehearsal.check(rehearsal.build(copied, env), ROOT)

    return copied, edit, rehearse


def only(problems: list[str], *words: str) -> list[str]:
    return [p for p in problems if all(word in p for word in words)]


@pytest.mark.parametrize("env", ENVS)
def test_the_tree_converges_on_a_first_sync(renderings, env: str):
    problems, objects, references = rehearsal.rehearse(renderings, env, ROOT)
    assert objects > 150 and references > 50  # it rehearsed the whole cluster, not nothing
    assert problems == []


@pytest.mark.parametrize("env", ENVS)
def test_order_starts_with_cloudctl_then_waves_then_phases(renderings, env: str):
    timeline = rehearsal.build(renderings, env)
    moment = {(p.obj.kind, p.obj.name): p.moment for p in reversed(timeline.placed)}
    assert moment[("Namespace", "argocd")].step == 0
    assert moment[("Application", "root")].step == 1
    assert moment[("ServiceAccount", "migrations")] < moment[("Job", "migrations")]
    assert moment[("Job", "migrations")] < moment[("Deployment", "inventory")]
    assert moment[("ExternalSecret", "billing-amqp")] < moment[("StatefulSet", "rabbitmq")]


# --- the defects found by the review, as they were ------------------------------------------------


def test_the_argocd_namespace_nobody_creates(broken):
    copied, _, rehearse = broken
    install = copied["clusters/dev/argocd"]
    install.objects = [o for o in install.objects if o.kind != "Namespace"]
    (problem,) = only(rehearse("dev"), "cloudctl's Argo CD install", "namespace argocd")
    assert "wait for namespace argocd, which nothing creates before them" in problem


def test_a_presync_hook_that_needs_its_own_sync_phase(broken):
    copied, _, rehearse = broken
    fixture = yaml.safe_load((FIXTURES / "migrations-job-presync.yaml").read_text())
    workloads = copied["overlays/dev/workloads"]
    job = next(o for o in workloads.objects if o.kind == "Job")
    job.doc["metadata"]["annotations"] = fixture["metadata"]["annotations"]
    for other in workloads.objects:  # as before the fix: no waves on what the hook needs
        if (other.kind, other.name) in (("ServiceAccount", "migrations"), ("Service", "postgres")):
            other.doc["metadata"].get("annotations", {}).pop("argocd.argoproj.io/sync-wave", None)
    problems = rehearse("dev")
    assert only(problems, "Job/migrations", "PreSync", "ServiceAccount movies-dev/migrations", "only later")
    assert only(problems, "host postgres", "PreSync", "Service movies-dev/postgres comes only later")


def test_keda_resolving_the_short_rabbitmq_name(broken):
    copied, edit, rehearse = broken
    fixture = yaml.safe_load((FIXTURES / "billing-amqp-short-host.yaml").read_text())
    secret = edit("overlays/dev/secrets", "ExternalSecret", "billing-amqp")
    secret["spec"]["target"]["template"] = fixture["spec"]["target"]["template"]
    (problem,) = only(rehearse("dev"), "billing-amqp")
    assert "host rabbitmq, resolved from namespace keda, is rabbitmq.keda.svc" in problem


# --- one injected defect per class -----------------------------------------------------------------


def test_a_missing_service_account(broken):
    _, edit, rehearse = broken
    edit("overlays/dev/workloads", "Deployment", "inventory")["spec"]["template"]["spec"][
        "serviceAccountName"
    ] = "nobody"
    assert only(
        rehearse("dev"), "Deployment/inventory", "ServiceAccount movies-dev/nobody", "nothing creates"
    )


def test_a_secret_key_nobody_writes(broken):
    _, edit, rehearse = broken
    secret = edit("overlays/dev/secrets", "ExternalSecret", "billing-amqp")
    secret["spec"]["target"]["template"]["data"] = {
        "AMQP_URI": "amqp://x@rabbitmq.movies-dev.svc:5672/movies"
    }
    problems = rehearse("dev")
    assert only(problems, "key AMQP_URL of Secret movies-dev/billing-amqp", "never holds")


def test_a_config_map_created_in_a_later_wave(broken):
    _, edit, rehearse = broken
    config = edit("overlays/dev/workloads", "ConfigMap", "inventory")
    config["metadata"].setdefault("annotations", {})["argocd.argoproj.io/sync-wave"] = "5"
    assert only(rehearse("dev"), "Deployment/inventory", "ConfigMap movies-dev/inventory", "only later")


def test_a_storage_class_k3s_does_not_ship(broken):
    _, edit, rehearse = broken
    rabbitmq = edit("overlays/dev/rabbitmq", "StatefulSet", "rabbitmq")
    rabbitmq["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] = "gp3"
    assert only(rehearse("dev"), "StatefulSet/rabbitmq", "StorageClass gp3", "nothing creates")


def test_a_custom_resource_before_its_crd(broken):
    copied, _, rehearse = broken
    root = copied["clusters/dev"]
    keda = next(o for o in root.objects if o.kind == "Application" and o.name == "keda")
    keda.doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] = "10"  # after the workloads
    assert only(rehearse("dev"), "ScaledObject/billing-worker", "CRD of keda.sh")


def test_an_application_outside_its_project(broken):
    copied, _, rehearse = broken
    root = copied["clusters/dev"]
    project = next(o for o in root.objects if o.kind == "AppProject" and o.name == "movies")
    project.doc["spec"]["destinations"] = [{"server": "https://kubernetes.default.svc", "namespace": "other"}]
    assert only(rehearse("dev"), "Application/movies-workloads", "does not permit namespace movies-dev")


def test_a_cluster_scoped_kind_the_project_does_not_permit(broken):
    copied, _, rehearse = broken
    root = copied["clusters/dev"]
    project = next(o for o in root.objects if o.kind == "AppProject" and o.name == "platform")
    project.doc["spec"]["clusterResourceWhitelist"] = [
        c for c in project.doc["spec"]["clusterResourceWhitelist"] if c["kind"] != "Namespace"
    ]
    assert only(rehearse("dev"), "Application/movies-namespace", "cluster-scoped Namespace/movies-dev")


def test_a_namespace_created_after_what_lives_in_it(broken):
    copied, _, rehearse = broken
    root = copied["clusters/dev"]
    namespace_app = next(o for o in root.objects if o.kind == "Application" and o.name == "movies-namespace")
    namespace_app.doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] = "9"
    assert only(rehearse("dev"), "wait for namespace movies-dev")


def test_an_application_whose_folder_does_not_exist(broken):
    copied, edit, rehearse = broken
    edit("clusters/dev", "Application", "movies-rabbitmq")["spec"]["source"]["path"] = "overlays/dev/rabbit"
    (problem,) = only(rehearse("dev"), "Application/movies-rabbitmq")
    assert "waits for its source folder 'overlays/dev/rabbit', which is not a kustomization" in problem


def test_an_image_with_no_registry(broken):
    _, edit, rehearse = broken
    deployment = edit("overlays/dev/workloads", "Deployment", "inventory")
    deployment["spec"]["template"]["spec"]["containers"][0]["image"] = "inventory-app:0.1.0"
    (problem,) = only(rehearse("dev"), "Deployment/inventory")
    assert (
        "names no registry: nothing maps it to Terraform's ECR repository cloud-design/dev/inventory-app"
        in problem
    )


def test_an_image_from_a_repository_terraform_does_not_create(broken):
    _, edit, rehearse = broken
    container = edit("overlays/dev/workloads", "Deployment", "inventory")["spec"]["template"]["spec"][
        "containers"
    ][0]
    container["image"] = container["image"].replace("cloud-design/dev/", "cloud-design/prod/")
    (problem,) = only(rehearse("dev"), "Deployment/inventory")
    assert "Terraform creates no ECR repository cloud-design/prod/inventory-app" in problem


def test_the_images_are_those_of_the_validated_roots_contract(renderings, tmp_path):
    """The rehearsal reads the contract.yaml of the tree it validates, not this repository's."""

    def rename(data):
        data["workloads"]["inventory"]["image"] = data["commands"]["inventory.migrate"]["image"] = "stock-app"

    root = contract_root(tmp_path, rename)
    problems = rehearsal.check(rehearsal.build(renderings, "dev"), root)
    (problem,) = only(problems, "Deployment/inventory")
    assert "Terraform creates no ECR repository cloud-design/dev/inventory-app" in problem


def test_a_value_left_as_the_cluster_secret_placeholder(broken):
    _, edit, rehearse = broken
    store = edit("clusters/dev", "ClusterSecretStore", "aws-secrets-manager")
    store["spec"]["provider"]["aws"]["region"] = "from-cluster-secret:aws_region"
    (problem,) = only(rehearse("dev"), "ClusterSecretStore/aws-secrets-manager")
    assert "spec.provider.aws.region is still 'from-cluster-secret:aws_region'" in problem


def test_a_root_template_that_forgets_a_value_leaves_its_placeholder(tmp_path):
    """End to end through the render: the root ApplicationSet no longer patches aws_region."""
    tree = tmp_path / "tree"
    for top in GITOPS_DIRS:
        shutil.copytree(ROOT / top, tree / top)
    shutil.copy2(ROOT / "contract.yaml", tree / "contract.yaml")  # the render reads the ECR image names
    root_yaml = tree / "clusters/dev/root.yaml"
    lines = root_yaml.read_text().splitlines(keepends=True)
    root_yaml.write_text("".join(line for line in lines if "/data/aws_region" not in line))
    renderings = {
        r.target: r
        for r in render.render_all(tree, tmp_path / "work", only=["clusters/dev", "clusters/dev/argocd"])
    }
    problems = rehearsal.check(rehearsal.build(renderings, "dev"), tree)
    assert only(problems, "ClusterSecretStore/aws-secrets-manager", "still 'from-cluster-secret:aws_region'")


def test_the_cluster_values_cannot_move_into_the_shared_component(tmp_path):
    """Why clusters/<env>/kustomization.yaml keeps the value replacements (components/environment):
    moved into the Component, they run before the root's patches to cluster.yaml and copy the
    placeholders, which the rehearsal reports."""
    tree = tmp_path / "tree"
    for top in GITOPS_DIRS:
        shutil.copytree(ROOT / top, tree / top)
    shutil.copy2(ROOT / "contract.yaml", tree / "contract.yaml")  # the render reads the ECR image names
    cluster = tree / "clusters/dev/kustomization.yaml"
    component = tree / "clusters/components/environment/kustomization.yaml"
    kustomization, shared = yaml.safe_load(cluster.read_text()), yaml.safe_load(component.read_text())
    repo_url = [r for r in kustomization["replacements"] if r["source"]["fieldPath"] == "data.repo_url"]
    kustomization["replacements"] = [r for r in kustomization["replacements"] if r not in repo_url]
    shared["replacements"] += repo_url
    cluster.write_text(yaml.safe_dump(kustomization))
    component.write_text(yaml.safe_dump(shared))
    renderings = {
        r.target: r
        for r in render.render_all(tree, tmp_path / "work", only=["clusters/dev", "clusters/dev/argocd"])
    }
    problems = rehearsal.check(rehearsal.build(renderings, "dev"), tree)
    assert only(problems, "Application/movies-workloads", "still 'from-cluster-secret:repo_url'")
