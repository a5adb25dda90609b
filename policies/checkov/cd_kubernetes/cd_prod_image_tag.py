"""CKV_CD_K8S_2: prod never runs `:latest` or an untagged image (which means latest)."""

from __future__ import annotations

from typing import Any

from cd_k8s_common import WORKLOAD_KINDS, containers, is_prod, pod_spec, pod_spec_prefix

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check


def _tag(image: str) -> str | None:
    """The tag of an image reference, "" for a digest-only reference, None when there is neither."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.split(":", 1)[1]
    return "" if "@" in image else None


class ProdImageNotLatest(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name="Prod images carry an immutable tag or digest, never :latest",
            id="CKV_CD_K8S_2",
            categories=[CheckCategories.SUPPLY_CHAIN],
            supported_entities=WORKLOAD_KINDS,
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        spec = pod_spec(conf)
        if spec is None or not is_prod(conf):
            return CheckResult.UNKNOWN
        for prefix, container in containers(spec):
            tag = _tag(str(container.get("image") or ""))
            if tag is None or tag == "latest":
                self.evaluated_keys = [f"{pod_spec_prefix(conf)}/{prefix}/image"]
                return CheckResult.FAILED
        return CheckResult.PASSED


check = ProdImageNotLatest()
