"""The values cloudctl cannot derive: flags or one YAML config file kept outside git, checked up front.

Each check fails with one line before any step runs. A placeholder URL or a documentation-range
CIDR is refused: with one of those, `up` would create a whole environment that can never sync
(Argo CD cannot clone the repository) or that nobody can administer (6443 closed to everyone).
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from cloudctl.errors import CloudctlError

DEFAULT_REVISION = "main"
# Keys of the --config file, each the flag's name with "_" for "-".
CONFIG_KEYS = ("repo_url", "admin_cidr", "revision", "gitlab_url")
# Read from the environment only, never from argv or a file that could be committed.
GIT_USERNAME = "CLOUDCTL_GIT_USERNAME"
GIT_PASSWORD = "CLOUDCTL_GIT_PASSWORD"  # noqa: S105 -- the variable's name, not a password
GITLAB_TOKEN = "GITLAB_TOKEN"  # noqa: S105 -- the variable's name

# Hosts that exist only in documentation (RFC 2606, RFC 6761).
PLACEHOLDER_DOMAINS = ("example.com", "example.org", "example.net")
PLACEHOLDER_TLDS = ("invalid", "example")
# The repository clusters/<env>/root.yaml named before the URL became an input: a fork that still
# passes it would make Argo CD sync the template's repository, not the fork.
OLD_PLACEHOLDER = ("gitlab.com", "cloud-design/cloud-design")
# RFC 5737: TEST-NET-1, -2 and -3 route nowhere.
DOCUMENTATION_RANGES = tuple(
    ipaddress.IPv4Network(cidr) for cidr in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")
)
SCP_LIKE = re.compile(r"^(?P<user>[A-Za-z0-9._-]+)@(?P<host>[A-Za-z0-9.-]+):(?P<path>[^/].*)$")


@dataclass(frozen=True)
class Inputs:
    repo_url: str | None = None
    admin_cidr: str | None = None
    revision: str = DEFAULT_REVISION
    gitlab_url: str | None = None  # GitLab's API root when it is not the repository's host root

    def git_credentials(self) -> tuple[str, str] | None:
        """(username, password) for a private repository, from the environment; None for a public one."""
        username, password = os.environ.get(GIT_USERNAME, ""), os.environ.get(GIT_PASSWORD, "")
        if bool(username) != bool(password):
            missing = GIT_PASSWORD if username else GIT_USERNAME
            raise CloudctlError(
                f"{missing} is not set: a private repository needs both {GIT_USERNAME} and {GIT_PASSWORD}"
            )
        if username and self.repo_url and not self.repo_url.startswith("https://"):
            # Argo CD authenticates ssh with a private key, never with a username and password.
            raise CloudctlError(
                f"{GIT_USERNAME}/{GIT_PASSWORD} need an https:// --repo-url, not {self.repo_url}"
            )
        return (username, password) if username else None


def repo_location(url: str) -> tuple[str, str]:
    """(host, project path without .git) of an https:// or ssh repository URL."""
    scp = SCP_LIKE.match(url)
    if scp:
        host, path = scp["host"], scp["path"]
    else:
        parts = urlsplit(url)
        host, path = parts.hostname or "", parts.path
    path = path.strip("/")
    return host.lower(), path[: -len(".git")] if path.endswith(".git") else path


def check_repo_url(url: str) -> str:
    scp = SCP_LIKE.match(url)
    parts = urlsplit(url)
    if not scp and parts.scheme not in ("https", "ssh"):
        raise CloudctlError(f"--repo-url {url}: use an https:// or ssh (git@host:path) URL")
    if not scp and (parts.username or parts.password) and parts.scheme == "https":
        raise CloudctlError(
            "--repo-url: credentials in the URL would land in the cluster's annotations; "
            f"set {GIT_USERNAME} and {GIT_PASSWORD} instead"
        )
    host, path = repo_location(url)
    if not host or not path:
        raise CloudctlError(f"--repo-url {url}: names no host and repository path")
    labels = host.split(".")
    if (
        any(host == d or host.endswith("." + d) for d in PLACEHOLDER_DOMAINS)
        or labels[-1] in PLACEHOLDER_TLDS
    ):
        raise CloudctlError(
            f"--repo-url {url}: {host} is a documentation placeholder; give your repository's URL"
        )
    if (host, path.lower()) == OLD_PLACEHOLDER:
        raise CloudctlError(f"--repo-url {url}: the template's placeholder repository; give your fork's URL")
    return url


def check_admin_cidr(text: str) -> str:
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise CloudctlError(
            f"--admin-cidr {text}: not a CIDR (for example 198.18.7.42/32, your address)"
        ) from None
    if network.prefixlen == 0:
        raise CloudctlError(
            f"--admin-cidr {text}: opens the Kubernetes API to the whole internet; give your address/32"
        )
    if not isinstance(network, ipaddress.IPv4Network):
        raise CloudctlError(f"--admin-cidr {text}: must be IPv4 (the security group rule takes IPv4 only)")
    for documentation in DOCUMENTATION_RANGES:
        if network.subnet_of(documentation):
            raise CloudctlError(
                f"--admin-cidr {text}: lies in the documentation range {documentation}, "
                "which routes nowhere; give your own address/32"
            )
    return text


def read_config(path: Path, checkout: Path) -> dict[str, str]:
    """The --config file: a YAML mapping of CONFIG_KEYS, kept outside the checkout (outside git)."""
    resolved = path.expanduser().resolve()
    if resolved.is_relative_to(checkout.resolve()):
        raise CloudctlError(f"--config {path}: keep this file outside the checkout, so it never lands in git")
    try:
        data: Any = yaml.safe_load(resolved.read_text())
    except OSError as err:
        raise CloudctlError(f"--config {path}: {err.strerror}") from err
    except yaml.YAMLError as err:
        raise CloudctlError(f"--config {path}: not YAML ({' '.join(str(err).split())})") from err
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CloudctlError(f"--config {path}: must be a mapping of {', '.join(CONFIG_KEYS)}")
    unknown = sorted(str(key) for key in data if key not in CONFIG_KEYS)
    if unknown:
        raise CloudctlError(
            f"--config {path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(CONFIG_KEYS)})"
        )
    return {str(key): str(value) for key, value in data.items() if value is not None}


def gather(
    flags: dict[str, str | None], config: Path | None, checkout: Path, required: tuple[str, ...]
) -> Inputs:
    """Flags win over the config file; every required key present and every given value checked."""
    values = read_config(config, checkout) if config else {}
    values.update({key: value for key, value in flags.items() if value is not None})
    missing = [key for key in required if not values.get(key)]
    if missing:
        flags_missing = ", ".join("--" + key.replace("_", "-") for key in missing)
        raise CloudctlError(
            f"{flags_missing} required (as flags, or keys {', '.join(missing)} in --config FILE)"
        )
    if values.get("repo_url"):
        check_repo_url(values["repo_url"])
    if values.get("admin_cidr"):
        check_admin_cidr(values["admin_cidr"])
    revision = values.get("revision") or DEFAULT_REVISION
    if any(char.isspace() for char in revision):
        raise CloudctlError(f"--revision {revision!r}: not a git ref")
    return Inputs(
        repo_url=values.get("repo_url"),
        admin_cidr=values.get("admin_cidr"),
        revision=revision,
        gitlab_url=values.get("gitlab_url"),
    )
