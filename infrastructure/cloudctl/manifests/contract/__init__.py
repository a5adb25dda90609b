"""Contract checks between one environment's rendered manifests, contract.yaml and the real code.

contract.yaml (spec) names each workload and command; the code describes itself in a subprocess
(code, services/common/describe.py); the rendered objects are indexed once (env). Each module
checks one thing and returns every mismatch as 'file: Kind/name: what is wrong':

- processes: every container is a workload or command of the contract, from its image;
- environment: env vars against the settings the code declares and the values it accepts;
- probes: ports and probes against where the code listens and the routes it serves;
- wiring: Services, PDBs, autoscalers, NodePorts and KEDA's queue;
- requires: each workload's `requires` is exactly the settings its code requires;
- secrets: ExternalSecrets read only the contract's Secrets Manager secrets and keys, and each
  workload's pods exactly the secrets and keys of its `secrets`;
- rabbitmq: the broker's boot definitions against the queues the code declares;
- network: every call the code makes against the NetworkPolicies;
- argocd: the load balancer's Argo CD rule reaches the UI.
"""

from __future__ import annotations

from pathlib import Path

from cloudctl.manifests import tree
from cloudctl.manifests.contract import (
    argocd,
    environment,
    network,
    probes,
    processes,
    rabbitmq,
    requires,
    secrets,
    wiring,
)
from cloudctl.manifests.contract.env import Env
from cloudctl.manifests.render import Obj


def check(root: Path, env_name: str, objects: list[Obj]) -> list[str]:
    env = Env(root, env_name, objects)
    env.ask_all()  # every subprocess question up front, in parallel; the checks read the answers
    problems = list(env.problems)
    for module in (processes, environment, requires, probes, wiring, secrets, rabbitmq, network):
        problems += module.check(env)
    return problems


def check_argocd(objects: list[Obj], root: Path | None = None) -> list[str]:
    """Argo CD's rendered install against the contract of `root` (default: this repository)."""
    return argocd.check(objects, tree.ROOT if root is None else root)
