"""Parses `terraform output -json` of the env root and of the state root (names fixed in docs/contract.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cloudctl.errors import CloudctlError

# Outputs every env root declares (docs/contract.md, "Terraform layout the CLI reads").
ENV_OUTPUTS = (
    "alb_dns_name",
    "argocd_url",
    "kubeconfig_parameter",
    "cluster_name",
    "region",
    "ecr_repository_urls",
    "rds_endpoint",
    # The kubeconfig in SSM counts only when its description names this instance (kubeconfig.py).
    "master_instance_id",
)

STATE_BUCKET_OUTPUT = "state_bucket"


@dataclass(frozen=True)
class EnvOutputs:
    alb_dns_name: str
    argocd_url: str
    kubeconfig_parameter: str
    cluster_name: str
    region: str
    ecr_repository_urls: dict[str, str]
    rds_endpoint: str
    master_instance_id: str
    # Terraform creates the SSM parameter holding this until the master overwrites it with the kubeconfig.
    kubeconfig_placeholder: str = "pending"

    @property
    def alb_url(self) -> str:
        return f"http://{self.alb_dns_name}"

    @classmethod
    def placeholder(cls, env: str, region: str) -> EnvOutputs:
        """What a dry run shows where only an applied root knows the value."""
        return cls(
            alb_dns_name="<alb_dns_name>",
            argocd_url="http://<alb_dns_name>/argocd",
            kubeconfig_parameter=f"/cloud-design/{env}/kubeconfig",
            cluster_name=f"cloud-design-{env}",
            region=region,
            ecr_repository_urls={},
            rds_endpoint="<rds_endpoint>",
            master_instance_id="<master_instance_id>",
        )


def _values(text: str, where: str) -> dict[str, Any]:
    """{name: value} from `terraform output -json` ({name: {"value", "type", "sensitive"}})."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as err:
        raise CloudctlError(
            f"terraform output -json of {where} is not JSON ({err.msg} at line {err.lineno})"
        ) from err
    if not isinstance(raw, dict) or not all(isinstance(v, dict) and "value" in v for v in raw.values()):
        raise CloudctlError(f"terraform output -json of {where} has an unexpected shape")
    return {name: item["value"] for name, item in raw.items()}


def parse_env_outputs(text: str, where: str) -> EnvOutputs:
    values = _values(text, where)
    if not values:
        raise CloudctlError(f"{where} has no outputs: it has not been applied yet")
    missing = [name for name in ENV_OUTPUTS if name not in values]
    if missing:
        raise CloudctlError(f"{where} lacks the output(s) {', '.join(missing)}")
    urls = values["ecr_repository_urls"]
    if not isinstance(urls, dict):
        raise CloudctlError(f"output ecr_repository_urls of {where} is not a map")
    text_values = {name: values[name] for name in ENV_OUTPUTS if name != "ecr_repository_urls"}
    empty = [name for name, value in text_values.items() if not isinstance(value, str) or not value]
    if empty:
        raise CloudctlError(f"{where}: output(s) {', '.join(empty)} must be non-empty strings")
    placeholder = values.get("kubeconfig_placeholder", EnvOutputs.kubeconfig_placeholder)
    return EnvOutputs(
        ecr_repository_urls={str(k): str(v) for k, v in urls.items()},
        kubeconfig_placeholder=str(placeholder),
        **text_values,
    )


def parse_state_bucket(text: str, where: str) -> str:
    """The state bucket's name from the state root's outputs (the env roots' backend.hcl lacks only it)."""
    bucket = _values(text, where).get(STATE_BUCKET_OUTPUT)
    if not isinstance(bucket, str) or not bucket:
        raise CloudctlError(f"{where} lacks the output {STATE_BUCKET_OUTPUT}: was the state root applied?")
    return bucket
