"""What each cluster actually runs: the root Application's folder, the Argo CD install it was
bootstrapped with, and every folder an Application of that cluster points at in this repository."""

from __future__ import annotations

from cloudctl.errors import CloudctlError
from cloudctl.manifests.render import Obj, Rendering

# ci is make e2e's throwaway k3d cluster (clusters/ci): rendered and rehearsed like the others.
CLUSTERS = ("dev", "prod", "ci")


def targets(renderings: dict[str, Rendering]) -> dict[str, list[str]]:
    """env → the kustomization folders deployed to that env's cluster (each must be rendered)."""
    out: dict[str, list[str]] = {}
    for env in CLUSTERS:
        root_folder = f"clusters/{env}"
        if root_folder not in renderings:
            raise CloudctlError(f"{root_folder}: missing (every cluster needs its root kustomization)")
        folders = [root_folder, f"{root_folder}/argocd"]
        for app in (o for o in renderings[root_folder].objects if o.kind == "Application"):
            source = app.doc["spec"].get("source") or {}
            if "chart" in source:
                continue  # a pinned Helm chart: not rendered offline (see apps/README.md)
            path = source.get("path")
            if path not in renderings:
                raise CloudctlError(
                    f"{app.where()}: source.path {path!r} is not a kustomization in this repository"
                )
            folders.append(path)
        out[env] = list(dict.fromkeys(folders))
    return out


def helm_charts(renderings: dict[str, Rendering], env: str) -> list[Obj]:
    return [
        o
        for o in renderings[f"clusters/{env}"].objects
        if o.kind == "Application" and "chart" in (o.doc["spec"].get("source") or {})
    ]
