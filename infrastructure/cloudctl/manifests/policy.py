"""This project's rules for what runs in a cluster, checked on every deployed rendering.

Every container (init containers included) states CPU and memory requests and limits, and names
its image by an explicit tag other than `latest` (or by digest): the scheduler, the capacity
table and a reproducible rollout all depend on it.

No pod runs on the node's network: only there does the instance role answer (IMDS hop limit 1),
and only ESO's controller (a Helm chart, apps/platform/external-secrets.yaml) may use it. Every
PodDisruptionBudget lets a drain evict at least one pod, or replacing a node would hang.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudctl.manifests.render import Obj

POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}


def pod_spec(obj: Obj) -> dict[str, Any] | None:
    spec: dict[str, Any] | None = None
    if obj.kind == "Pod":
        spec = obj.doc.get("spec") or {}
    elif obj.kind in POD_TEMPLATE_KINDS:
        spec = ((obj.doc.get("spec") or {}).get("template") or {}).get("spec") or {}
    elif obj.kind == "CronJob":
        spec = obj.doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return spec


def containers(obj: Obj) -> Iterator[dict[str, Any]]:
    spec = pod_spec(obj) or {}
    yield from spec.get("initContainers") or []
    yield from spec.get("containers") or []


def image_problem(image: str) -> str | None:
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image!r} has no tag (it would float to latest)"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image {image!r} uses the floating tag latest"
    return None


def disruption_problem(obj: Obj) -> str | None:
    """A PodDisruptionBudget that lets no voluntary eviction through blocks every node drain."""
    spec = obj.doc.get("spec") or {}
    if str(spec.get("maxUnavailable", "")) in ("0", "0%"):
        return "maxUnavailable 0 allows no eviction: every node drain would wait forever"
    if str(spec.get("minAvailable", "")) == "100%":
        return "minAvailable 100% allows no eviction: every node drain would wait forever"
    return None


def check(obj: Obj) -> list[str]:
    problems = []
    if obj.kind == "PodDisruptionBudget":
        problem = disruption_problem(obj)
        if problem:
            problems.append(problem)
    if (pod_spec(obj) or {}).get("hostNetwork"):
        problems.append("hostNetwork: the node's network reaches the instance role (IMDS); only ESO may")
    for container in containers(obj):
        name = container.get("name", "?")
        resources = container.get("resources") or {}
        for section in ("requests", "limits"):
            missing = [r for r in ("cpu", "memory") if r not in (resources.get(section) or {})]
            if missing:
                problems.append(f"container {name}: no {section} for {', '.join(missing)}")
        problem = image_problem(container.get("image", ""))
        if problem:
            problems.append(f"container {name}: {problem}")
    return [f"{obj.where()}: {p}" for p in problems]
