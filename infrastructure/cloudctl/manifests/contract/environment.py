"""Each process's environment against the settings its code declares and the values it accepts."""

from __future__ import annotations

from cloudctl.manifests.contract.env import Env

# Set by the images or the gunicorn configs for every process, never declared as a setting.
UNDECLARED_OK = {"PROMETHEUS_MULTIPROC_DIR"}


def check(env: Env) -> list[str]:
    problems = list(p for process in env.processes for p in process.env_problems)
    for process in env.processes:
        answer = env.describe(process)
        if "settings" not in answer:  # the code could not even be loaded
            problems.append(f"{process.where}: {answer['error']}")
            continue
        declared = {s["name"]: s for s in answer["settings"]}
        found = []
        for name, setting in declared.items():
            if setting["required"] and not process.environ.get(name):
                found.append(f"required {name} is not set")
        for name, why in answer["rejected"].items():
            found.append(f"{name}={process.environ[name]!r} is rejected by the code: {why}")
        for name in sorted(set(process.environ) - set(declared) - UNDECLARED_OK):
            found.append(f"{name} is set but the code declares no such setting")
        problems += [f"{process.where}: {p}" for p in found]
    return problems
