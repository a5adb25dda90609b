"""Argo CD's GitLab webhook token: an ExternalSecret merging Terraform's Secrets Manager value into
the existing argocd-secret, synced by its own Application after ESO, never by the bootstrap."""

from __future__ import annotations

import copy

import pytest
from cloudctl.manifests import render, schemas, tree
from manifest_helpers import ENVS, ROOT, find

WEBHOOK_TARGETS = [f"clusters/{env}/argocd-gitlab-webhook" for env in ENVS]
BOOTSTRAP_TARGETS = [f"clusters/{env}/argocd" for env in ENVS]


@pytest.fixture(scope="module")
def webhook_rendered(tmp_path_factory) -> dict[str, render.Rendering]:
    work = tmp_path_factory.mktemp("webhook")
    only = [*WEBHOOK_TARGETS, *BOOTSTRAP_TARGETS, "base/secret-store"]
    return {r.target: r for r in render.render_all(ROOT, work, only=only)}


def wave(app: render.Obj) -> int:
    return int(app.doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"])


@pytest.mark.parametrize("env", ENVS)
def test_the_external_secret_merges_the_env_token_into_argocd_secret(webhook_rendered, env):
    objects = webhook_rendered[f"clusters/{env}/argocd-gitlab-webhook"].objects
    assert [(o.kind, o.name) for o in objects] == [("ExternalSecret", "argocd-gitlab-webhook")]
    spec = objects[0].doc["spec"]
    assert objects[0].doc["metadata"]["namespace"] == "argocd"
    assert spec["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "aws-secrets-manager"}
    assert spec["target"] == {"name": "argocd-secret", "creationPolicy": "Merge"}
    assert spec["data"] == [
        {
            "secretKey": "webhook.gitlab.secret",
            "remoteRef": {"key": f"cloud-design/{env}/argocd-gitlab-webhook", "property": "secret"},
        }
    ]


@pytest.mark.parametrize("env", ENVS)
def test_it_syncs_after_eso_and_the_store_not_with_argo_cd(rendered, webhook_rendered, env):
    apps = rendered[f"clusters/{env}"].objects
    app = find(apps, "Application", "argocd-gitlab-webhook")
    assert app.doc["spec"]["source"]["path"] == f"clusters/{env}/argocd-gitlab-webhook"
    assert app.doc["spec"]["destination"]["namespace"] == "argocd"
    assert "SkipDryRunOnMissingResource=true" in app.doc["spec"]["syncPolicy"]["syncOptions"]
    assert (
        wave(app)
        > wave(find(apps, "ClusterSecretStore", "aws-secrets-manager"))
        > wave(find(apps, "Application", "external-secrets"))
    )
    # The bootstrap's kubectl apply runs before ESO's CRDs exist: nothing of ESO may be in it.
    bootstrap = webhook_rendered[f"clusters/{env}/argocd"].objects
    assert not [o for o in bootstrap if o.doc["apiVersion"].startswith("external-secrets.io/")]


def test_the_store_serves_the_argocd_namespace(webhook_rendered):
    store = find(webhook_rendered["base/secret-store"].objects, "ClusterSecretStore", "aws-secrets-manager")
    assert "argocd" in store.doc["spec"]["conditions"][0]["namespaces"]


def test_the_pinned_crd_accepts_merge_and_rejects_a_misspelt_policy(webhook_rendered, tmp_path):
    crds = schemas.CrdCatalog(tmp_path)
    good = webhook_rendered["clusters/dev/argocd-gitlab-webhook"].objects[0]
    version = tree.kubernetes_version()
    assert schemas.validate_object(good, version, crds) == []
    bad = copy.deepcopy(good.doc)
    bad["spec"]["target"]["creationPolicy"] = "merge"  # the enum is case-sensitive
    problems = schemas.validate_object(render.Obj(bad, good.source), version, crds)
    assert problems and "creationPolicy" in " ".join(problems)
