"""CKV_CD_K8S_3: every container (init containers too) requests and limits both CPU and memory."""

from __future__ import annotations

from typing import Any

from cd_k8s_common import PodSpecCheck, containers

from checkov.common.models.enums import CheckCategories


class ContainerResources(PodSpecCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Every container has CPU and memory requests and limits",
            id="CKV_CD_K8S_3",
            category=CheckCategories.KUBERNETES,
        )

    def violation(self, conf: dict[str, Any], spec: dict[str, Any]) -> str | None:
        for prefix, container in containers(spec):
            resources = container.get("resources")
            for section in ("requests", "limits"):
                values = resources.get(section) if isinstance(resources, dict) else None
                if not isinstance(values, dict) or not values.get("cpu") or not values.get("memory"):
                    return f"{prefix}/resources/{section}"
        return None


check = ContainerResources()
