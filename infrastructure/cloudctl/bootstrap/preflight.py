"""Checks that run before any step: the tools on PATH and AWS credentials. Each failure is one line."""

from __future__ import annotations

import shutil
from collections.abc import Iterable

from botocore.exceptions import BotoCoreError, ClientError

from cloudctl.bootstrap.context import Aws
from cloudctl.errors import CloudctlError

# What to do when a tool is missing: the project pins both (docs/contract.md, infrastructure/terraform).
INSTALL_HINTS = {
    "terraform": "install the Terraform version pinned by required_version in infrastructure/terraform",
    "kubectl": "run `make venv` and put .venv/bin (the pinned kubectl) first on PATH",
}


def require_tools(tools: Iterable[str]) -> None:
    for tool in tools:
        if shutil.which(tool) is None:
            raise CloudctlError(f"{tool} not found on PATH: {INSTALL_HINTS[tool]}")


def require_credentials(aws: Aws, region: str) -> str:
    """The account the credentials belong to; absent or rejected credentials are one line."""
    if not aws.has_credentials():
        raise CloudctlError(
            "no AWS credentials found: set AWS_PROFILE (after `aws sso login`) or "
            "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
        )
    try:
        return aws.account_id(region)
    except ClientError as err:  # expired SSO session, deactivated key, ...
        code = err.response.get("Error", {}).get("Code", "")
        raise CloudctlError(f"AWS rejected the credentials (sts get-caller-identity: {code})") from err
    except BotoCoreError as err:  # no network, bad endpoint, unreadable profile
        raise CloudctlError(f"cannot check the AWS credentials: {' '.join(str(err).split())}") from err
