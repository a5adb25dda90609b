"""Where the bootstrap finds things in the repository (docs/contract.md, "Terraform layout the CLI reads")."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cloudctl.errors import CloudctlError

ENVIRONMENTS = ("dev", "prod")
# infrastructure/cloudctl/bootstrap/layout.py -> the checkout's root.
DEFAULT_REPO_ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Layout:
    """The paths of one environment inside one checkout."""

    root: Path
    env: str

    @property
    def state_root(self) -> Path:
        return self.root / "infrastructure" / "terraform" / "state"

    @property
    def env_root(self) -> Path:
        return self.root / "infrastructure" / "terraform" / "envs" / self.env

    @property
    def tfvars(self) -> Path:
        return self.env_root / "terraform.tfvars"

    @property
    def backend_hcl(self) -> Path:
        """Partial S3 backend settings (key, region, locking); the bucket comes from the state root."""
        return self.env_root / "backend.hcl"

    @property
    def argocd_install(self) -> Path:
        return self.root / "clusters" / self.env / "argocd"

    @property
    def root_app(self) -> Path:
        return self.root / "clusters" / self.env / "root.yaml"

    @property
    def images_kustomization(self) -> Path:
        """The tags the env runs (CI's tag writer and the promotion edit only this file)."""
        return self.root / "overlays" / self.env / "images" / "kustomization.yaml"

    def rel(self, path: Path) -> str:
        """A path as shown to people: relative to the checkout when inside it."""
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def require(self, *paths: Path) -> None:
        """Fail before doing anything when a file the plan needs is missing from the checkout."""
        missing = [self.rel(p) for p in paths if not p.exists()]
        if missing:
            raise CloudctlError(f"missing in the checkout {self.root}: {', '.join(missing)}")
