"""CKV_CD_K8S_1: images come from this project's ECR (cloud-design/<env>/<name>), pinned by tag or
digest, in the environment the namespace belongs to. The only upstream images are the ones the
contract names (docs/contract.md: RabbitMQ from Docker Hub), and they too carry an exact tag."""

from __future__ import annotations

import re
from typing import Any

from cd_k8s_common import PodSpecCheck, containers

from checkov.common.models.enums import CheckCategories

PROJECT_ECR = re.compile(
    r"\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/cloud-design/(?P<env>[a-z0-9-]+)/[a-z0-9-]+"
    r"(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}|@sha256:[a-f0-9]{64})"
)
# Upstream repositories the contract allows, each with an exact version tag (x.y.z...).
ALLOWED_UPSTREAM = re.compile(
    r"(docker\.io/(library/)?)?rabbitmq:\d+\.\d+\.\d+[A-Za-z0-9_.-]*(@sha256:[a-f0-9]{64})?"
)
NAMESPACE_ENV = re.compile(r"movies-(?P<env>[a-z0-9]+)")


class ImageFromProjectRegistry(PodSpecCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Images come only from this project's ECR (or the contract's pinned upstream images)",
            id="CKV_CD_K8S_1",
            category=CheckCategories.SUPPLY_CHAIN,
        )

    def violation(self, conf: dict[str, Any], spec: dict[str, Any]) -> str | None:
        namespace = NAMESPACE_ENV.fullmatch((conf.get("metadata") or {}).get("namespace") or "")
        for prefix, container in containers(spec):
            image = str(container.get("image") or "")
            match = PROJECT_ECR.fullmatch(image)
            wrong_env = match and namespace and match["env"] != namespace["env"]
            if (not match and not ALLOWED_UPSTREAM.fullmatch(image)) or wrong_env:
                return f"{prefix}/image"
        return None


check = ImageFromProjectRegistry()
