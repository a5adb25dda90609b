"""What the build jobs build: each image of contract.yaml, from its source folder, to where.

contract.yaml names every workload's `source` (services/<folder>: the Dockerfile's folder; the
build context is services/, whose common/ every image copies) and `image` (the ECR repository's
last segment). Workloads sharing an image (billing and billing-worker: billing-app) must share
the source. `cloudctl present-images --build-plan DIR` writes one `DIR/<image>.env` per image: the
build job (quay.io/buildah/stable, no Python) sources it and runs buildah with exactly these values.

The layer cache lives in a repository of its own per image, `<repository>/cache`: buildah's
--cache-to names a repository and tags each cached layer with its cache key, and a key is pushed
again whenever a layer is rebuilt, which an IMMUTABLE repository refuses. So the cache repository
is MUTABLE and holds nothing that is deployed (see docs/delivery.md for what Terraform creates).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from cloudctl.delivery import images, registry
from cloudctl.errors import CloudctlError

CONTRACT = "contract.yaml"
CONTEXT = "services"  # every Dockerfile's build context (docs/contract.md)
CACHE_SUFFIX = "cache"


@dataclass(frozen=True)
class Source:
    image: str
    folder: str  # services/<folder>

    @property
    def dockerfile(self) -> str:
        return f"{CONTEXT}/{self.folder}/Dockerfile"


@dataclass(frozen=True)
class Build:
    image: str
    context: str
    dockerfile: str
    destination: str  # host/cloud-design/<env>/<image>:<tag>
    cache: str  # host/cloud-design/<env>/<image>/cache
    present: bool  # the destination already holds the tag: no build, no push

    def env_file(self) -> str:
        """POSIX shell assignments, each value quoted: the build job sources this file."""
        values = {
            "IMAGE": self.image,
            "CONTEXT": self.context,
            "DOCKERFILE": self.dockerfile,
            "DESTINATION": self.destination,
            "CACHE": self.cache,
            "PRESENT": "true" if self.present else "false",
        }
        return "".join(f"{name}={shlex.quote(value)}\n" for name, value in values.items())


def sources(root: Path) -> list[Source]:
    """One Source per image of <root>/contract.yaml, sorted by image name."""
    path = root / CONTRACT
    try:
        data: Any = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as err:
        raise CloudctlError(f"cannot read {path}: {str(err).splitlines()[0]}") from err
    workloads = data.get("workloads") if isinstance(data, dict) else None
    if not isinstance(workloads, dict) or not workloads:
        raise CloudctlError(f"{path}: no `workloads:` mapping")
    found: dict[str, Source] = {}
    for name, workload in workloads.items():
        image = workload.get("image") if isinstance(workload, dict) else None
        source = workload.get("source") if isinstance(workload, dict) else None
        if not isinstance(image, str) or not isinstance(source, str):
            raise CloudctlError(f"{path}: workload {name} needs `image` and `source`")
        folder = PurePosixPath(source)
        if len(folder.parts) != 2 or folder.parts[0] != CONTEXT:
            raise CloudctlError(f"{path}: workload {name}: source {source!r} is not {CONTEXT}/<folder>")
        entry = Source(image, folder.name)
        if found.setdefault(image, entry) != entry:
            raise CloudctlError(
                f"{path}: image {image} is built from {found[image].folder} and from {folder.name} "
                f"(workload {name}): one image, one source"
            )
        if not (root / entry.dockerfile).is_file():
            raise CloudctlError(f"{path}: workload {name}: no {entry.dockerfile}")
    return [found[image] for image in sorted(found)]


def plan(root: Path, host: str, env: str, tag: str, present: list[str]) -> list[Build]:
    """Every image's build for `tag` in `env`'s repositories of `host`."""
    images.validate_tag(tag)
    return [
        Build(
            image=source.image,
            context=CONTEXT,
            dockerfile=source.dockerfile,
            destination=registry.reference(host, env, source.image, tag),
            cache=f"{host}/{registry.repository_name(env, source.image)}/{CACHE_SUFFIX}",
            present=source.image in present,
        )
        for source in sources(root)
    ]


def write_plan(folder: Path, builds: list[Build]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for build in builds:
        (folder / f"{build.image}.env").write_text(build.env_file())
