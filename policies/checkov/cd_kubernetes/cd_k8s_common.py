"""What this project's Kubernetes checks share: where pods live in each kind, and which objects are prod.

Checkov executes every .py file here; this one registers no check (it creates no instance),
the others import it.
"""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.kubernetes.checks.resource.base_spec_check import BaseK8Check

PROD_NAMESPACES = frozenset({"movies-prod"})

# kind -> path of keys from the object to its PodSpec
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
WORKLOAD_KINDS = tuple(POD_SPEC_PATHS)
# Kinds whose containers run until stopped: these need liveness and readiness probes.
LONG_RUNNING_KINDS = ("Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")


def pod_spec(conf: dict[str, Any]) -> dict[str, Any] | None:
    node: Any = conf
    for key in POD_SPEC_PATHS.get(conf.get("kind", ""), ("<none>",)):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def containers(spec: dict[str, Any], init: bool = True) -> list[tuple[str, dict[str, Any]]]:
    """(evaluated-key prefix, container) for every container, init containers included when asked."""
    found = []
    for field in ("containers", "initContainers") if init else ("containers",):
        for index, container in enumerate(spec.get(field) or []):
            if isinstance(container, dict):
                found.append((f"{field}/[{index}]", container))
    return found


def is_prod(conf: dict[str, Any]) -> bool:
    return (conf.get("metadata") or {}).get("namespace") in PROD_NAMESPACES


def pod_spec_prefix(conf: dict[str, Any]) -> str:
    return "/".join(POD_SPEC_PATHS.get(conf.get("kind", ""), ()))


class PodSpecCheck(BaseK8Check):
    """A check of the PodSpec inside any workload kind. Subclasses implement violation(), returning
    the offending key (relative to the PodSpec) or None; applies() can narrow the objects."""

    def __init__(
        self, name: str, id: str, category: CheckCategories, kinds: tuple[str, ...] = WORKLOAD_KINDS
    ):
        super().__init__(name=name, id=id, categories=[category], supported_entities=kinds)

    def applies(self, conf: dict[str, Any]) -> bool:
        return True

    def violation(self, conf: dict[str, Any], spec: dict[str, Any]) -> str | None:
        raise NotImplementedError

    def scan_spec_conf(self, conf: dict[str, Any]) -> CheckResult:
        spec = pod_spec(conf)
        if spec is None or not self.applies(conf):
            return CheckResult.UNKNOWN
        key = self.violation(conf, spec)
        if key is None:
            return CheckResult.PASSED
        self.evaluated_keys = [f"{pod_spec_prefix(conf)}/{key}"]
        return CheckResult.FAILED
