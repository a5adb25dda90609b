"""cluster: instance sizes, IMDSv2, encrypted gp3, token and kubeconfig in SSM, AZ spread."""

from __future__ import annotations

import pytest
from terraform_hcl import (
    ENVS,
    TERRAFORM,
    common_locals,
    data_sources,
    ephemeral_resources,
    load_dir,
    module_dir,
    resources,
    tfvars,
    variable_default,
)

CLUSTER = module_dir("cluster")


def test_instance_sizes():
    assert variable_default("cluster", "master_instance_type") == "t3.medium"
    assert variable_default("cluster", "worker_instance_type") == "t3.small"
    assert variable_default("cluster", "worker_count") == 2
    for env in ENVS:
        values = tfvars(env)
        assert (values["master_instance_type"], values["worker_instance_type"], values["worker_count"]) == (
            "t3.medium",
            "t3.small",
            2,
        )


@pytest.mark.parametrize("role", ["master", "worker"])
def test_imdsv2_with_hop_limit_one_and_encrypted_gp3(role):
    """Hop limit 1: a pod on the CNI bridge is one hop further than the host, so only host-network
    processes get an IMDSv2 token and with it the node role."""
    metadata = next(
        block["metadata_options"] for block in load_dir(CLUSTER)["locals"] if "metadata_options" in block
    )
    assert metadata == {
        "http_endpoint": "enabled",
        "http_tokens": "required",
        "http_put_response_hop_limit": 1,
    }
    instance = resources(CLUSTER, "aws_instance")[role]
    assert instance["metadata_options"][0] == {
        "http_endpoint": "${local.metadata_options.http_endpoint}",
        "http_tokens": "${local.metadata_options.http_tokens}",
        "http_put_response_hop_limit": "${local.metadata_options.http_put_response_hop_limit}",
    }
    root = instance["root_block_device"][0]
    assert root["volume_type"] == "gp3" and root["encrypted"] is True
    assert "key_name" not in instance


def test_new_user_data_means_new_nodes():
    """cloud-init runs once per instance: changed user data must replace the node, not restart it."""
    for role in ("master", "worker"):
        assert resources(CLUSTER, "aws_instance")[role]["user_data_replace_on_change"] is True


def test_workers_spread_over_the_subnets_and_join_the_master():
    worker = resources(CLUSTER, "aws_instance")["worker"]
    assert worker["count"] == "${var.worker_count}"
    assert worker["subnet_id"] == "${var.subnet_ids[count.index % length(var.subnet_ids)]}"
    assert "master_private_ip = aws_instance.master.private_ip" in worker["user_data"]


def test_token_is_generated_and_kept_as_a_write_only_securestring():
    token = ephemeral_resources(CLUSTER, "aws_secretsmanager_random_password")["k3s_token"]
    assert token["password_length"] >= 32
    parameters = resources(CLUSTER, "aws_ssm_parameter")
    assert parameters["k3s_token"]["type"] == "SecureString"
    generated = "${ephemeral.aws_secretsmanager_random_password.k3s_token.random_password}"
    assert parameters["k3s_token"]["value_wo"] == generated
    assert parameters["k3s_token"]["value_wo_version"] == "${var.token_version}"
    assert "value" not in parameters["k3s_token"]


def test_kubeconfig_parameter_is_write_only():
    """The master overwrites the placeholder with the admin kubeconfig: Terraform neither reads it
    back into the state nor puts the placeholder back (the emulator run proves both)."""
    kubeconfig = resources(CLUSTER, "aws_ssm_parameter")["kubeconfig"]
    assert kubeconfig["type"] == "SecureString"
    assert kubeconfig["value_wo"] == "${var.kubeconfig_placeholder}"
    assert kubeconfig["value_wo_version"] == 1
    assert "value" not in kubeconfig
    # The master writes "published by <instance id>" into the description: not drift to undo.
    assert kubeconfig["lifecycle"][0]["ignore_changes"] == ["description"]


def test_parameter_names_follow_the_contract():
    main = (TERRAFORM / "envs" / "common" / "main.tf").read_text()
    assert 'ssm_prefix = "/cloud-design/${var.environment}"' in main
    assert 'token_parameter_name      = "${local.ssm_prefix}/k3s-token"' in main
    assert 'kubeconfig_parameter_name = "${local.ssm_prefix}/kubeconfig"' in main
    assert common_locals()["name"] == "cloud-design-${var.environment}"


def test_ami_is_pinned_by_exact_name():
    ami = data_sources(CLUSTER, "aws_ami")["node"]
    assert ami["filter"][0] == {"name": "name", "values": ["${var.ami_name}"]}
    name = variable_default("cluster", "ami_name")
    assert "*" not in name and name.startswith("al2023-ami-2023.")
    assert variable_default("cluster", "ecr_credential_provider_version") == "v1.31.7"
