"""Services, PDBs, autoscalers and scale targets point at things that exist; NodePorts are the
contract's; KEDA scales on the queue the scaled workload's code consumes."""

from __future__ import annotations

from typing import Any

from cloudctl.manifests import netpol
from cloudctl.manifests.contract import spec
from cloudctl.manifests.contract.env import Env


def check(env: Env) -> list[str]:
    problems = []
    pods = env.pods()
    for svc in env.of_kind("Service"):
        spec_ = svc.doc["spec"]
        if spec_.get("type") == "ExternalName":
            continue
        chosen = [
            (o, e) for o, e in pods if netpol.selects({"matchLabels": spec_.get("selector") or {}}, e.labels)
        ]
        if not spec_.get("selector") or not chosen:
            problems.append(f"{svc.where()}: selector {spec_.get('selector')} matches no pod template")
            continue
        for port in spec_.get("ports") or []:
            target = port.get("targetPort", port["port"])
            for obj, endpoint in chosen:
                numbers = set(endpoint.ports.values())
                if (isinstance(target, str) and target not in endpoint.ports) or (
                    isinstance(target, int) and target not in numbers
                ):
                    problems.append(f"{svc.where()}: targetPort {target!r} is not a port of {obj.label()}")
        workload = env.contract.workloads.get(svc.name)
        if workload is not None and workload.node_port is not None:
            if [p.get("nodePort") for p in spec_.get("ports", [])] != [workload.node_port]:
                problems.append(
                    f"{svc.where()}: nodePort must be {workload.node_port} "
                    f"({spec.FILE}: the load balancer's target)"
                )
    for pdb in env.of_kind("PodDisruptionBudget"):
        if not any(netpol.selects(pdb.doc["spec"].get("selector"), e.labels) for _, e in pods):
            problems.append(f"{pdb.where()}: selector matches no pod template")
    names = {(o.kind, o.name) for o in env.objects}
    for hpa in env.of_kind("HorizontalPodAutoscaler") + env.of_kind("ScaledObject"):
        ref = hpa.doc["spec"]["scaleTargetRef"]
        if (ref.get("kind", "Deployment"), ref["name"]) not in names:
            problems.append(
                f"{hpa.where()}: scales {ref.get('kind', 'Deployment')}/{ref['name']}, which does not exist"
            )
    for so in env.of_kind("ScaledObject"):
        for trigger in so.doc["spec"].get("triggers") or []:
            auth = (trigger.get("authenticationRef") or {}).get("name")
            if auth and ("TriggerAuthentication", auth) not in names:
                problems.append(f"{so.where()}: authenticationRef {auth} does not exist")
            if trigger["type"] == "rabbitmq":
                problems += _scaled_queue(env, so.where(), so.doc["spec"]["scaleTargetRef"], trigger)
    for ta in env.of_kind("TriggerAuthentication"):
        for ref in ta.doc["spec"].get("secretTargetRef") or []:
            if ref["key"] not in env.secrets.get(ref["name"], {}):
                problems.append(
                    f"{ta.where()}: {ref['name']}/{ref['key']} is not produced by any ExternalSecret"
                )
    for obj in env.objects:
        if obj.namespace and obj.namespace != env.namespace:
            problems.append(f"{obj.where()}: namespace {obj.namespace}, expected {env.namespace}")
    return problems


def _scaled_queue(env: Env, where: str, target: dict[str, Any], trigger: dict[str, Any]) -> list[str]:
    """The queue KEDA watches is the work queue the scaled workload's code consumes."""
    queue = trigger.get("metadata", {}).get("queueName")
    consumers = [
        p
        for p in env.processes
        if p.obj.kind == target.get("kind", "Deployment")
        and p.obj.name == target["name"]
        and isinstance(p.item, spec.Workload)
    ]
    answers = [env.describe(p) for p in consumers]
    wanted = {a["topology"]["queue"] for a in answers if "topology" in a}
    if not wanted:
        return [f"{where}: scales on queue {queue!r} but its target's code declares no queue here"]
    if queue not in wanted:
        return [f"{where}: scales on queue {queue!r} but the worker consumes {sorted(wanted)[0]!r}"]
    return []
