"""CKV_CD_K8S_4: every container of a long-running workload has a liveness and a readiness probe.
(Jobs run to completion, and init containers cannot have probes.)"""

from __future__ import annotations

from typing import Any

from cd_k8s_common import LONG_RUNNING_KINDS, containers, pod_spec, pod_spec_prefix

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check

PROBE_HANDLERS = ("httpGet", "tcpSocket", "exec", "grpc")


class ContainerProbes(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name="Every long-running container has liveness and readiness probes",
            id="CKV_CD_K8S_4",
            categories=[CheckCategories.KUBERNETES],
            supported_entities=LONG_RUNNING_KINDS,
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        spec = pod_spec(conf)
        if spec is None:
            return CheckResult.UNKNOWN
        for prefix, container in containers(spec, init=False):
            for probe in ("livenessProbe", "readinessProbe"):
                value = container.get(probe)
                if not isinstance(value, dict) or not any(h in value for h in PROBE_HANDLERS):
                    self.evaluated_keys = [f"{pod_spec_prefix(conf)}/{prefix}/{probe}"]
                    return CheckResult.FAILED
        return CheckResult.PASSED


check = ContainerProbes()
