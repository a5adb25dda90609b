"""What every step of a plan shares: the layout, the shell, AWS access, waits, and values steps hand on."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.exceptions import ClientError

from cloudctl.bootstrap.inputs import Inputs
from cloudctl.bootstrap.layout import Layout
from cloudctl.bootstrap.outputs import EnvOutputs
from cloudctl.bootstrap.shell import Shell, StepError
from cloudctl.bootstrap.waits import WaitPolicy

if TYPE_CHECKING:  # boto3-stubs: the clients' types, for the type checker only (not a runtime dependency)
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_sts import STSClient


class Aws:
    """AWS through boto3. Tests use a stand-in whose clients answer from botocore Stubbers."""

    def __init__(self) -> None:
        self._account: str | None = None

    def has_credentials(self) -> bool:
        return boto3.Session().get_credentials() is not None

    def ssm(self, region: str) -> SSMClient:
        return boto3.Session(region_name=region).client("ssm")

    def sts(self, region: str) -> STSClient:
        return boto3.Session(region_name=region).client("sts")

    def s3(self, region: str) -> S3Client:
        return boto3.Session(region_name=region).client("s3")

    def ecr(self, region: str) -> ECRClient:
        return boto3.Session(region_name=region).client("ecr")

    def account_id(self, region: str) -> str:
        """The credentials' account (asked once: the preflight asks, state-adopt reuses it)."""
        if self._account is None:
            self._account = self.sts(region).get_caller_identity()["Account"]
        return self._account

    def bucket_exists(self, name: str, region: str) -> bool:
        """True for a bucket these credentials own; 403 (someone else's name) is an error."""
        try:
            self.s3(region).head_bucket(Bucket=name)
        except ClientError as err:
            code = str(err.response.get("Error", {}).get("Code", ""))
            if code in ("404", "NoSuchBucket", "NotFound"):
                return False
            raise StepError(f"cannot use bucket {name}: head-bucket answered {code}") from err
        return True


@dataclass
class Context:
    layout: Layout
    shell: Shell
    aws: Aws
    kubeconfig: Path
    region: str
    inputs: Inputs = field(default_factory=Inputs)
    waits: WaitPolicy = field(default_factory=WaitPolicy)
    # Filled in by the steps that read them, for the steps after.
    backend_config: list[str] | None = None  # -backend-config values
    outputs: EnvOutputs | None = None
    kubeconfig_ready: bool = False

    @property
    def env(self) -> str:
        return self.layout.env

    def terraform_variables(self) -> tuple[tuple[str, str], ...]:
        """The env root's input variables that git does not hold (plan, apply, destroy need them)."""
        return (("admin_cidr", self.inputs.admin_cidr),) if self.inputs.admin_cidr else ()

    @property
    def env_outputs(self) -> EnvOutputs:
        """The env root's outputs, for the steps of a plan that come after its env-outputs step."""
        if self.outputs is None:
            raise StepError("the env root's outputs have not been read (the env-outputs step comes first)")
        return self.outputs

    @property
    def dry_run(self) -> bool:
        return self.shell.dry_run

    def say(self, line: str) -> None:
        self.shell.say(line)
