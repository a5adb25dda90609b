"""The Terraform layout the bootstrap CLI reads, held equal to docs/contract.md."""

from __future__ import annotations

import re

import pytest
from terraform_hcl import ENVS, ROOT, TERRAFORM, labelled, tfvars

CONTRACT = (ROOT / "docs" / "contract.md").read_text()
COMMON = TERRAFORM / "envs" / "common"


def contract_names(after: str, before: str) -> list[str]:
    section = CONTRACT.split("## Terraform layout the CLI reads", 1)[1]
    text = section.split(after, 1)[1].split(before, 1)[0]
    return re.findall(r"`([a-z_]+)`", text)


TFVARS = contract_names("values in `terraform.tfvars`:", "Not in git:")
# Variables each operator passes to cloudctl (as TF_VAR_*), never committed.
INPUTS = contract_names("Not in git:", ", which")
OUTPUTS = contract_names("- outputs of each env root:", "\n\n")


def test_contract_lists_were_found():
    assert len(TFVARS) == 11 and "certificate_arn" in TFVARS
    assert INPUTS == ["admin_cidr"]
    assert len(OUTPUTS) == 8 and {"kubeconfig_parameter", "master_instance_id"} <= set(OUTPUTS)


@pytest.mark.parametrize("env", ENVS)
def test_tfvars_set_every_contract_value_and_only_declared_ones(env):
    values = tfvars(env)
    assert set(TFVARS) <= set(values)
    assert set(values) <= set(labelled(COMMON, "variable"))
    assert values["environment"] == env
    assert values["region"] == "eu-west-1"


def test_env_root_declares_the_contract_outputs():
    assert set(OUTPUTS) <= set(labelled(COMMON, "output"))


def test_every_contract_variable_is_declared_with_the_same_name():
    assert set(TFVARS) | set(INPUTS) <= set(labelled(COMMON, "variable"))


@pytest.mark.parametrize("env", ENVS)
def test_admin_cidr_is_an_input_never_committed(env):
    assert not set(INPUTS) & set(tfvars(env))
    for name in INPUTS:
        assert "default" not in labelled(COMMON, "variable")[name]  # plan asks for it, or fails


def test_state_root_output_the_cli_reads():
    assert "state_bucket" in labelled(TERRAFORM / "state", "output")
