"""contract.yaml, read: the workload facts every other place takes from it (docs/contract.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from cloudctl.errors import CloudctlError

FILE = "contract.yaml"


@dataclass(frozen=True)
class Route:
    path_patterns: tuple[str, ...]
    health_check_path: str
    priority: int
    admin_only: bool = False


@dataclass(frozen=True)
class Workload:
    name: str  # the Deployment and its container
    source: str  # services/<folder>: the describe subprocess runs there
    command: tuple[str, ...]
    image: str  # ECR repository's last segment
    container_port: int
    node_port: int | None
    route: Route | None
    requires: tuple[str, ...]  # the settings the code cannot start without (checked: requires)
    secrets: dict[str, tuple[str, ...]]  # Secrets Manager secret -> the keys its pods' Secrets read
    entry_json: str  # its contract.yaml entry as JSON: what common.describe reads on stdin


@dataclass(frozen=True)
class Command:
    name: str  # python -m <name>
    source: str
    image: str | None  # None: any of the workloads' images
    entry_json: str  # its contract.yaml entry as JSON: what common.describe reads on stdin


@dataclass(frozen=True)
class Secret:
    name: str  # Secrets Manager cloud-design/<env>/<name>
    keys: tuple[str, ...]
    holds: str


@dataclass(frozen=True)
class Contract:
    workloads: dict[str, Workload]
    commands: dict[str, Command]
    secrets: dict[str, Secret]
    argocd_node_port: int
    argocd_route: Route

    @property
    def images(self) -> tuple[str, ...]:
        """The ECR repositories' last segments, each once, in the contract's order."""
        return tuple(dict.fromkeys(w.image for w in self.workloads.values()))


_LOADED: dict[tuple[Path, int], Contract] = {}


def load(root: Path) -> Contract:
    """<root>/contract.yaml; a missing or malformed field is one CloudctlError line."""
    path = root / FILE
    try:
        key = (path.resolve(), path.stat().st_mtime_ns)
    except OSError as exc:
        raise CloudctlError(f"{path}: cannot read the contract: {exc.strerror}") from None
    if key not in _LOADED:
        _LOADED[key] = _parse(path, yaml.safe_load(path.read_text()))
    return _LOADED[key]


def _parse(path: Path, data: Any) -> Contract:
    where = path.name

    def field(table: Any, name: str, kind: type | tuple[type, ...], at: str) -> Any:
        if not isinstance(table, dict) or name not in table or not isinstance(table[name], kind):
            raise CloudctlError(f"{where}: {at}.{name} is missing or not a {_kind_name(kind)}")
        return table[name]

    def route(table: Any, at: str) -> Route:
        return Route(
            tuple(field(table, "path_patterns", list, at)),
            field(table, "health_check_path", str, at),
            field(table, "priority", int, at),
            bool(table.get("admin_only", False)),
        )

    secrets = {
        name: Secret(
            name,
            tuple(field(item, "keys", list, f"secrets.{name}")),
            field(item, "holds", str, f"secrets.{name}"),
        )
        for name, item in field(data, "secrets", dict, "").items()
    }

    def secrets_read(table: Any, at: str) -> dict[str, tuple[str, ...]]:
        """A workload's {secret: [keys]}: each secret and key one of the secrets section's."""
        read = {}
        for name, keys in field(table, "secrets", dict, at).items():
            if not isinstance(keys, list):
                raise CloudctlError(f"{where}: {at}.secrets.{name} is not a list of keys")
            if name not in secrets:
                raise CloudctlError(f"{where}: {at}.secrets.{name} is no secret of the secrets section")
            if unknown := [k for k in keys if k not in secrets[name].keys]:
                raise CloudctlError(
                    f"{where}: {at}.secrets.{name}: {', '.join(map(str, unknown))} is no key of "
                    f"secrets.{name} ({', '.join(secrets[name].keys)})"
                )
            read[name] = tuple(keys)
        return read

    workloads = {}
    for name, item in field(data, "workloads", dict, "").items():
        at = f"workloads.{name}"
        node_port = field(item, "node_port", (int, type(None)), at)
        raw_route = field(item, "route", (dict, type(None)), at)
        requires = field(item, "requires", list, at)
        if not all(isinstance(r, str) for r in requires):
            raise CloudctlError(f"{where}: {at}.requires is not a list of variable names")
        workloads[name] = Workload(
            name,
            field(item, "source", str, at),
            tuple(field(item, "command", list, at)),
            field(item, "image", str, at),
            field(item, "container_port", int, at),
            node_port,
            None if raw_route is None else route(raw_route, f"{at}.route"),
            tuple(requires),
            secrets_read(item, at),
            json.dumps(item, sort_keys=True),
        )
        if (node_port is None) != (raw_route is None):
            raise CloudctlError(f"{where}: {at}: a node_port needs a route and a route a node_port")
    commands = {
        name: Command(
            name,
            field(item, "source", str, f"commands.{name}"),
            field(item, "image", (str, type(None)), f"commands.{name}"),
            json.dumps(item, sort_keys=True),
        )
        for name, item in field(data, "commands", dict, "").items()
    }
    argocd = field(field(data, "platform", dict, ""), "argocd", dict, "platform")
    for command in commands.values():
        if command.image is not None and command.image not in {w.image for w in workloads.values()}:
            raise CloudctlError(
                f"{where}: commands.{command.name}.image {command.image} is no workload's image"
            )
    return Contract(
        workloads,
        commands,
        secrets,
        field(argocd, "node_port", int, "platform.argocd"),
        route(field(argocd, "route", dict, "platform.argocd"), "platform.argocd.route"),
    )


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {dict: "mapping", list: "list", str: "string", int: "number", type(None): "null"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)
