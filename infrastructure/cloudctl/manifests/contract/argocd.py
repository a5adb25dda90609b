"""The load balancer's Argo CD rule reaches the UI: the contract's NodePort, served under its path."""

from __future__ import annotations

from pathlib import Path

from cloudctl.manifests.contract import spec
from cloudctl.manifests.render import Obj


def check(objects: list[Obj], root: Path) -> list[str]:
    contract = spec.load(root)
    server = next((o for o in objects if o.kind == "Service" and o.name == "argocd-server"), None)
    params = next((o for o in objects if o.kind == "ConfigMap" and o.name == "argocd-cmd-params-cm"), None)
    if server is None or params is None:
        return ["argocd: the install renders no argocd-server Service or argocd-cmd-params-cm"]
    problems = []
    node_ports = [p.get("nodePort") for p in server.doc["spec"].get("ports", []) if p.get("name") == "http"]
    if server.doc["spec"].get("type") != "NodePort" or node_ports != [contract.argocd_node_port]:
        problems.append(
            f"{server.where()}: the http port must be NodePort {contract.argocd_node_port} "
            f"({spec.FILE}: the load balancer's target)"
        )
    # The rule forwards /argocd* unchanged: the UI must live under that prefix.
    rootpath = contract.argocd_route.path_patterns[0].rstrip("*")
    if (params.doc.get("data") or {}).get("server.rootpath") != rootpath:
        problems.append(
            f"{params.where()}: server.rootpath must be {rootpath} (the load balancer forwards "
            f"{contract.argocd_route.path_patterns[0]})"
        )
    return problems
