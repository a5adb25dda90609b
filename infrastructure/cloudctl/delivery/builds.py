"""What the build jobs build: each image of contract.yaml, from its source folder, to where.

contract.yaml (read by cloudctl.manifests.contract.spec) names every workload's `source`
(services/<folder>: the Dockerfile's folder; the build context is services/, whose common/ every
image copies) and `image` (the ECR repository's last segment). Workloads sharing an image (billing
and billing-worker: billing-app) must share the source. `cloudctl present-images --build-plan DIR`
writes one `DIR/<image>.env` per image: the build job (quay.io/containers/buildah, no Python)
sources it and runs buildah with exactly these values.

The layer cache lives in a repository of its own per image, `<repository>/cache`: buildah's
--cache-to names a repository and tags each cached layer with its cache key, and a key is pushed
again whenever a layer is rebuilt, which an IMMUTABLE repository refuses. So the cache repository
is MUTABLE and holds nothing that is deployed (see docs/delivery.md for what Terraform creates).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cloudctl.delivery import images, registry
from cloudctl.errors import CloudctlError
from cloudctl.manifests.contract import spec

CONTRACT = spec.FILE
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
    """One Source per image of <root>/contract.yaml (read by the manifests' contract.spec), by image name."""
    where = f"{root / spec.FILE}"
    found: dict[str, Source] = {}
    for workload in spec.load(root).workloads.values():
        folder = PurePosixPath(workload.source)
        if len(folder.parts) != 2 or folder.parts[0] != CONTEXT:
            raise CloudctlError(
                f"{where}: workload {workload.name}: source {workload.source!r} is not {CONTEXT}/<folder>"
            )
        entry = Source(workload.image, folder.name)
        if found.setdefault(workload.image, entry) != entry:
            raise CloudctlError(
                f"{where}: image {workload.image} is built from {found[workload.image].folder} and from "
                f"{folder.name} (workload {workload.name}): one image, one source"
            )
        if not (root / entry.dockerfile).is_file():
            raise CloudctlError(f"{where}: workload {workload.name}: no {entry.dockerfile}")
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
