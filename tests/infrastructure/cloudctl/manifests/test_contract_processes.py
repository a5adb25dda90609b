"""Every container is a workload or command of contract.yaml, from its image, with its command."""

from __future__ import annotations

from cloudctl.manifests.contract import processes
from cloudctl.manifests.contract.env import Env
from contract_helpers import contract_root
from manifest_helpers import ROOT, find


def test_an_image_from_another_environment_is_caught(env_objects):
    objects = env_objects("prod")
    container = find(objects, "Deployment", "inventory").doc["spec"]["template"]["spec"]["containers"][0]
    container["image"] = container["image"].replace("/prod/", "/dev/")
    assert any(
        "Deployment/inventory: container inventory: image" in p and "cloud-design/prod/inventory-app" in p
        for p in processes.check(Env(ROOT, "prod", objects))
    )


def test_a_container_of_no_workload_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "Deployment", "api-gateway").doc["spec"]["template"]["spec"]["containers"][0]["name"] = "gw"
    assert (
        "base/api-gateway/deployment.yaml: Deployment/api-gateway: container gw: neither a workload nor a "
        "command of contract.yaml" in processes.check(Env(ROOT, "dev", objects))
    )


def test_a_workload_command_unlike_the_contract_is_caught(env_objects):
    objects = env_objects("dev")
    container = find(objects, "Deployment", "billing-worker").doc["spec"]["template"]["spec"]["containers"][0]
    container["command"] = ["python", "-m", "billing.consumer"]
    assert any(
        "container billing-worker: command ['python', '-m', 'billing.consumer'] is not contract.yaml's "
        "['python', '-m', 'billing.worker']" in p
        for p in processes.check(Env(ROOT, "dev", objects))
    )


def test_an_image_the_contract_renamed_is_caught(env_objects, tmp_path):
    def rename(data):
        data["workloads"]["inventory"]["image"] = "inventory"
        data["commands"]["inventory.migrate"]["image"] = "inventory"

    problems = processes.check(Env(contract_root(tmp_path, rename), "dev", env_objects("dev")))
    assert any(
        "Deployment/inventory: container inventory: image" in p and "cloud-design/dev/inventory:<tag>" in p
        for p in problems
    )
    assert any("Job/migrations: container migrate-inventory: image" in p for p in problems)
