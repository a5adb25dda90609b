"""CKV_CD_K8S_3: every container (init containers too) requests and limits both CPU and memory."""

from __future__ import annotations

from typing import Any

from cd_k8s_common import WORKLOAD_KINDS, containers, pod_spec, pod_spec_prefix

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check


class ContainerResources(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name="Every container has CPU and memory requests and limits",
            id="CKV_CD_K8S_3",
            categories=[CheckCategories.KUBERNETES],
            supported_entities=WORKLOAD_KINDS,
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        spec = pod_spec(conf)
        if spec is None:
            return CheckResult.UNKNOWN
        for prefix, container in containers(spec):
            resources = container.get("resources") or {}
            for section in ("requests", "limits"):
                values = resources.get(section) if isinstance(resources, dict) else None
                if not isinstance(values, dict) or not values.get("cpu") or not values.get("memory"):
                    self.evaluated_keys = [f"{pod_spec_prefix(conf)}/{prefix}/resources/{section}"]
                    return CheckResult.FAILED
        return CheckResult.PASSED


check = ContainerResources()
