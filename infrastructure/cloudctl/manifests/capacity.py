"""Does everything fit? Per environment: every workload at its autoscaling maximum, RabbitMQ, the
migrations Job, Argo CD, External Secrets, KEDA and K3s's own kube-system pods, against the
nodes' allocatable CPU and memory minus what K3s and the OS use outside pods; ≥15 % must remain.

Sizing model (documented in overlays/README.md):
- node memory as the kernel reports it is ~95 % of the EC2 figure; K3s sets no kube/system
  reservations, only eviction at 100Mi free, so allocatable = reported - 100Mi;
- K3s itself runs outside pods: the server (API server, controllers, kine, kubelet, containerd)
  on the master, the agent on workers, plus the OS; their steady usage is subtracted here;
- kube-system pods are K3s's packaged manifests (CoreDNS, metrics-server, local-path; Traefik is
  disabled by Terraform, servicelb runs nothing without LoadBalancer Services).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloudctl.errors import CloudctlError
from cloudctl.manifests.policy import pod_spec
from cloudctl.manifests.render import Obj

HEADROOM = 0.15
MEMORY_REPORTED = 0.95
EVICTION_MIB = 100
# (vCPU, GiB) of the instance types the tfvars may name
INSTANCE_TYPES = {"t3.small": (2, 2), "t3.medium": (2, 4), "t3.large": (2, 8), "t3.xlarge": (4, 16)}
# Steady usage outside pods (millicores, MiB): K3s server or agent, plus the OS and SSM agent.
OUTSIDE_PODS = {"master": (250, 700), "worker": (100, 300)}
# K3s's packaged kube-system pods: (name, pods, cpu m, memory Mi, memory limit Mi) from K3s's
# manifests (metrics-server sets no limit: its request is shown; local-path sets none: assumed).
KUBE_SYSTEM = [
    ("coredns", 1, 100, 70, 170),
    ("metrics-server", 1, 100, 70, 70),
    ("local-path-provisioner", 1, 10, 32, 64),
]
# Helm-installed add-ons: where each pod's resources sit in the Application's values.
CHART_PODS = {
    "external-secrets": [
        ("controller", "resources"),
        ("webhook", "webhook.resources"),
        ("cert-controller", "certController.resources"),
    ],
    "keda": [
        ("operator", "resources.operator"),
        ("metrics-apiserver", "resources.metricServer"),
        ("admission-webhooks", "resources.webhooks"),
    ],
}


@dataclass
class Row:
    group: str
    name: str
    pods: int
    cpu_m: int  # requests per pod
    mem_mi: int
    mem_limit_mi: int

    @property
    def total_cpu(self) -> int:
        return self.pods * self.cpu_m

    @property
    def total_mem(self) -> int:
        return self.pods * self.mem_mi


def cpu_m(value: str | int | float) -> int:
    text = str(value)
    return int(text[:-1]) if text.endswith("m") else int(float(text) * 1000)


def mem_mi(value: str | int) -> int:
    text = str(value)
    units = {
        "Ki": 1 / 1024,
        "Mi": 1,
        "Gi": 1024,
        "K": 1000 / 1024**2,
        "M": 1000**2 / 1024**2,
        "G": 1000**3 / 1024**2,
    }
    for suffix in ("Ki", "Mi", "Gi", "K", "M", "G"):
        if text.endswith(suffix):
            return round(float(text[: -len(suffix)]) * units[suffix])
    return round(int(text) / 1024**2)


def pod_resources(obj: Obj, what: str) -> tuple[int, int]:
    """(cpu m, memory Mi) a pod of obj reserves: max(sum of containers, largest init container)."""
    spec = pod_spec(obj) or {}

    def one(container: dict[str, Any]) -> tuple[int, int]:
        res = (container.get("resources") or {}).get(what) or {}
        if "cpu" not in res or "memory" not in res:
            raise CloudctlError(
                f"{obj.where()}: container {container.get('name')} has no {what}: cannot size it"
            )
        return cpu_m(res["cpu"]), mem_mi(res["memory"])

    main = [one(c) for c in spec.get("containers") or []]
    init = [one(c) for c in spec.get("initContainers") or []]
    return (
        max([sum(c for c, _ in main)] + [c for c, _ in init]),
        max([sum(m for _, m in main)] + [m for _, m in init]),
    )


def max_replicas(obj: Obj, objects: list[Obj]) -> int:
    for scaler in objects:
        ref = (scaler.doc.get("spec") or {}).get("scaleTargetRef") or {}
        if ref.get("name") == obj.name and ref.get("kind", "Deployment") == obj.kind:
            spec = scaler.doc["spec"]
            return int(spec.get("maxReplicas") or spec.get("maxReplicaCount") or 100)
    return int((obj.doc.get("spec") or {}).get("replicas", 1)) if obj.kind != "Job" else 1


def rows_for(group: str, objects: list[Obj]) -> list[Row]:
    rows = []
    for obj in objects:
        if pod_spec(obj) is None:
            continue
        cpu, mem = pod_resources(obj, "requests")
        _, limit = pod_resources(obj, "limits")
        rows.append(Row(group, obj.name, max_replicas(obj, objects), cpu, mem, limit))
    return rows


def _dig(values: dict[str, Any], dotted: str) -> dict[str, Any]:
    for part in dotted.split("."):
        values = (values or {}).get(part) or {}
    return values


def chart_rows(app: Obj) -> list[Row]:
    values = (app.doc["spec"]["source"].get("helm") or {}).get("valuesObject") or {}
    if app.name not in CHART_PODS:
        raise CloudctlError(
            f"{app.where()}: Helm chart with no sizing entry in cloudctl/manifests/capacity.py"
        )
    rows = []
    for pod, path in CHART_PODS[app.name]:
        res = _dig(values, path)
        if not (res.get("requests") or {}).get("cpu") or not (res.get("limits") or {}).get("memory"):
            raise CloudctlError(
                f"{app.where()}: values {path} must set requests and limits (the chart's pods are sized here)"
            )
        rows.append(
            Row(
                app.name,
                pod,
                1,
                cpu_m(res["requests"]["cpu"]),
                mem_mi(res["requests"]["memory"]),
                mem_mi(res["limits"]["memory"]),
            )
        )
    return rows


def nodes(root: Path, env: str) -> list[tuple[str, str]]:
    """[(role, instance type)] from the environment's terraform.tfvars."""
    tfvars = root / f"infrastructure/terraform/envs/{env}/terraform.tfvars"
    if not tfvars.is_file():
        raise CloudctlError(f"{tfvars.relative_to(root)} is missing: cannot size the {env} cluster")
    text = tfvars.read_text()

    def value(name: str) -> str:
        match = re.search(rf'^\s*{name}\s*=\s*"?([\w.]+)"?', text, re.M)
        if not match:
            raise CloudctlError(f"{tfvars.relative_to(root)}: no {name}")
        return match.group(1)

    workers = int(value("worker_count"))
    return [("master", value("master_instance_type"))] + [("worker", value("worker_instance_type"))] * workers


