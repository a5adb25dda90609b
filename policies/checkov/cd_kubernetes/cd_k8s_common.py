"""What this project's Kubernetes checks share: where pods live in each kind, and which objects are prod.

Checkov executes every .py file here; this one defines no check, the others import it.
"""

from __future__ import annotations

from typing import Any

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
