"""ExternalSecrets read only the Secrets Manager secrets and JSON keys contract.yaml lists, and each
workload's pods exactly those of its `secrets`."""

from __future__ import annotations

import pytest
from cloudctl.errors import CloudctlError
from cloudctl.manifests.contract import secrets, spec
from cloudctl.manifests.contract.env import Env
from contract_helpers import contract_root
from manifest_helpers import ROOT, find


def test_a_key_the_contract_does_not_give_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "ExternalSecret", "billing-db").doc["spec"]["data"][1]["remoteRef"]["property"] = "passwd"
    assert secrets.check(Env(ROOT, "dev", objects)) == [
        "base/secrets/billing-db.yaml: ExternalSecret/billing-db: reads key 'passwd' of "
        "cloud-design/dev/billing-db, but contract.yaml gives it only username, password",
        # and both workloads whose pods read billing-db now read another key than their contract's
        "base/billing/deployment.yaml: Deployment/billing: its pods' ExternalSecrets read "
        "{billing-db: [passwd, username]} but contract.yaml's workloads.billing.secrets is "
        "{billing-db: [password, username]}",
        "base/billing-worker/deployment.yaml: Deployment/billing-worker: its pods' ExternalSecrets read "
        "{billing-db: [passwd, username], rabbitmq: [password, username]} but contract.yaml's "
        "workloads.billing-worker.secrets is {billing-db: [password, username], "
        "rabbitmq: [password, username]}",
    ]


def test_another_environments_secret_is_caught(env_objects):
    objects = env_objects("prod")
    ref = find(objects, "ExternalSecret", "rabbitmq").doc["spec"]["data"][0]["remoteRef"]
    ref["key"] = "cloud-design/dev/rabbitmq"
    assert any(
        "ExternalSecret/rabbitmq: reads 'cloud-design/dev/rabbitmq', which is no cloud-design/prod/<secret>"
        in p
        for p in secrets.check(Env(ROOT, "prod", objects))
    )


def test_a_secret_the_contract_dropped_is_caught(env_objects, tmp_path):
    def drop(data):
        data["secrets"].pop("inventory-db")
        data["workloads"]["inventory"]["secrets"].pop("inventory-db")

    root = contract_root(tmp_path, drop)
    problems = secrets.check(Env(root, "dev", env_objects("dev")))
    assert len(problems) == 3  # username, password, and the inventory pods that still read them
    assert all(
        "ExternalSecret/inventory-db: reads 'cloud-design/dev/inventory-db'" in p for p in problems[:2]
    )
    assert (
        "Deployment/inventory: its pods' ExternalSecrets read {inventory-db: [password, username]}"
        in problems[2]
    )


def test_the_real_workloads_read_their_contracts_secrets(env_objects):
    for env in ("dev", "prod"):
        assert secrets.check(Env(ROOT, env, env_objects(env))) == []


def test_a_secret_a_workloads_pods_read_beyond_its_contract_is_caught(env_objects):
    objects = env_objects("dev")
    container = find(objects, "Deployment", "inventory").doc["spec"]["template"]["spec"]["containers"][0]
    container["env"].append(
        {"name": "AMQP_URL", "valueFrom": {"secretKeyRef": {"name": "billing-amqp", "key": "AMQP_URL"}}}
    )
    assert secrets.check(Env(ROOT, "dev", objects)) == [
        "base/inventory/deployment.yaml: Deployment/inventory: its pods' ExternalSecrets read "
        "{inventory-db: [password, username], rabbitmq: [password, username]} but contract.yaml's "
        "workloads.inventory.secrets is {inventory-db: [password, username]}"
    ]


def test_a_secret_mounted_as_a_volume_counts(env_objects):
    objects = env_objects("dev")
    pod = find(objects, "Deployment", "billing").doc["spec"]["template"]["spec"]
    pod["volumes"] = [*(pod.get("volumes") or []), {"name": "admin", "secret": {"secretName": "rds-master"}}]
    (problem,) = secrets.check(Env(ROOT, "dev", objects))
    assert problem.startswith(
        "base/billing/deployment.yaml: Deployment/billing: its pods' ExternalSecrets read "
        "{billing-db: [password, username], rds-master: [password, username]}"
    )


def test_a_key_the_contract_claims_but_no_pod_reads_is_caught(env_objects, tmp_path):
    root = contract_root(
        tmp_path, lambda d: d["workloads"]["billing-worker"]["secrets"]["rabbitmq"].append("erlang_cookie")
    )
    assert secrets.check(Env(root, "dev", env_objects("dev"))) == [
        "base/billing-worker/deployment.yaml: Deployment/billing-worker: its pods' ExternalSecrets read "
        "{billing-db: [password, username], rabbitmq: [password, username]} but contract.yaml's "
        "workloads.billing-worker.secrets is {billing-db: [password, username], "
        "rabbitmq: [erlang_cookie, password, username]}"
    ]


def test_a_workload_secret_outside_the_secrets_section_is_refused(tmp_path):
    root = contract_root(
        tmp_path, lambda d: d["workloads"]["billing"]["secrets"].update({"billing-amqp": ["url"]})
    )
    with pytest.raises(
        CloudctlError,
        match=r"^contract.yaml: workloads.billing.secrets.billing-amqp is no secret of the secrets section$",
    ):
        spec.load(root)


def test_a_workload_key_its_secret_lacks_is_refused(tmp_path):
    root = contract_root(
        tmp_path, lambda d: d["workloads"]["inventory"]["secrets"]["inventory-db"].append("host")
    )
    with pytest.raises(
        CloudctlError,
        match=r"workloads.inventory.secrets.inventory-db: host is no key of secrets.inventory-db",
    ):
        spec.load(root)
