"""What every step of a plan shares: the layout, the shell, AWS access, waits, and values steps hand on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from cloudctl.bootstrap.layout import Layout
from cloudctl.bootstrap.outputs import EnvOutputs
from cloudctl.bootstrap.shell import Shell
from cloudctl.bootstrap.waits import WaitPolicy


class Aws:
    """AWS through boto3. Tests replace it with a stand-in (botocore Stubber behind ssm())."""

    def has_credentials(self) -> bool:
        return boto3.Session().get_credentials() is not None

    def ssm(self, region: str) -> Any:
        return boto3.Session(region_name=region).client("ssm")


@dataclass
class Context:
    layout: Layout
    shell: Shell
    aws: Aws
    kubeconfig: Path
    region: str
    waits: WaitPolicy = field(default_factory=WaitPolicy)
    # Filled in by the steps that read them, for the steps after.
    backend_config: dict[str, str] | str | None = None
    outputs: EnvOutputs | None = None
    kubeconfig_ready: bool = False

    @property
    def env(self) -> str:
        return self.layout.env

    @property
    def dry_run(self) -> bool:
        return self.shell.dry_run

    def say(self, line: str) -> None:
        self.shell.say(line)
