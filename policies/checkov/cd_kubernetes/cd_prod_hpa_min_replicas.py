"""CKV_CD_K8S_6: every prod HorizontalPodAutoscaler keeps at least two replicas (one node or pod
lost must not take a service down). Its minReplicas defaults to 1 when omitted."""

from __future__ import annotations

from typing import Any

from cd_k8s_common import is_prod

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check

MIN_PROD_REPLICAS = 2


class ProdHpaMinReplicas(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name=f"Every prod HPA has minReplicas >= {MIN_PROD_REPLICAS}",
            id="CKV_CD_K8S_6",
            categories=[CheckCategories.KUBERNETES],
            supported_entities=("HorizontalPodAutoscaler",),
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not is_prod(conf):
            return CheckResult.UNKNOWN
        self.evaluated_keys = ["spec/minReplicas"]
        minimum = (conf.get("spec") or {}).get("minReplicas", 1)
        if isinstance(minimum, int) and not isinstance(minimum, bool) and minimum >= MIN_PROD_REPLICAS:
            return CheckResult.PASSED
        return CheckResult.FAILED


check = ProdHpaMinReplicas()
