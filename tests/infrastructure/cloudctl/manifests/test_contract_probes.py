"""Ports and probes against where the code listens and the routes it serves."""

from __future__ import annotations

from cloudctl.manifests.contract import probes
from cloudctl.manifests.contract.env import Env
from contract_helpers import contract_root
from manifest_helpers import ROOT, find


def test_a_container_port_unlike_the_gunicorn_bind_is_caught(env_objects):
    objects = env_objects("dev")
    container = find(objects, "Deployment", "inventory").doc["spec"]["template"]["spec"]["containers"][0]
    container["ports"][0]["containerPort"] = 9090
    assert any(
        "containerPort http=9090 but the code listens on 8080" in p
        for p in probes.check(Env(ROOT, "dev", objects))
    )


def test_a_probe_on_a_route_that_does_not_exist_is_caught(env_objects):
    objects = env_objects("dev")
    container = find(objects, "Deployment", "billing").doc["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["httpGet"]["path"] = "/healthz"
    assert any(
        "container billing: probe path /healthz is not a route the code serves" in p
        for p in probes.check(Env(ROOT, "dev", objects))
    )


def test_a_worker_probe_on_a_missing_path_is_caught(env_objects):
    objects = env_objects("dev")
    container = find(objects, "Deployment", "billing-worker").doc["spec"]["template"]["spec"]["containers"][0]
    container["livenessProbe"]["httpGet"]["path"] = "/alive"
    assert any(
        "container billing-worker: probe path /alive is not a route" in p
        for p in probes.check(Env(ROOT, "dev", objects))
    )


def test_a_container_port_the_contract_does_not_say_is_caught(env_objects, tmp_path):
    root = contract_root(tmp_path, lambda d: d["workloads"]["api-gateway"].update(container_port=3001))
    assert (
        "base/api-gateway/deployment.yaml: Deployment/api-gateway: container api-gateway: the code listens "
        "on 3000 but contract.yaml says container_port 3001"
        in probes.check(Env(root, "dev", env_objects("dev")))
    )


def test_code_that_does_not_start_is_caught(env_objects, tmp_path):
    def no_such_factory(data):
        data["workloads"]["inventory"]["command"][-1] = "inventory:make_app()"

    problems = probes.check(Env(contract_root(tmp_path, no_such_factory), "dev", env_objects("dev")))
    assert any(
        "Deployment/inventory: container inventory: the code fails to start with this environment: "
        "AttributeError" in p
        for p in problems
    )
