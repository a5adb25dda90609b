"""Secrets Manager secrets come from contract.yaml's `secrets:`: what Terraform writes is what the
contract names, and a contract naming what Terraform cannot generate fails `terraform validate`.

The real engine validates an initialised envs/dev copy (terraform_engine.Workspace) whose
contract.yaml each test edits and restores; the first test shows the unedited copy is valid, so
each refusal below is the edit's.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator

import pytest
import yaml
from terraform_engine import TerraformFailed, Workspace
from terraform_hcl import (
    ADMIN_CIDR,
    COMMON,
    contract_secrets,
    ephemeral_resources,
    labelled,
    locals_of,
    module_dir,
    resources,
)

SECRETS = module_dir("secrets")
DATABASE = module_dir("database")


# --- static: the root hands the contract over; the generators write the keys they declare ---------
def test_the_root_passes_the_contracts_secrets_split_between_the_two_modules():
    assert locals_of(COMMON)["secret_keys"] == (
        "${{for name, secret in local.contract.secrets : name => secret.keys}}"
    )
    calls = labelled(COMMON, "module")
    assert (
        calls["secrets"]["secrets"]
        == '${{for name, keys in local.secret_keys : name => keys if name != "rds-master"}}'
    )
    assert calls["database"]["master_secret_keys"] == '${lookup(local.secret_keys, "rds-master", null)}'
    assert "database_users" not in labelled(SECRETS, "variable")  # no list of its own any more


def test_each_generator_writes_exactly_the_keys_the_module_checks_the_contract_against():
    declared = locals_of(SECRETS)
    versions = resources(SECRETS, "aws_secretsmanager_secret_version")

    def written(name: str) -> list[str]:
        return re.findall(r"(\w+) = ", versions[name]["secret_string_wo"])

    assert written("database") == declared["database_keys"]
    assert written("rabbitmq") == declared["generated_keys"]["rabbitmq"]
    assert written("argocd_gitlab_webhook") == declared["generated_keys"]["argocd-gitlab-webhook"]
    # <user>-db: one secret (and one password) per contract name, its login named after it.
    assert declared["database_secrets"].startswith(
        '${{for name in keys(var.secrets) : name => trimsuffix(name, "-db")'
    )
    assert (
        resources(SECRETS, "aws_secretsmanager_secret")["database"]["for_each"] == "${local.database_secrets}"
    )
    assert ephemeral_resources(SECRETS, "aws_secretsmanager_random_password")["database"]["for_each"] == (
        "${local.database_secrets}"
    )
    master = resources(DATABASE, "aws_secretsmanager_secret_version")["master"]
    assert re.findall(r"(\w+) = ", master["secret_string_wo"]) == ["username", "password"]


def test_the_real_contract_names_what_the_modules_write():
    """The same rule the validations hold, on the file itself (fast, and names the secret)."""
    declared = locals_of(SECRETS)
    pattern = declared["database_secret_pattern"]
    for name, keys in contract_secrets().items():
        if name == "rds-master":
            expected = ["username", "password"]
        elif re.fullmatch(pattern, name):
            expected = declared["database_keys"]
        else:
            expected = declared["generated_keys"][name]
        assert sorted(keys) == sorted(expected), name
    assert set(declared["generated_keys"]) <= set(contract_secrets())


# --- the engine: an edited contract fails validate, naming what is wrong --------------------------
@pytest.fixture(scope="module")
def dev_root(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """envs/dev initialised with a local backend: validate, and console for the root's variables."""
    workspace = Workspace.create(
        tmp_path_factory.mktemp("secrets-contract"), {"TF_VAR_admin_cidr": ADMIN_CIDR}
    )
    (workspace.root("envs/dev") / "backend_override.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    workspace.init("envs/dev")
    return workspace


@pytest.fixture
def edit_contract(dev_root: Workspace) -> Iterator[Callable[[Callable[[dict], None]], None]]:
    path = dev_root.tree.parent.parent / "contract.yaml"
    original = path.read_text()

    def edit(change: Callable[[dict], None]) -> None:
        data = yaml.safe_load(original)
        change(data["secrets"])
        path.write_text(yaml.safe_dump(data, sort_keys=False))

    yield edit
    path.write_text(original)


def validate(workspace: Workspace) -> tuple[bool, str]:
    """validate's verdict and its diagnostics on one line."""
    report = json.loads(workspace.run("envs/dev", "validate", "-json", "-no-color", ok=(0, 1)).stdout)
    text = " ".join(f"{d['summary']}: {d.get('detail', '')}" for d in report["diagnostics"])
    return report["valid"], " ".join(text.split())


def test_the_unedited_contract_validates(dev_root: Workspace, edit_contract):
    edit_contract(lambda secrets: None)  # dumped through yaml like every edit below
    valid, problems = validate(dev_root)
    assert valid, problems


def test_a_new_database_login_in_the_contract_is_accepted(dev_root: Workspace, edit_contract):
    """<user>-db has a generator: naming one in the contract is what creates it."""
    edit_contract(
        lambda secrets: secrets.update({"orders-db": {"keys": ["password", "username"], "holds": "x"}})
    )
    valid, problems = validate(dev_root)
    assert valid, problems


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda secrets: secrets.update({"orders-queue": {"keys": ["token"], "holds": "x"}}),
            "contract.yaml names secrets modules/secrets has no generator for: orders-queue.",
        ),
        (
            lambda secrets: secrets.pop("rabbitmq"),
            "modules/secrets writes rabbitmq, which contract.yaml's secrets do not name",
        ),
        (
            lambda secrets: secrets["rabbitmq"].update(keys=["username", "password"]),
            "rabbitmq lists [username, password], the module writes [username, password, erlang_cookie]",
        ),
        (
            lambda secrets: secrets["inventory-db"].update(keys=["username", "password", "host"]),
            "inventory-db lists [username, password, host], the module writes [username, password]",
        ),
        (
            lambda secrets: secrets.pop("rds-master"),
            "contract.yaml's secrets name no rds-master, yet the database module writes",
        ),
        (
            lambda secrets: secrets["rds-master"].update(keys=["password"]),
            "secrets.rds-master.keys must be [username, password], what the database module writes; "
            "it lists [password]",
        ),
    ],
    ids=[
        "unknown-secret",
        "generator-not-named",
        "key-missing",
        "key-extra",
        "no-rds-master",
        "rds-master-keys",
    ],
)
def test_a_contract_terraform_cannot_honour_fails_validate(
    dev_root: Workspace, edit_contract, change: Callable[[dict], None], message: str
):
    edit_contract(change)
    valid, problems = validate(dev_root)
    assert not valid
    assert message in problems, problems


# --- secret_versions (the rotation) takes the contract's names and k3s-token ----------------------
def with_versions(workspace: Workspace, versions: str) -> Workspace:
    return dataclasses.replace(workspace, env={**workspace.env, "TF_VAR_secret_versions": versions})


def test_secret_versions_accepts_the_contracts_names_and_the_k3s_token(dev_root: Workspace):
    versions = '{"k3s-token" = 2, "rabbitmq" = 3, "rds-master" = 2}'
    assert with_versions(dev_root, versions).console("envs/dev", "var.secret_versions") == {
        "k3s-token": 2,
        "rabbitmq": 3,
        "rds-master": 2,
    }


def test_secret_versions_refuses_a_name_the_contract_does_not_hold(dev_root: Workspace):
    refused = with_versions(dev_root, '{"rabbitmq" = 2, "orders-queue" = 2}')
    with pytest.raises(TerraformFailed) as failed:
        refused.console("envs/dev", "var.secret_versions")
    message = " ".join(str(failed.value).split())
    assert "secret_versions takes k3s-token and the names of contract.yaml's secrets" in message
    assert "it got orders-queue." in message
