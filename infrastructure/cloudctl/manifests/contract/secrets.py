"""Every ExternalSecret reads a Secrets Manager secret of this environment that contract.yaml lists,
and only JSON keys the contract gives it (Terraform writes those; the emulator test reads them back)."""

from __future__ import annotations

from cloudctl.manifests.contract import spec
from cloudctl.manifests.contract.env import Env


def check(env: Env) -> list[str]:
    prefix = f"cloud-design/{env.name}/"
    problems = []
    for es in env.of_kind("ExternalSecret"):
        refs = [item.get("remoteRef") or {} for item in es.doc["spec"].get("data") or []]
        refs += [item.get("extract") or {} for item in es.doc["spec"].get("dataFrom") or []]
        for ref in refs:
            key, prop = ref.get("key", ""), ref.get("property")
            secret = env.contract.secrets.get(key.removeprefix(prefix)) if key.startswith(prefix) else None
            if secret is None:
                problems.append(
                    f"{es.where()}: reads {key!r}, which is no "
                    f"cloud-design/{env.name}/<secret> of {spec.FILE}"
                )
            elif prop is not None and prop not in secret.keys:
                problems.append(
                    f"{es.where()}: reads key {prop!r} of {key}, but {spec.FILE} gives it only "
                    f"{', '.join(secret.keys)}"
                )
    return problems
