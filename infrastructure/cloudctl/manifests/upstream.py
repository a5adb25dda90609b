"""Pinned upstream files the GitOps tree builds on, and where to read them offline.

Each entry is the exact URL the repository names (a kustomization resource or a CRD the validator
needs) and its path inside the offline mirror (UPSTREAM_MIRROR, ../shared/upstream). When the
mirror lacks a file it is downloaded from the URL once into .build/upstream/ (machines with
internet, such as GitLab CI). Adding a file: one line here, and the same URL in the manifest.
"""

from __future__ import annotations

import hashlib
import os
import urllib.request
from pathlib import Path

from cloudctl.errors import CloudctlError

RAW = "https://raw.githubusercontent.com"

ARGOCD = f"{RAW}/argoproj/argo-cd/v3.5.1/manifests"
ESO = f"{RAW}/external-secrets/external-secrets/v2.9.0/config/crds/bases"
KEDA = f"{RAW}/kedacore/keda/v2.20.2/config/crd/bases"
PROMETHEUS = f"{RAW}/prometheus-operator/prometheus-operator/v0.93.0/example/prometheus-operator-crd"


def _files(url_folder: str, mirror_folder: str, *names: str) -> dict[str, str]:
    return {f"{url_folder}/{name}": f"{mirror_folder}/{name}" for name in names}


# URL -> path in the mirror
PINNED: dict[str, str] = {
    f"{ARGOCD}/install.yaml": "argo-cd/v3.5.1/install.yaml",
    **_files(
        f"{ARGOCD}/crds",
        "argo-cd/v3.5.1/crds",
        "application-crd.yaml",
        "applicationset-crd.yaml",
        "appproject-crd.yaml",
    ),
    **_files(
        ESO,
        "external-secrets/v2.9.0/crds",
        "external-secrets.io_externalsecrets.yaml",
        "external-secrets.io_clustersecretstores.yaml",
    ),
    **_files(KEDA, "keda/v2.20.2/crds", "keda.sh_scaledobjects.yaml", "keda.sh_triggerauthentications.yaml"),
    **_files(
        PROMETHEUS,
        "prometheus-operator/v0.93.0/crds",
        "monitoring.coreos.com_servicemonitors.yaml",
        "monitoring.coreos.com_prometheusrules.yaml",
    ),
}

# The CRDs every custom kind in the tree is validated against (install.yaml is a manifest, not a CRD).
CRD_URLS = tuple(url for url in PINNED if "/crds/" in PINNED[url])


# The mirror sits beside the checkout (../shared/upstream); UPSTREAM_MIRROR names another place.
DEFAULT_MIRROR = Path(__file__).resolve().parents[3].parent / "shared" / "upstream"


def mirror_dir() -> Path | None:
    value = os.environ.get("UPSTREAM_MIRROR")
    path = Path(value) if value else DEFAULT_MIRROR
    return path if path.is_dir() else None


def fetch(url: str, cache_dir: Path) -> Path:
    """The local file for a pinned URL: the mirror's copy, else a cached download."""
    if url not in PINNED:
        raise CloudctlError(f"{url} is not a pinned upstream file (add it to cloudctl/manifests/upstream.py)")
    mirror = mirror_dir()
    if mirror is not None and (mirror / PINNED[url]).is_file():
        return mirror / PINNED[url]
    cached = cache_dir / hashlib.sha256(url.encode()).hexdigest()[:16] / Path(PINNED[url]).name
    if not cached.is_file():
        cached.parent.mkdir(parents=True, exist_ok=True)
        try:
            with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 - pinned https URL
                data = response.read()
        except OSError as exc:
            raise CloudctlError(f"cannot download {url} and the mirror ({mirror}) lacks it: {exc}") from None
        cached.write_bytes(data)
    return cached
