"""Each process's environment against the settings its code declares (common.describe)."""

from __future__ import annotations

import pytest
from cloudctl.manifests.contract import environment
from cloudctl.manifests.contract.env import Env
from manifest_helpers import ROOT, find


def test_a_missing_required_variable_is_caught(env_objects):
    objects = env_objects("dev")
    del find(objects, "ConfigMap", "api-gateway").doc["data"]["INVENTORY_URL"]
    assert (
        "base/api-gateway/deployment.yaml: Deployment/api-gateway: container api-gateway: "
        "required INVENTORY_URL is not set" in environment.check(Env(ROOT, "dev", objects))
    )


@pytest.mark.parametrize(
    ("config_map", "variable", "value", "expected"),
    [
        pytest.param(
            "billing-worker",
            "WORKER_PREFETCH",
            "many",
            "container billing-worker: WORKER_PREFETCH='many' is rejected by the code",
            id="a-value-the-code-rejects",
        ),
        pytest.param(
            "inventory",
            "INVENTORY_DB_URL",
            "x",
            "INVENTORY_DB_URL is set but the code declares no such setting",
            id="an-undeclared-variable",
        ),
    ],
)
def test_a_config_map_value_is_caught(env_objects, config_map, variable, value, expected):
    objects = env_objects("dev")
    find(objects, "ConfigMap", config_map).doc["data"][variable] = value
    assert any(expected in p for p in environment.check(Env(ROOT, "dev", objects)))


def test_a_secret_no_external_secret_makes_is_caught(env_objects):
    objects = env_objects("dev")
    objects.remove(find(objects, "ExternalSecret", "billing-amqp"))
    problems = environment.check(Env(ROOT, "dev", objects))
    assert any(
        "Deployment/billing-worker: container billing-worker: env AMQP_URL: "
        "billing-amqp/AMQP_URL is not produced" in p
        for p in problems
    )


def test_a_migration_step_without_its_password_is_caught(env_objects):
    objects = env_objects("dev")
    job = find(objects, "Job", "migrations").doc["spec"]["template"]["spec"]
    step = next(c for c in job["initContainers"] if c["name"] == "provision-inventory")
    step["env"] = [e for e in step["env"] if e["name"] != "ADMIN_DATABASE_URL"]
    assert any(
        "container provision-inventory: required ADMIN_DATABASE_URL is not set" in p
        for p in environment.check(Env(ROOT, "dev", objects))
    )
