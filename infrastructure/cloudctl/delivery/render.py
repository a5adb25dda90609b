"""Render every overlay and cluster of a checkout, at the working tree or at any git revision.

The rendering itself is the manifests package's (cloudctl.manifests.render: offline upstream
copies, the pinned kubectl); this module adds what a diff needs: a checkout of any revision and the
choice of targets. Targets are the kustomizations under overlays/, clusters/ and apps/ (base/ is
seen through them), plus YAML files there that no kustomization covers (clusters/<env>/root.yaml).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from cloudctl.errors import CloudctlError
from cloudctl.manifests import render as manifests_render

DIFF_ROOTS = ("overlays/", "clusters/", "apps/")


def loose_files(root: Path) -> list[str]:
    """YAML files under the diff roots in folders without a kustomization, relative to root."""
    found = []
    for top in DIFF_ROOTS:
        for current, dirnames, filenames in os.walk(root / top):
            dirnames.sort()
            if "kustomization.yaml" in filenames:
                continue
            base = Path(current).relative_to(root)
            found += [(base / f).as_posix() for f in sorted(filenames) if f.endswith((".yaml", ".yml"))]
    return sorted(found)


def render_tree(root: Path, contract_root: Path | None = None) -> dict[str, list[dict[str, Any]]]:
    """Target (kustomization folder or loose file, relative to root) -> its Kubernetes objects.
    `contract_root`: the tree whose contract.yaml names the ECR images (default: root)."""
    with tempfile.TemporaryDirectory(prefix="cloudctl-render-") as work:
        renderings = manifests_render.render_all(root, Path(work), contract_root=contract_root)
    rendered = {r.target: [o.doc for o in r.objects] for r in renderings if r.target.startswith(DIFF_ROOTS)}
    for file in loose_files(root):
        try:
            docs = list(yaml.safe_load_all((root / file).read_text()))
        except yaml.YAMLError as err:
            raise CloudctlError(f"{file}: not valid YAML: {str(err).splitlines()[0]}") from err
        rendered[file] = [d for d in docs if isinstance(d, dict) and d.get("kind")]
    return rendered


@contextlib.contextmanager
def checkout(repo: Path, revision: str) -> Iterator[Path]:
    """A temporary detached worktree of `revision`, removed afterwards. It borrows the checkout's
    .venv (git-ignored, so absent from any worktree) for the pinned kubectl."""
    sha = resolve(repo, revision)
    tmp = Path(tempfile.mkdtemp(prefix="cloudctl-diff-"))
    worktree = tmp / "tree"
    _git(repo, "worktree", "add", "--detach", "--quiet", str(worktree), sha)
    try:
        if (repo / ".venv").exists():
            (worktree / ".venv").symlink_to(repo / ".venv")
        yield worktree
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=repo, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


def resolve(repo: Path, revision: str) -> str:
    """The full commit id of `revision`, or one clear error."""
    return _git(repo, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}")


def _git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "unknown revision"
        raise CloudctlError(f"git {args[0]} {args[-1]}: {detail}")
    return result.stdout.strip()
