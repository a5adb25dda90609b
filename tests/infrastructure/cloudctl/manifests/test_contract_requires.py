"""Each workload's `requires` in contract.yaml is exactly the settings its code requires
(common.describe reports the code's own Setting tuple)."""

from __future__ import annotations

import pytest
from cloudctl.errors import CloudctlError
from cloudctl.manifests.contract import requires, spec
from cloudctl.manifests.contract.env import Env
from contract_helpers import contract_root
from manifest_helpers import ROOT


def test_the_real_contract_lists_what_the_code_requires(env_objects):
    assert requires.check(Env(ROOT, "dev", env_objects("dev"))) == []


def test_a_required_setting_the_contract_omits_is_caught(env_objects, tmp_path):
    root = contract_root(tmp_path, lambda d: d["workloads"]["billing-worker"]["requires"].remove("AMQP_URL"))
    assert requires.check(Env(root, "dev", env_objects("dev"))) == [
        "contract.yaml: workloads.billing-worker.requires is [DATABASE_URL, INVENTORY_URL] "
        "but its code requires [DATABASE_URL, AMQP_URL, INVENTORY_URL]"
    ]


def test_a_variable_the_code_does_not_require_is_caught(env_objects, tmp_path):
    root = contract_root(tmp_path, lambda d: d["workloads"]["inventory"]["requires"].append("PGPASSWORD"))
    assert requires.check(Env(root, "dev", env_objects("dev"))) == [
        "contract.yaml: workloads.inventory.requires is [DATABASE_URL, PGPASSWORD] "
        "but its code requires [DATABASE_URL]"
    ]


def test_a_workload_the_environment_does_not_run_is_still_checked(env_objects, tmp_path):
    root = contract_root(tmp_path, lambda d: d["workloads"]["api-gateway"].update(requires=[]))
    objects = [o for o in env_objects("dev") if o.name != "api-gateway"]
    assert requires.check(Env(root, "dev", objects)) == [
        "contract.yaml: workloads.api-gateway.requires is [] "
        "but its code requires [INVENTORY_URL, BILLING_URL]"
    ]


def test_requires_must_be_a_list_of_names(tmp_path):
    root = contract_root(tmp_path, lambda d: d["workloads"]["inventory"].update(requires="DATABASE_URL"))
    with pytest.raises(
        CloudctlError, match=r"^contract.yaml: workloads.inventory.requires is missing or not a list$"
    ):
        spec.load(root)
