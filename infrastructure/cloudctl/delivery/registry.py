"""Where an environment's images live in ECR, and whether a tag is already there.

git holds only image names and tags (`overlays/<env>/images`: `{name, newTag}`). The registry is
account-specific, so it comes from the job's own AWS identity, never from git: AWS_ACCOUNT_ID and
AWS_REGION (the CI variables) or, without them, STS's caller identity and the SDK's region. The
repository names are Terraform's (modules/registry under name_prefix `cloud-design/<env>`).

`tag_present` asks the registry itself through skopeo, so a build job can skip the push that an
IMMUTABLE repository would refuse: the tag is the commit SHA, so an existing tag is this same
source, built by an earlier run of the job.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

from cloudctl.errors import CloudctlError

# Terraform's envs/<env>/main.tf: module "registry" { name_prefix = "cloud-design/${var.environment}" }
REPOSITORY_PREFIX = "cloud-design"
# <account>.dkr.ecr.<region>.amazonaws.com
ECR_HOST = re.compile(r"(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com")
ACCOUNT_ID = re.compile(r"\d{12}")
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d")
# The registry's answer for a tag it does not have (OCI distribution spec: MANIFEST_UNKNOWN).
# Anything else (no repository, no access, no connection) is an error, never "absent".
MANIFEST_UNKNOWN = "manifest unknown"
# Registries on this machine serve plain HTTP (the tests' registry, a k3d registry).
LOOPBACK_HOSTS = ("localhost:", "127.0.0.1:", "[::1]:")


def repository_name(env: str, image: str) -> str:
    return f"{REPOSITORY_PREFIX}/{env}/{image}"


@dataclass(frozen=True)
class Repository:
    registry: str  # the account id: ECR's registryId
    region: str
    name: str


@dataclass(frozen=True)
class EcrRegistry:
    account: str
    region: str

    def __post_init__(self):
        if not ACCOUNT_ID.fullmatch(self.account or ""):
            raise CloudctlError(f"malformed AWS account id {self.account!r}: expected 12 digits")
        if not REGION.fullmatch(self.region or ""):
            raise CloudctlError(f"malformed AWS region {self.region!r}, e.g. eu-west-1")

    @property
    def host(self) -> str:
        return f"{self.account}.dkr.ecr.{self.region}.amazonaws.com"

    def repository(self, env: str, image: str) -> Repository:
        return Repository(self.account, self.region, repository_name(env, image))

    @classmethod
    def from_host(cls, host: str) -> EcrRegistry:
        match = ECR_HOST.fullmatch(host or "")
        if not match:
            raise CloudctlError(f"{host!r} is not an ECR registry (<account>.dkr.ecr.<region>.amazonaws.com)")
        return cls(match["account"], match["region"])

    @classmethod
    def from_environment(cls, environ=os.environ, sts=None) -> EcrRegistry:
        """AWS_ACCOUNT_ID and AWS_REGION when set (CI); otherwise the caller's account from STS
        and the region the AWS SDK is configured with (AWS_DEFAULT_REGION, ~/.aws/config)."""
        account, region = environ.get("AWS_ACCOUNT_ID"), environ.get("AWS_REGION")
        if not account or not region:
            import boto3
            from botocore.exceptions import BotoCoreError, ClientError

            region = region or boto3.session.Session().region_name
            if not region:
                raise CloudctlError(
                    "no AWS region: set AWS_REGION (CI variable) or configure the AWS SDK's region"
                )
            if not account:
                try:
                    client = sts or boto3.client("sts", region_name=region)
                    account = client.get_caller_identity()["Account"]
                except (BotoCoreError, ClientError) as err:
                    raise CloudctlError(
                        f"cannot tell the AWS account (sts get-caller-identity): {err}"
                    ) from err
        return cls(account, region)


def tag_present(reference: str, *, creds: str | None = None, skopeo: str = "skopeo") -> bool:
    """Whether `reference` (host/repository:tag) names an image in its registry.

    True: it does. False: the registry answered that it has no such manifest. Every other outcome
    (unreachable registry, unknown repository, refused credentials) raises CloudctlError.
    """
    host = reference.split("/", 1)[0]
    command = [skopeo, "inspect", "--raw", "--retry-times", "0"]
    if host.startswith(LOOPBACK_HOSTS):
        command.append("--tls-verify=false")
    if creds:
        command += ["--creds", creds]
    try:
        result = subprocess.run(
            [*command, f"docker://{reference}"], capture_output=True, text=True, timeout=120, check=False
        )
    except FileNotFoundError as err:
        raise CloudctlError(f"{skopeo} not found: install skopeo to look up {reference}") from err
    except subprocess.TimeoutExpired as err:
        raise CloudctlError(
            f"cannot tell whether {reference} exists: skopeo gave no answer in 120 s"
        ) from err
    if result.returncode == 0:
        return True
    message = " ".join(result.stderr.split()) or f"skopeo exited {result.returncode}"
    if MANIFEST_UNKNOWN in message.lower():
        return False
    raise CloudctlError(f"cannot tell whether {reference} exists: {message}")


def ecr_credentials(ecr) -> str:
    """`AWS:<token>` for skopeo --creds, from ECR's GetAuthorizationToken (valid 12 hours)."""
    import base64

    from botocore.exceptions import BotoCoreError, ClientError

    try:
        data = ecr.get_authorization_token()["authorizationData"][0]
    except (BotoCoreError, ClientError) as err:
        raise CloudctlError(f"ECR: cannot get a registry login: {err}") from err
    return base64.b64decode(data["authorizationToken"]).decode()


def present_images(host: str, env: str, images: list[str], tag: str, creds: str | None = None) -> list[str]:
    """The images among `images` whose repository in `env` already holds `tag`."""
    return [
        image for image in images if tag_present(f"{host}/{repository_name(env, image)}:{tag}", creds=creds)
    ]
