"""One environment's rendered objects, indexed, and the processes of ours they run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudctl.manifests import esotemplate, netpol
from cloudctl.manifests.contract import code, spec
from cloudctl.manifests.policy import containers, pod_spec
from cloudctl.manifests.render import Obj

PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


@dataclass
class Process:
    """A container running one of the contract's workloads or commands."""

    obj: Obj
    container: dict[str, Any]
    item: spec.Workload | spec.Command
    environ: dict[str, str]  # as the kubelet would build it (secrets: stand-in values)
    env_problems: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{self.obj.where()}: container {self.container.get('name')}"

    def probe_paths(self) -> list[str]:
        return [p["httpGet"]["path"] for key in PROBES if (p := self.container.get(key)) and "httpGet" in p]

    def question(self) -> code.Question:
        return code.question(
            self.item, self.environ, self.probe_paths() if isinstance(self.item, spec.Workload) else []
        )


class Env:
    """One environment's rendered objects, indexed, with the contract and the code to ask."""

    def __init__(self, root: Path, name: str, objects: list[Obj]):
        self.root = root
        self.contract = spec.load(root)
        self.name = name
        self.namespace = f"movies-{name}"
        self.objects = objects
        self.config_maps = {o.name: o for o in objects if o.kind == "ConfigMap"}
        self.secrets: dict[str, dict[str, str]] = {}
        self.problems: list[str] = []
        for es in (o for o in objects if o.kind == "ExternalSecret"):
            try:
                self.secrets[esotemplate.secret_name(es)] = esotemplate.secret_data(es)
            except Exception as exc:  # noqa: BLE001 - reported, with the object, as a contract problem
                self.problems.append(str(exc))
        self.workloads = [o for o in objects if pod_spec(o) is not None]
        self.policies = [o.doc for o in objects if o.kind == "NetworkPolicy"]
        self.processes: list[Process] = []
        self.strangers: list[tuple[Obj, dict[str, Any]]] = []  # containers that are neither
        for obj in self.workloads:
            for container in containers(obj):
                item = self.identify(container)
                if item is None:
                    self.strangers.append((obj, container))
                    continue
                environ, problems = self.container_env(obj, container)
                self.processes.append(Process(obj, container, item, environ, problems))

    def identify(self, container: dict[str, Any]) -> spec.Workload | spec.Command | None:
        """`python -m <command>` is that command; otherwise the workload named like the container."""
        command = container.get("command") or []
        if command[:2] == ["python", "-m"] and len(command) > 2 and command[2] in self.contract.commands:
            return self.contract.commands[command[2]]
        return self.contract.workloads.get(container.get("name", ""))

    def describe(self, process: Process) -> dict[str, Any]:
        return code.ask(self.root, process.question())

    def ask_all(self) -> None:
        code.ask_all(self.root, [p.question() for p in self.processes])

    def of_kind(self, kind: str) -> list[Obj]:
        return [o for o in self.objects if o.kind == kind]

    def pods(self) -> list[tuple[Obj, netpol.Endpoint]]:
        """Each pod template as a NetworkPolicy endpoint (labels and named container ports)."""
        pods = []
        for obj in self.workloads:
            template = obj.doc["spec"]["template"]
            ports = {
                p["name"]: p["containerPort"]
                for c in containers(obj)
                for p in c.get("ports") or []
                if "name" in p
            }
            labels = template["metadata"].get("labels") or {}
            pods.append((obj, netpol.Endpoint(self.namespace, labels, ports)))
        return pods

    def container_env(self, obj: Obj, container: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
        """The container's environment as the kubelet would build it (secrets: stand-in values)."""
        env: dict[str, str] = {}
        problems = []
        for source in container.get("envFrom") or []:
            ref = source.get("configMapRef") or source.get("secretRef")
            table = (
                self.config_maps[ref["name"]].doc.get("data", {})
                if "configMapRef" in source and ref["name"] in self.config_maps
                else self.secrets.get(ref["name"])
            )
            if table is None:
                problems.append(f"envFrom {ref['name']}: no such ConfigMap or ExternalSecret-made Secret")
                continue
            env.update({source.get("prefix", "") + k: v for k, v in table.items()})
        for item in container.get("env") or []:
            if "value" in item:
                env[item["name"]] = item["value"]
                continue
            ref = item.get("valueFrom") or {}
            if "secretKeyRef" in ref:
                name, key = ref["secretKeyRef"]["name"], ref["secretKeyRef"]["key"]
                table = self.secrets.get(name)
            elif "configMapKeyRef" in ref:
                name, key = ref["configMapKeyRef"]["name"], ref["configMapKeyRef"]["key"]
                table = self.config_maps[name].doc.get("data", {}) if name in self.config_maps else None
            else:
                continue
            if table is None or key not in table:
                problems.append(
                    f"env {item['name']}: {name}/{key} is not produced by any ConfigMap or "
                    "ExternalSecret here"
                )
            else:
                env[item["name"]] = table[key]
        return env, [f"{obj.where()}: container {container.get('name')}: {p}" for p in problems]
