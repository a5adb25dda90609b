"""CKV_CD_K8S_8: no Secret carries data in git. Secrets come from AWS Secrets Manager through
External Secrets; an empty Secret (e.g. one a controller fills) is allowed."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check


class SecretWithoutData(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name="No Secret with data or stringData is kept in git",
            id="CKV_CD_K8S_8",
            categories=[CheckCategories.SECRETS],
            supported_entities=("Secret",),
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        for section in ("data", "stringData"):
            if conf.get(section):
                self.evaluated_keys = [section]
                return CheckResult.FAILED
        return CheckResult.PASSED


check = SecretWithoutData()
