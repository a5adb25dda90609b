"""Fetches the kubeconfig the master publishes to SSM (no SSH) and keeps it in a private file.

A replaced master is a new cluster with a new CA, while the parameter still holds the old one's
kubeconfig until the new master boots. The master writes the parameter's description
`published by <instance-id>` in the same put as the value, so a kubeconfig counts only when that
description names Terraform's current `master_instance_id`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from cloudctl.bootstrap.shell import StepError
from cloudctl.bootstrap.waits import WaitPolicy, wait_for

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

# Looked up while the master boots: it appears once K3s is up (cloud-init puts it there).
NOT_YET = ("ParameterNotFound",)
PUBLISHED_BY = "published by {instance}"


def publisher(ssm: SSMClient, name: str) -> str | None:
    """The parameter's description (`published by <instance-id>` once a master wrote it); None if absent."""
    reply = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Option": "Equals", "Values": [name]}])
    found = reply.get("Parameters", [])
    return found[0].get("Description", "") if found else None


def read_current(ssm: SSMClient, name: str, placeholder: str, master: str) -> tuple[str | None, str]:
    """(kubeconfig, "") when the current master published it, else (None, why not)."""
    description = publisher(ssm, name)
    if description != PUBLISHED_BY.format(instance=master):
        if description and description.startswith(PUBLISHED_BY.format(instance="")):
            return None, f"{name} was {description}, a previous master, not by the master {master}"
        return None, f"{name} is not published by the master {master} yet"
    value = read_parameter(ssm, name)
    if value is None or value == placeholder:
        return None, f"{name} holds no kubeconfig yet"
    return value, ""


def read_parameter(ssm: SSMClient, name: str) -> str | None:
    """The decrypted value of an SSM SecureString, or None while it does not exist yet."""
    try:
        reply = ssm.get_parameter(Name=name, WithDecryption=True)
    except ClientError as err:
        code = err.response.get("Error", {}).get("Code", "")
        if code in NOT_YET:
            return None
        raise StepError(f"SSM get-parameter {name} failed: {code or err}") from err
    return reply["Parameter"]["Value"]


def wait_for_kubeconfig(
    ssm: SSMClient, name: str, placeholder: str, master: str, policy: WaitPolicy, say: Callable[[str], None]
) -> str:
    """The kubeconfig once the master `master` has replaced what was there (placeholder or stale)."""

    def probe() -> str | None:
        value, why = read_current(ssm, name, placeholder, master)
        if value is None:
            say(f"    {why}; waiting, next look in {policy.interval_s:.0f} s")
        return value

    text = wait_for(f"SSM parameter {name}", probe, policy)
    if "clusters:" not in text or "server:" not in text:
        raise StepError(f"SSM parameter {name} does not hold a kubeconfig")
    return text


def write_private(path: Path, text: str) -> None:
    """Write text to path readable by the owner only (0600), atomically, creating the folder (0700)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
