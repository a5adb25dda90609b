"""Each workload's `requires` in contract.yaml is exactly the settings its code cannot start without
(the required ones of its Setting tuple, as common.describe reports them)."""

from __future__ import annotations

from cloudctl.manifests.contract import code, spec
from cloudctl.manifests.contract.env import Env


def check(env: Env) -> list[str]:
    problems = []
    for workload in env.contract.workloads.values():
        running = [p for p in env.processes if p.item is workload]
        # The declared settings do not depend on the environment: a workload this environment does
        # not run is asked with none, so every workload's list is checked.
        answer = env.describe(running[0]) if running else code.ask(env.root, code.question(workload, {}, []))
        if "settings" not in answer:
            continue  # the code could not be loaded: the environment check reports it
        required = [s["name"] for s in answer["settings"] if s["required"]]
        if sorted(required) != sorted(workload.requires):
            problems.append(
                f"{spec.FILE}: workloads.{workload.name}.requires is [{', '.join(workload.requires)}] "
                f"but its code requires [{', '.join(required)}]"
            )
    return problems
