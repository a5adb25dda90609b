"""Read the Terraform tree with python-hcl2 into plain Python values for the tests.

python-hcl2 keeps the quotes of string literals and block labels ('"x"'); `unquote` strips them
so tests compare against the values as written in HCL.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import hcl2
import yaml
from cloudctl.manifests.contract import spec

ROOT = Path(__file__).resolve().parents[3]
TERRAFORM = ROOT / "infrastructure" / "terraform"
MODULES = TERRAFORM / "modules"
COMMON = TERRAFORM / "envs" / "common"  # the roots' shared files (each env links to them)
ENVS = ("dev", "prod")
# Every directory Terraform runs in (roots) and every module they call.
ROOT_DIRS = (TERRAFORM / "state", *(TERRAFORM / "envs" / env for env in ENVS))
MODULE_DIRS = tuple(sorted(path for path in MODULES.iterdir() if path.is_dir()))
CONTRACT_FILE = ROOT / "contract.yaml"
# The operator's address, passed as cloudctl passes it (never in terraform.tfvars): benchmarking
# space (198.18.0.0/15), which the roots accept, unlike the documentation ranges they refuse.
ADMIN_CIDR = "198.18.0.10/32"


def contract_routes(path: Path = CONTRACT_FILE) -> dict[str, dict[str, Any]]:
    """What the load balancer must route, by target, as contract.yaml says (workloads and platform).
    Read raw, not through cloudctl's typed reader: Terraform's yamldecode sees these objects as
    written (admin_only only where it is set), and the tests compare the two."""
    data = yaml.safe_load(path.read_text())
    targets = {name: item for name, item in data["workloads"].items() if item["route"]}
    targets.update(data["platform"])
    return {name: {**item["route"], "node_port": item["node_port"]} for name, item in targets.items()}


def contract_images(path: Path = CONTRACT_FILE) -> set[str]:
    """The ECR repositories' last segments contract.yaml names (cloudctl's reader of the file)."""
    return set(spec.load(path.parent).images)


def contract_secrets(path: Path = CONTRACT_FILE) -> dict[str, list[str]]:
    """contract.yaml's Secrets Manager secrets (cloud-design/<env>/<name>) and their JSON keys, by name."""
    return {name: list(secret.keys) for name, secret in spec.load(path.parent).secrets.items()}


# Bookkeeping keys python-hcl2 adds next to the real attributes.
_PARSER_KEYS = {"__is_block__", "__comments__", "__inline_comments__"}


def unquote(value: Any) -> Any:
    if isinstance(value, str):
        return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value
    if isinstance(value, list):
        return [unquote(item) for item in value]
    if isinstance(value, dict):
        return {unquote(key): unquote(item) for key, item in value.items() if key not in _PARSER_KEYS}
    return value


def load_file(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return unquote(hcl2.load(handle))


@functools.cache
def load_dir(directory: Path) -> dict[str, list[Any]]:
    """Every top-level block of every .tf file in `directory`, merged by block type."""
    merged: dict[str, list[Any]] = {}
    for path in sorted(directory.glob("*.tf")):
        for kind, blocks in load_file(path).items():
            merged.setdefault(kind, []).extend(blocks)
    return merged


def labelled(directory: Path, kind: str) -> dict[str, dict[str, Any]]:
    """Blocks with one label (variable, output, module) by label."""
    result: dict[str, dict[str, Any]] = {}
    for block in load_dir(directory).get(kind, []):
        result.update(block)
    return result


def resources(directory: Path, resource_type: str) -> dict[str, dict[str, Any]]:
    """Resources of one type by name."""
    return _two_labels(directory, "resource", resource_type)


def data_sources(directory: Path, data_type: str) -> dict[str, dict[str, Any]]:
    return _two_labels(directory, "data", data_type)


def ephemeral_resources(directory: Path, resource_type: str) -> dict[str, dict[str, Any]]:
    """Ephemeral resources of one type by name (opened on every plan and apply, never stored)."""
    return _two_labels(directory, "ephemeral", resource_type)


def _two_labels(directory: Path, kind: str, first: str) -> dict[str, dict[str, Any]]:
    result: dict[str, dict[str, Any]] = {}
    for block in load_dir(directory).get(kind, []):
        result.update(block.get(first, {}))
    return result


def module_dir(name: str) -> Path:
    return MODULES / name


def variable_default(module: str, name: str) -> Any:
    return labelled(module_dir(module), "variable")[name]["default"]


def tfvars(env: str) -> dict[str, Any]:
    return load_file(TERRAFORM / "envs" / env / "terraform.tfvars")


def locals_of(directory: Path) -> dict[str, Any]:
    """Every `locals` block of the directory, merged."""
    merged: dict[str, Any] = {}
    for block in load_dir(directory).get("locals", []):
        merged.update(block)
    return merged


def common_locals() -> dict[str, Any]:
    return locals_of(COMMON)


def variable_block(path: Path, name: str) -> str:
    """The `variable "<name>" { ... }` block of the file at `path` as written, braces matched."""
    text = path.read_text()
    start = text.index(f'variable "{name}" {{')
    depth = 0
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0 and text[index] == "}":
            return text[start : index + 1]
    raise AssertionError(f"variable {name} is not closed in {path}")
