"""ExternalSecrets read only the Secrets Manager secrets and JSON keys contract.yaml lists."""

from __future__ import annotations

from cloudctl.manifests.contract import secrets
from cloudctl.manifests.contract.env import Env
from contract_helpers import contract_root
from manifest_helpers import ROOT, find


def test_a_key_the_contract_does_not_give_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "ExternalSecret", "billing-db").doc["spec"]["data"][1]["remoteRef"]["property"] = "passwd"
    assert secrets.check(Env(ROOT, "dev", objects)) == [
        "base/secrets/billing-db.yaml: ExternalSecret/billing-db: reads key 'passwd' of "
        "cloud-design/dev/billing-db, but contract.yaml gives it only username, password"
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
    root = contract_root(tmp_path, lambda d: d["secrets"].pop("inventory-db"))
    problems = secrets.check(Env(root, "dev", env_objects("dev")))
    assert len(problems) == 2  # username and password
    assert all("ExternalSecret/inventory-db: reads 'cloud-design/dev/inventory-db'" in p for p in problems)
