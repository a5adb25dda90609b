"""Schema validation: strict core kinds at the K3s pin's Kubernetes version, custom kinds against
their pinned CRDs with unknown fields rejected, unknown kinds rejected."""

from __future__ import annotations

import pytest
from cloudctl.errors import CloudctlError
from cloudctl.manifests import schemas, tree
from cloudctl.manifests.render import Obj

VERSION = tree.kubernetes_version()


@pytest.fixture(scope="module")
def crds(tmp_path_factory):
    return schemas.CrdCatalog(tmp_path_factory.mktemp("crds"))


def problems(doc, crds):
    return schemas.validate_object(Obj(doc, "some/file.yaml"), VERSION, crds)


def test_the_kubernetes_version_comes_from_the_k3s_pin():
    text = (tree.ROOT / "infrastructure/terraform/modules/cluster/variables.tf").read_text()
    assert f'"v{VERSION}+k3s' in text


def test_a_missing_k3s_pin_fails_loudly(tmp_path):
    with pytest.raises(CloudctlError, match="variables.tf is missing"):
        tree.kubernetes_version(tmp_path)


def test_the_catalog_covers_every_custom_kind_the_issue_names(crds):
    kinds = {kind for _, kind in crds.kinds()}
    assert {
        "Application",
        "AppProject",
        "ApplicationSet",
        "ExternalSecret",
        "ClusterSecretStore",
        "ScaledObject",
        "TriggerAuthentication",
        "ServiceMonitor",
        "PrometheusRule",
    } <= kinds


def test_a_valid_core_object_passes(crds):
    assert (
        problems(
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": "b"}}, crds
        )
        == []
    )


def test_an_unknown_field_in_a_core_object_fails(crds):
    found = problems({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "dta": {}}, crds)
    assert len(found) == 1 and found[0].startswith("some/file.yaml: ConfigMap/x:") and "dta" in found[0]


def test_an_unknown_kind_fails(crds):
    found = problems({"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "g"}}, crds)
    assert found == [
        f"some/file.yaml: Gizmo/g: no schema for example.com/v1 Gizmo in Kubernetes {VERSION} (unknown kind)"
    ]


def test_a_custom_resource_with_a_wrong_field_fails(crds):
    doc = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "w"},
        "spec": {"scaleTargetRef": {"name": "worker"}, "maxReplicas": 3, "triggers": []},
    }
    found = problems(doc, crds)
    assert any("ScaledObject/w: spec" in p and "maxReplicas" in p for p in found), found


def test_a_custom_resource_with_a_wrong_type_fails(crds):
    doc = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "w"},
        "spec": {"scaleTargetRef": {"name": "worker"}, "maxReplicaCount": "three", "triggers": []},
    }
    assert any("maxReplicaCount" in p for p in problems(doc, crds))


def test_custom_resource_metadata_is_checked_strictly(crds):
    doc = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "TriggerAuthentication",
        "metadata": {"name": "t", "lables": {"a": "b"}},
        "spec": {},
    }
    assert any("metadata" in p and "lables" in p for p in problems(doc, crds))


def test_preserve_unknown_fields_is_respected():
    schema = {
        "type": "object",
        "properties": {
            "free": {
                "type": "object",
                "x-kubernetes-preserve-unknown-fields": True,
                "properties": {"a": {"type": "string"}},
            },
            "closed": {"type": "object", "properties": {"a": {"type": "string"}}},
        },
    }
    strict = schemas.strict(schema)
    assert strict["additionalProperties"] is False
    assert "additionalProperties" not in strict["properties"]["free"]
    assert strict["properties"]["closed"]["additionalProperties"] is False
    assert "additionalProperties" not in schema  # the original is untouched
