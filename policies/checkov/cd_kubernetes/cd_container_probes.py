"""CKV_CD_K8S_4: every container of a long-running workload has a liveness and a readiness probe.
(Jobs run to completion, and init containers cannot have probes.)"""

from __future__ import annotations

from typing import Any

from cd_k8s_common import LONG_RUNNING_KINDS, PodSpecCheck, containers

from checkov.common.models.enums import CheckCategories

PROBE_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")


class ContainerProbes(PodSpecCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Every long-running container has liveness and readiness probes",
            id="CKV_CD_K8S_4",
            category=CheckCategories.KUBERNETES,
            kinds=LONG_RUNNING_KINDS,
        )

    def violation(self, conf: dict[str, Any], spec: dict[str, Any]) -> str | None:
        for prefix, container in containers(spec, init=False):
            for probe in ("livenessProbe", "readinessProbe"):
                value = container.get(probe)
                if not isinstance(value, dict) or not any(h in value for h in PROBE_HANDLERS):
                    return f"{prefix}/{probe}"
        return None


check = ContainerProbes()
