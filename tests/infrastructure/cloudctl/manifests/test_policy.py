"""cloudctl/manifests/policy.py's rules beyond resources and tags: drains and the node's network."""

from __future__ import annotations

import pytest
from cloudctl.manifests import policy, render


def pdb(**spec) -> render.Obj:
    doc = {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "x"}, "spec": spec}
    return render.Obj(doc, "base/x/pdb.yaml")


@pytest.mark.parametrize("spec", [{"maxUnavailable": 0}, {"maxUnavailable": "0%"}, {"minAvailable": "100%"}])
def test_a_budget_that_blocks_every_drain_fails(spec):
    (problem,) = policy.check(pdb(**spec))
    assert problem.startswith("base/x/pdb.yaml: PodDisruptionBudget/x: ")
    assert "allows no eviction: every node drain would wait forever" in problem


@pytest.mark.parametrize("spec", [{"maxUnavailable": 1}, {"minAvailable": 1}, {"maxUnavailable": "50%"}])
def test_a_budget_that_lets_one_pod_go_passes(spec):
    assert policy.check(pdb(**spec)) == []


def test_a_pod_on_the_node_s_network_fails():
    container = {
        "name": "c",
        "image": "x:1",
        "resources": {"requests": {"cpu": "1m", "memory": "1Mi"}, "limits": {"cpu": "1m", "memory": "1Mi"}},
    }
    doc = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "d"},
        "spec": {"template": {"spec": {"hostNetwork": True, "containers": [container]}}},
    }
    (problem,) = policy.check(render.Obj(doc, "base/d.yaml"))
    assert "hostNetwork: the node's network reaches the instance role (IMDS); only ESO may" in problem
    doc["spec"]["template"]["spec"]["hostNetwork"] = False
    assert policy.check(render.Obj(doc, "base/d.yaml")) == []


def test_only_the_eso_controller_asks_for_the_node_s_network(rendered):
    """The one exception, in the chart's values: its webhook and cert controller stay off it."""
    for env in ("dev", "prod"):
        eso = next(
            o
            for o in rendered[f"clusters/{env}"].objects
            if o.kind == "Application" and o.name == "external-secrets"
        )
        values = eso.doc["spec"]["source"]["helm"]["valuesObject"]
        assert values["hostNetwork"] is True
        assert "hostNetwork" not in values["webhook"] and "hostNetwork" not in values["certController"]
        others = [
            o.name
            for o in rendered[f"clusters/{env}"].objects
            if o.kind == "Application" and "hostNetwork" in str(o.doc["spec"]["source"].get("helm") or {})
        ]
        assert others == ["external-secrets"]
