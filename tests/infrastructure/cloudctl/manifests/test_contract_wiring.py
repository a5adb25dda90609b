"""Services, autoscalers, NodePorts and KEDA's queue point at what exists and what the code does."""

from __future__ import annotations

from cloudctl.manifests.contract import wiring
from cloudctl.manifests.contract.env import Env
from contract_helpers import contract_root
from manifest_helpers import ROOT, find


def test_a_selector_matching_no_pod_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "Service", "billing").doc["spec"]["selector"] = {"app.kubernetes.io/name": "biling"}
    assert any(
        p.startswith("base/billing/service.yaml: Service/billing: selector")
        for p in wiring.check(Env(ROOT, "dev", objects))
    )


def test_a_target_port_naming_no_container_port_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "Service", "rabbitmq").doc["spec"]["ports"][0]["targetPort"] = "ampq"
    assert any(
        "Service/rabbitmq: targetPort 'ampq' is not a port of StatefulSet/rabbitmq" in p
        for p in wiring.check(Env(ROOT, "dev", objects))
    )


def test_a_moved_node_port_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "Service", "api-gateway").doc["spec"]["ports"][0]["nodePort"] = 30500
    assert any(
        "Service/api-gateway: nodePort must be 30000" in p for p in wiring.check(Env(ROOT, "dev", objects))
    )


def test_an_autoscaler_of_a_missing_workload_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "HorizontalPodAutoscaler", "inventory").doc["spec"]["scaleTargetRef"]["name"] = (
        "inventory-api"
    )
    assert any(
        "HorizontalPodAutoscaler/inventory: scales Deployment/inventory-api, which does not exist" in p
        for p in wiring.check(Env(ROOT, "dev", objects))
    )


def test_a_scaled_object_on_another_queue_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "ScaledObject", "billing-worker").doc["spec"]["triggers"][0]["metadata"]["queueName"] = (
        "orders"
    )
    assert any(
        "scales on queue 'orders' but the worker consumes 'billing_queue'" in p
        for p in wiring.check(Env(ROOT, "dev", objects))
    )


def test_a_node_port_the_contract_moved_is_caught(env_objects, tmp_path):
    root = contract_root(tmp_path, lambda d: d["workloads"]["billing"].update(node_port=30502))
    assert any(
        "Service/billing: nodePort must be 30502 (contract.yaml: the load balancer's target)" in p
        for p in wiring.check(Env(root, "dev", env_objects("dev")))
    )


def test_a_scaled_object_on_a_workload_declaring_no_queue_is_caught(env_objects, tmp_path):
    root = contract_root(tmp_path, lambda d: d["workloads"]["billing-worker"].pop("topology"))
    assert any(
        "ScaledObject/billing-worker: scales on queue 'billing_queue' but its target's code declares no queue"
        in p
        for p in wiring.check(Env(root, "dev", env_objects("dev")))
    )
