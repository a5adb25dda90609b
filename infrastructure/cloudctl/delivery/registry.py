"""Where an environment's images live in ECR, what a tag names there, and the registry login.

git holds only image names and tags (`overlays/<env>/images`: `{name, newTag}`). The registry is
account-specific, so it comes from the job's own AWS identity, never from git: AWS_ACCOUNT_ID and
AWS_REGION (the CI variables) or, without them, STS's caller identity and the SDK's region. The
repository names are Terraform's (modules/registry under name_prefix `cloud-design/<env>`).

Every registry call is skopeo's (`skopeo inspect --raw`: the manifest's exact bytes, so their
sha256 is the digest). `tag_present` lets a build job skip the push that an IMMUTABLE repository
would refuse: the tag is the commit SHA, so an existing tag is this same source, built by an
earlier run of the job. The login is ECR's GetAuthorizationToken, handed to skopeo in a private
auth file (never on a command line).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cloudctl.errors import CloudctlError

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient
    from mypy_boto3_sts import STSClient

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
SKOPEO_TIMEOUT = 120  # seconds for one inspect


def repository_name(env: str, image: str) -> str:
    return f"{REPOSITORY_PREFIX}/{env}/{image}"


def reference(host: str, env: str, image: str, tag: str) -> str:
    """host/cloud-design/<env>/<image>:<tag>, the name skopeo and buildah are given."""
    return f"{host}/{repository_name(env, image)}:{tag}"


@dataclass(frozen=True)
class Repository:
    registry: str  # the account id: ECR's registryId
    region: str
    name: str


@dataclass(frozen=True)
class EcrRegistry:
    account: str
    region: str

    def __post_init__(self) -> None:
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
    def from_environment(
        cls, environ: Mapping[str, str] = os.environ, sts: STSClient | None = None
    ) -> EcrRegistry:
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


def registry_host(explicit: str | None) -> str:
    """The registry a command talks to: `explicit` (--registry, $ECR_REGISTRY), else the ECR
    registry of the caller's AWS account and region."""
    return explicit or EcrRegistry.from_environment().host


def is_loopback(host: str) -> bool:
    return host.startswith(LOOPBACK_HOSTS)


def digest_of(manifest: bytes) -> str:
    """A manifest's digest: the sha256 of its exact bytes (OCI image spec, descriptors)."""
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


def manifest(ref: str, *, authfile: Path | None = None, skopeo: str = "skopeo") -> bytes | None:
    """The exact bytes of the manifest (or image index) `ref` (host/repository:tag or @digest) names.

    None: the registry answered that it has no such manifest. Every other failure (unreachable
    registry, unknown repository, refused credentials) raises CloudctlError.
    """
    command = [skopeo, "inspect", "--raw", "--retry-times", "0"]
    if is_loopback(ref):
        command.append("--tls-verify=false")
    if authfile is not None:
        command += ["--authfile", str(authfile)]
    try:
        result = subprocess.run(
            [*command, f"docker://{ref}"], capture_output=True, timeout=SKOPEO_TIMEOUT, check=False
        )
    except FileNotFoundError as err:
        raise CloudctlError(f"{skopeo} not found: install skopeo to look up {ref}") from err
    except subprocess.TimeoutExpired as err:
        raise CloudctlError(
            f"cannot tell whether {ref} exists: skopeo gave no answer in {SKOPEO_TIMEOUT} s"
        ) from err
    if result.returncode == 0:
        return result.stdout
    message = one_line(result.stderr) or f"skopeo exited {result.returncode}"
    if MANIFEST_UNKNOWN in message.lower():
        return None
    raise CloudctlError(f"cannot tell whether {ref} exists: {message}")


def one_line(stderr: bytes | str) -> str:
    text = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    return " ".join(text.split())


def tag_present(ref: str, *, creds: str | None = None, skopeo: str = "skopeo") -> bool:
    """Whether `ref` (host/repository:tag) names an image in its registry (see `manifest`)."""
    with auth_file(ref.split("/", 1)[0], creds) as authfile:
        return manifest(ref, authfile=authfile, skopeo=skopeo) is not None


@contextlib.contextmanager
def auth_file(host: str, creds: str | None) -> Iterator[Path | None]:
    """A containers-auth.json(5) file holding `creds` (USER:PASSWORD) for `host`, readable only by
    this user and deleted afterwards; None without creds (skopeo then uses the user's own login)."""
    if creds is None:
        yield None
        return
    with tempfile.TemporaryDirectory(prefix="cloudctl-auth-") as folder:  # mode 0700
        path = Path(folder) / "auth.json"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            json.dump({"auths": {host: {"auth": base64.b64encode(creds.encode()).decode()}}}, out)
        yield path


def ecr_credentials(ecr: ECRClient) -> str:
    """`AWS:<token>` for skopeo, from ECR's GetAuthorizationToken (valid 12 hours)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        data = ecr.get_authorization_token()["authorizationData"][0]
    except (BotoCoreError, ClientError) as err:
        raise CloudctlError(f"ECR: cannot get a registry login: {err}") from err
    return base64.b64decode(data["authorizationToken"]).decode()


def login(host: str) -> str | None:
    """The credentials skopeo presents to `host`: ECR's token (the job's OIDC role, or the
    developer's AWS login) for an ECR registry; None elsewhere (skopeo's own auth file)."""
    if not ECR_HOST.fullmatch(host):
        return None
    import boto3

    return ecr_credentials(boto3.client("ecr", region_name=EcrRegistry.from_host(host).region))


def present_images(host: str, env: str, images: list[str], tag: str, creds: str | None = None) -> list[str]:
    """The images among `images` whose repository in `env` already holds `tag`."""
    return [image for image in images if tag_present(reference(host, env, image, tag), creds=creds)]
