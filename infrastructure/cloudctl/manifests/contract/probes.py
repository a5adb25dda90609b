"""Ports and probes of each workload against where its code listens and what it serves."""

from __future__ import annotations

from cloudctl.manifests.contract import spec
from cloudctl.manifests.contract.env import PROBES, Env


def check(env: Env) -> list[str]:
    problems = []
    for process in env.processes:
        workload = process.item
        if not isinstance(workload, spec.Workload) or process.env_problems:
            continue  # commands serve nothing; an incomplete environment is reported already
        answer = env.describe(process)
        where = process.where
        if "settings" not in answer:
            continue  # reported by the environment check
        if answer.get("error"):
            if not answer["rejected"]:  # a rejected value is reported, with its reason, already
                problems.append(f"{where}: {answer['error']}")
            continue
        ports = {p.get("name"): p["containerPort"] for p in process.container.get("ports") or []}
        listen = answer["port"]
        if listen != workload.container_port:
            problems.append(
                f"{where}: the code listens on {listen} but {spec.FILE} says "
                f"container_port {workload.container_port}"
            )
        if ports.get("http") != listen:
            problems.append(
                f"{where}: containerPort http={ports.get('http')} but the code listens on {listen}"
            )
        for path, served in answer["probes"].items():
            if not served:
                problems.append(f"{where}: probe path {path} is not a route the code serves")
        for key in PROBES:
            port = ((process.container.get(key) or {}).get("httpGet") or {}).get("port")
            if port is not None and port not in ports and port not in ports.values():
                problems.append(f"{where}: {key} port {port!r} is not a container port")
    return problems