def allocatable(role: str, instance: str) -> tuple[int, int]:
    if instance not in INSTANCE_TYPES:
        raise CloudctlError(f"instance type {instance} has no entry in cloudctl/manifests/capacity.py")
    vcpu, gib = INSTANCE_TYPES[instance]
    outside_cpu, outside_mem = OUTSIDE_PODS[role]
    return vcpu * 1000 - outside_cpu, int(gib * 1024 * MEMORY_REPORTED) - EVICTION_MIB - outside_mem


@dataclass
class Report:
    env: str
    node_list: list[tuple[str, str]]
    rows: list[Row]

    @property
    def capacity(self) -> tuple[int, int]:
        sizes = [allocatable(role, kind) for role, kind in self.node_list]
        return sum(c for c, _ in sizes), sum(m for _, m in sizes)

    @property
    def used(self) -> tuple[int, int]:
        return sum(r.total_cpu for r in self.rows), sum(r.total_mem for r in self.rows)

    def headroom(self) -> tuple[float, float]:
        (cap_cpu, cap_mem), (cpu, mem) = self.capacity, self.used
        return 1 - cpu / cap_cpu, 1 - mem / cap_mem

    def problems(self) -> list[str]:
        out = []
        for label, value in zip(("CPU", "memory"), self.headroom(), strict=True):
            if value < HEADROOM:
                out.append(
                    f"capacity {self.env}: {label} headroom {value:.0%} at autoscaling maximum is below "
                    f"{HEADROOM:.0%}"
                )
        biggest = max(allocatable(role, kind) for role, kind in self.node_list)
        for row in self.rows:
            if row.cpu_m > biggest[0] or row.mem_mi > biggest[1]:
                out.append(
                    f"capacity {self.env}: a {row.name} pod ({row.cpu_m}m, {row.mem_mi}Mi) fits no node"
                )
        return out

    def table(self) -> str:
        kinds: dict[str, int] = {}
        for _, kind in self.node_list:
            kinds[kind] = kinds.get(kind, 0) + 1
        cap_cpu, cap_mem = self.capacity
        lines = [
            f"capacity {self.env}: nodes {' + '.join(f'{n}x {k}' for k, n in kinds.items())}; "
            f"allocatable after K3s, OS and eviction reserve: {cap_cpu}m CPU, {cap_mem}Mi memory",
            f"  {'group':<18} {'workload':<34} {'pods':>4} {'cpu/pod':>8} {'mem/pod':>8} "
            f"{'cpu':>7} {'memory':>8} {'mem limit':>9}",
        ]
        for r in self.rows:
            lines.append(
                f"  {r.group:<18} {r.name:<34} {r.pods:>4} {r.cpu_m:>7}m {r.mem_mi:>6}Mi "
                f"{r.total_cpu:>6}m {r.total_mem:>6}Mi {r.pods * r.mem_limit_mi:>7}Mi"
            )
        cpu, mem = self.used
        limits = sum(r.pods * r.mem_limit_mi for r in self.rows)
        head_cpu, head_mem = self.headroom()
        lines.append(
            f"  {'total requests at maximum':<53} {'':>8} {'':>8} {cpu:>6}m {mem:>6}Mi {limits:>7}Mi"
        )
        lines.append(
            f"  headroom: CPU {head_cpu:.0%}, memory {head_mem:.0%} (required: {HEADROOM:.0%} each); "
            f"memory limits overcommit {limits / cap_mem:.2f}x"
        )
        return "\n".join(lines)


def report(root: Path, env: str, groups: dict[str, list[Obj]], charts: list[Obj]) -> Report:
    rows = []
    for group, objects in groups.items():
        rows += rows_for(group, objects)
    for app in charts:
        rows += chart_rows(app)
    rows += [Row("kube-system (K3s)", name, n, cpu, mem, limit) for name, n, cpu, mem, limit in KUBE_SYSTEM]
    return Report(env, nodes(root, env), rows)
