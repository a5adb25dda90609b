"""Capacity: the real environments keep ≥15 % headroom at autoscaling maximum; raising a maximum
past what the nodes hold fails; unsized pods fail."""

from __future__ import annotations

import pytest
from cloudctl.errors import CloudctlError
from cloudctl.manifests import capacity, deployed
from manifest_helpers import ENVS, ROOT, find


@pytest.fixture(scope="module")
def argocd(tmp_path_factory):
    from cloudctl.manifests import render

    work = tmp_path_factory.mktemp("argocd")
    return render.render_all(ROOT, work, only=["clusters/dev/argocd"])[0].objects


def report(rendered, env, movies, argocd):
    return capacity.report(
        ROOT, env, {"movies": movies, "argocd": argocd}, deployed.helm_charts(rendered, env)
    )


@pytest.mark.parametrize("env", ENVS)
def test_the_real_environments_fit_with_headroom(env, rendered, env_objects, argocd):
    result = report(rendered, env, env_objects(env), argocd)
    assert result.problems() == []
    cpu, memory = result.headroom()
    assert cpu >= 0.15 and memory >= 0.15
    assert {
        "argocd-application-controller",
        "rabbitmq",
        "api-gateway",
        "controller",
        "operator",
        "coredns",
    } <= {r.name for r in result.rows}
    assert "headroom: CPU" in result.table()


def test_the_nodes_come_from_the_terraform_values():
    assert capacity.nodes(ROOT, "dev") == [
        ("master", "t3.medium"),
        ("worker", "t3.small"),
        ("worker", "t3.small"),
    ]


def test_allocatable_subtracts_k3s_and_the_os():
    cpu, memory = capacity.allocatable("worker", "t3.small")
    assert cpu == 1900 and memory == int(2048 * 0.95) - 100 - 300


def test_an_oversized_maximum_fails(rendered, env_objects, argocd):
    objects = env_objects("prod")
    find(objects, "HorizontalPodAutoscaler", "api-gateway").doc["spec"]["maxReplicas"] = 30
    problems = report(rendered, "prod", objects, argocd).problems()
    assert any(p.startswith("capacity prod: memory headroom") and "below 15%" in p for p in problems)


def test_a_pod_bigger_than_any_node_fails(rendered, env_objects, argocd):
    objects = env_objects("dev")
    container = find(objects, "StatefulSet", "rabbitmq").doc["spec"]["template"]["spec"]["containers"][0]
    container["resources"]["requests"]["memory"] = "8Gi"
    assert any(
        "a rabbitmq pod" in p and "fits no node" in p
        for p in report(rendered, "dev", objects, argocd).problems()
    )


def test_an_unsized_container_fails(rendered, env_objects, argocd):
    objects = env_objects("dev")
    container = find(objects, "Deployment", "billing").doc["spec"]["template"]["spec"]["containers"][0]
    del container["resources"]["requests"]
    with pytest.raises(CloudctlError, match="Deployment/billing: container billing has no requests"):
        report(rendered, "dev", objects, argocd)


def test_an_unsized_chart_fails(rendered):
    app = next(a for a in deployed.helm_charts(rendered, "dev") if a.name == "keda")
    app.doc["spec"]["source"]["helm"]["valuesObject"]["resources"].pop("operator")
    try:
        with pytest.raises(CloudctlError, match="values resources.operator must set requests and limits"):
            capacity.chart_rows(app)
    finally:
        app.doc["spec"]["source"]["helm"]["valuesObject"]["resources"]["operator"] = {
            "requests": {"cpu": "50m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        }


def test_quantities_parse():
    assert capacity.cpu_m("50m") == 50 and capacity.cpu_m("1") == 1000 and capacity.cpu_m("0.5") == 500
    assert (
        capacity.mem_mi("128Mi") == 128 and capacity.mem_mi("1Gi") == 1024 and capacity.mem_mi("512M") == 488
    )
