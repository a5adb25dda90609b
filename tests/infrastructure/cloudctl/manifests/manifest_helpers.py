"""Shared constants and lookups for the GitOps tree tests (conftest holds the fixtures)."""

from __future__ import annotations

import shutil
from pathlib import Path

from cloudctl.manifests import render, tree

ROOT = tree.ROOT
ENVS = ("dev", "prod")
ENV_TARGETS = {
    env: [f"overlays/{env}/{part}" for part in ("namespace", "secrets", "rabbitmq", "workloads")]
    for env in ENVS
}


def find(objects: list[render.Obj], kind: str, name: str) -> render.Obj:
    return next(o for o in objects if o.kind == kind and o.name == name)


def copy_tree(destination: Path) -> Path:
    """A copy of everything `validate` reads (GitOps folders, pins, Terraform values, checks);
    services and the venvs are linked, not copied."""
    for folder in (*tree.GITOPS_DIRS, "policies", "requirements", "infrastructure/terraform"):
        shutil.copytree(
            ROOT / folder, destination / folder, ignore=shutil.ignore_patterns(".terraform", "__pycache__")
        )
    for link in ("services", ".venv", ".venv-checkov"):
        (destination / link).symlink_to(ROOT / link)
    shutil.copy2(ROOT / "contract.yaml", destination / "contract.yaml")
    return destination
