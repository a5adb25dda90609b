"""CKV_CD_K8S_7: every Argo CD Application names a project other than `default` and a pinned
targetRevision for every source: a branch, tag or commit, or an exact chart version; never empty,
HEAD, or a version range. (ApplicationSets are not covered: checkov's Kubernetes parser drops any
object whose templated names, e.g. "{{env}}", are not valid Kubernetes names.)"""

from __future__ import annotations

import re
from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check

# A git ref or exact version: no HEAD, no wildcards or semver ranges (*, x, ^, ~, >, <, ||, spaces).
PINNED_REVISION = re.compile(r"(?!HEAD$)[A-Za-z0-9][A-Za-z0-9._/-]*")
RANGE_MARKERS = re.compile(r"(^|\.)[*xX](\.|$)")


def _pinned(revision: Any) -> bool:
    return (
        isinstance(revision, str)
        and bool(PINNED_REVISION.fullmatch(revision))
        and not RANGE_MARKERS.search(revision)
    )


class ArgoApplicationPinned(BaseK8Check):
    def __init__(self) -> None:
        super().__init__(
            name="Argo CD Applications use a non-default project and a pinned targetRevision",
            id="CKV_CD_K8S_7",
            categories=[CheckCategories.KUBERNETES],
            supported_entities=("Application",),
        )

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        if not str(conf.get("apiVersion", "")).startswith("argoproj.io/"):
            return CheckResult.UNKNOWN
        spec = conf.get("spec") or {}
        prefix = "spec"
        project = spec.get("project")
        if not isinstance(project, str) or project in ("", "default"):
            self.evaluated_keys = [f"{prefix}/project"]
            return CheckResult.FAILED
        sources = [spec["source"]] if isinstance(spec.get("source"), dict) else []
        sources += [s for s in spec.get("sources") or [] if isinstance(s, dict)]
        if not sources:
            self.evaluated_keys = [f"{prefix}/source"]
            return CheckResult.FAILED
        for source in sources:
            if not _pinned(source.get("targetRevision")):
                self.evaluated_keys = [f"{prefix}/source/targetRevision"]
                return CheckResult.FAILED
        return CheckResult.PASSED


check = ArgoApplicationPinned()
