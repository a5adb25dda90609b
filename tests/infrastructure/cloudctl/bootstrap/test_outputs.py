"""Parsing `terraform output -json`, and the real Terraform and GitOps files the CLI depends on."""

from __future__ import annotations

import json

import pytest
from cloudctl.bootstrap.kube_steps import root_app
from cloudctl.bootstrap.layout import ENVIRONMENTS, Layout
from cloudctl.bootstrap.outputs import ENV_OUTPUTS as CONTRACT_OUTPUTS
from cloudctl.bootstrap.outputs import STATE_BUCKET_OUTPUT, parse_env_outputs, parse_state_bucket
from cloudctl.bootstrap.state_adopt import BUCKET_NAME, STATE_RESOURCES
from cloudctl.bootstrap.tfvars import CONTRACT_VARIABLES, load_tfvars
from cloudctl.errors import CloudctlError
from cloudctl_fakes import ENV_OUTPUTS, REAL_ROOT


def test_parses_real_shaped_env_outputs():
    outputs = parse_env_outputs(json.dumps(ENV_OUTPUTS, indent=2), "envs/dev")

    assert outputs.alb_url == "http://cloud-design-dev-alb-1234567890.eu-west-1.elb.amazonaws.com"
    assert outputs.kubeconfig_parameter == "/cloud-design/dev/kubeconfig"
    assert outputs.kubeconfig_placeholder == "pending"
    assert outputs.ecr_repository_urls["billing-app"].endswith("/cloud-design/dev/billing-app")
    assert outputs.rds_endpoint.startswith("cloud-design-dev.")


def test_the_placeholder_defaults_when_the_root_does_not_output_it():
    trimmed = {name: value for name, value in ENV_OUTPUTS.items() if name != "kubeconfig_placeholder"}

    assert parse_env_outputs(json.dumps(trimmed), "envs/dev").kubeconfig_placeholder == "pending"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{}", "envs/dev has no outputs: it has not been applied yet"),
        ("not json", "terraform output -json of envs/dev is not JSON (Expecting value at line 1)"),
        ('{"alb_dns_name": "bare"}', "terraform output -json of envs/dev has an unexpected shape"),
        (
            json.dumps({k: v for k, v in ENV_OUTPUTS.items() if k not in ("rds_endpoint", "region")}),
            "envs/dev lacks the output(s) region, rds_endpoint",
        ),
        (
            json.dumps({**ENV_OUTPUTS, "alb_dns_name": {"value": "", "type": "string"}}),
            "envs/dev: output(s) alb_dns_name must be non-empty strings",
        ),
        (
            json.dumps({**ENV_OUTPUTS, "ecr_repository_urls": {"value": ["a"], "type": "list"}}),
            "output ecr_repository_urls of envs/dev is not a map",
        ),
    ],
)
def test_bad_env_outputs_are_one_clear_line(text, message):
    with pytest.raises(CloudctlError) as err:
        parse_env_outputs(text, "envs/dev")
    assert str(err.value) == message


def test_parses_the_state_bucket():
    bucket = {"value": "cloud-design-tfstate-1", "type": "string", "sensitive": False}
    text = json.dumps({"state_bucket": bucket})

    assert parse_state_bucket(text, "state") == "cloud-design-tfstate-1"


# --- the real checkout: what the CLI reads must be there, with the names it expects ----------------


def _hcl(path):
    return load_tfvars(path)


def _blocks(path, kind):
    return {name for block in _hcl(path).get(kind, []) for name in block}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_env_root_outputs_what_the_cli_reads(env):
    outputs = _blocks(REAL_ROOT / f"infrastructure/terraform/envs/{env}/outputs.tf", "output")

    assert set(CONTRACT_OUTPUTS) <= outputs
    assert "kubeconfig_placeholder" in outputs


def test_the_state_root_outputs_the_bucket_and_declares_the_resources_adopted():
    state = REAL_ROOT / "infrastructure/terraform/state"
    assert STATE_BUCKET_OUTPUT in _blocks(state / "outputs.tf", "output")
    main = _hcl(state / "main.tf")
    declared = {
        f"{kind}.{name}" for block in main["resource"] for kind, named in block.items() for name in named
    }
    assert declared == set(STATE_RESOURCES)
    # The name state-adopt looks for is the one the root gives the bucket when bucket_name is unset.
    pattern = BUCKET_NAME.replace("{account}", "${data.aws_caller_identity.current.account_id}")
    assert pattern in (state / "main.tf").read_text()


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_checkout_holds_everything_up_reads(env):
    layout = Layout(REAL_ROOT, env)
    layout.require(
        layout.state_root,
        layout.env_root,
        layout.tfvars,
        layout.backend_hcl,
        layout.argocd_install / "kustomization.yaml",
        layout.root_app,
    )
    tfvars = load_tfvars(layout.tfvars, required=CONTRACT_VARIABLES)
    assert tfvars["environment"] == env
    backend = load_tfvars(layout.backend_hcl)
    assert "bucket" not in backend  # the CLI passes it from the state root's output
    assert backend["key"] == f"envs/{env}/terraform.tfstate"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_real_root_app_is_found(env):
    app = root_app(Layout(REAL_ROOT, env))
    assert (app.name, app.namespace) == ("root", "argocd")
