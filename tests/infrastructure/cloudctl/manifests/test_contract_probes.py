"""Ports and probes against where the code listens and the routes it serves."""

from __future__ import annotations

import pytest
from cloudctl.manifests.contract import probes
from cloudctl.manifests.contract.env import Env
from contract_helpers import contract_root
from manifest_helpers import ROOT, find


@pytest.mark.parametrize(
    ("deployment", "edit", "expected"),
    [
        pytest.param(
            "inventory",
            lambda container: container["ports"][0].update(containerPort=9090),
            "containerPort http=9090 but the code listens on 8080",
            id="a-container-port-unlike-the-gunicorn-bind",
        ),
        pytest.param(
            "billing",
            lambda container: container["readinessProbe"]["httpGet"].update(path="/healthz"),
            "container billing: probe path /healthz is not a route the code serves",
            id="a-probe-on-a-route-that-does-not-exist",
        ),
        pytest.param(
            "billing-worker",
            lambda container: container["livenessProbe"]["httpGet"].update(path="/alive"),
            "container billing-worker: probe path /alive is not a route",
            id="a-worker-probe-on-a-missing-path",
        ),
    ],
)
def test_a_container_edit_is_caught(env_objects, deployment, edit, expected):
    objects = env_objects("dev")
    edit(find(objects, "Deployment", deployment).doc["spec"]["template"]["spec"]["containers"][0])
    assert any(expected in p for p in probes.check(Env(ROOT, "dev", objects)))


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
