"""Every ExternalSecret reads a Secrets Manager secret of this environment that contract.yaml lists,
and only JSON keys the contract gives it (Terraform writes those; the emulator test reads them back);
each workload's pods consume exactly the secrets and keys its `secrets` in contract.yaml names."""

from __future__ import annotations

from typing import Any

from cloudctl.manifests import esotemplate
from cloudctl.manifests.contract import spec
from cloudctl.manifests.contract.env import Env
from cloudctl.manifests.policy import containers, pod_spec
from cloudctl.manifests.render import Obj


def _refs(es: Obj) -> list[dict[str, Any]]:
    """The Secrets Manager references an ExternalSecret reads: remoteRef (one key) or extract (all)."""
    refs = [item.get("remoteRef") or {} for item in es.doc["spec"].get("data") or []]
    return refs + [item.get("extract") or {} for item in es.doc["spec"].get("dataFrom") or []]


def check(env: Env) -> list[str]:
    return _read_by_the_contract(env) + _read_by_each_workload(env)


def _read_by_the_contract(env: Env) -> list[str]:
    prefix = f"cloud-design/{env.name}/"
    problems = []
    for es in env.of_kind("ExternalSecret"):
        for ref in _refs(es):
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


def consumed_secrets(obj: Obj) -> set[str]:
    """The Secrets a pod template reads: envFrom, secretKeyRef, secret and projected volumes."""
    names = set()
    for container in containers(obj):
        names |= {s["secretRef"]["name"] for s in container.get("envFrom") or [] if "secretRef" in s}
        refs = [(item.get("valueFrom") or {}).get("secretKeyRef") for item in container.get("env") or []]
        names |= {ref["name"] for ref in refs if ref}
    for volume in (pod_spec(obj) or {}).get("volumes") or []:
        if "secret" in volume:
            names.add(volume["secret"]["secretName"])
        for source in (volume.get("projected") or {}).get("sources") or []:
            if "secret" in source:
                names.add(source["secret"]["name"])
    return names


def _read_by_each_workload(env: Env) -> list[str]:
    """The ExternalSecrets making the Secrets a workload's pods consume read exactly the secret/key
    pairs of its `secrets` in contract.yaml (names relative to cloud-design/<env>/)."""
    prefix = f"cloud-design/{env.name}/"
    makers: dict[str, list[Obj]] = {}
    for es in env.of_kind("ExternalSecret"):
        makers.setdefault(esotemplate.secret_name(es), []).append(es)
    problems = []
    for obj in env.workloads:
        running = {p.item.name: p.item for p in env.processes if p.obj is obj}
        for workload in (w for w in running.values() if isinstance(w, spec.Workload)):
            read: dict[str, set[str]] = {}
            for name in sorted(consumed_secrets(obj)):
                for es in makers.get(name, []):
                    for ref in _refs(es):
                        secret = str(ref.get("key", "")).removeprefix(prefix)
                        known = env.contract.secrets.get(secret)
                        # extract (no property) reads every key: the contract's, or "*" when the
                        # contract does not know the secret (reported by _read_by_the_contract).
                        keys = (
                            {ref["property"]} if ref.get("property") else set(known.keys if known else ["*"])
                        )
                        read.setdefault(secret, set()).update(keys)
            wanted = {secret: set(keys) for secret, keys in workload.secrets.items()}
            if read != wanted:
                problems.append(
                    f"{obj.where()}: its pods' ExternalSecrets read {_pairs(read)} but {spec.FILE}'s "
                    f"workloads.{workload.name}.secrets is {_pairs(wanted)}"
                )
    return problems


def _pairs(read: dict[str, set[str]]) -> str:
    return "{" + ", ".join(f"{s}: [{', '.join(sorted(keys))}]" for s, keys in sorted(read.items())) + "}"
