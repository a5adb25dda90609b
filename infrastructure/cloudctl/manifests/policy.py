"""This project's rules for what runs in a cluster, checked on every deployed rendering.

Every container (init containers included) states CPU and memory requests and limits, and names
its image by an explicit tag other than `latest` (or by digest): the scheduler, the capacity
table and a reproducible rollout all depend on it.
"""

from __future__ import annotations

from collections.abc import Iterator

from cloudctl.manifests.render import Obj

POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"}


def pod_spec(obj: Obj) -> dict | None:
    if obj.kind == "Pod":
        return obj.doc.get("spec") or {}
    if obj.kind in POD_TEMPLATE_KINDS:
        return ((obj.doc.get("spec") or {}).get("template") or {}).get("spec") or {}
    if obj.kind == "CronJob":
        return obj.doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return None


def containers(obj: Obj) -> Iterator[dict]:
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


def check(obj: Obj) -> list[str]:
    problems = []
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
