"""Validate rendered objects: core kinds with kubernetes-validate (strict) at the pinned K3s's
Kubernetes version, custom kinds against the openAPIV3Schema of their pinned CRD with unknown
fields rejected as kube-apiserver's strict field validation does. A kind with no schema fails.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from kubernetes_validate import utils as kv

from cloudctl.manifests import upstream
from cloudctl.manifests.render import LOADER, Obj

# kubernetes-validate re-reads its (large) definitions file on every call: read each file once.
kv.schema_contents = cache(kv.schema_contents)

# Kubernetes metadata is checked strictly via a core kind that carries nothing but metadata.
METADATA_PROBE = {"apiVersion": "v1", "kind": "ConfigMap"}


def strict(schema: dict[str, Any]) -> dict[str, Any]:
    """A copy of an OpenAPI v3 CRD schema in which every object with declared properties rejects
    unknown fields (unless it says x-kubernetes-preserve-unknown-fields)."""
    schema = copy.deepcopy(schema)

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for key in ("properties", "patternProperties"):
                for child in (node.get(key) or {}).values():
                    walk(child)
            for key in ("items", "additionalProperties", "not"):
                walk(node.get(key))
            for key in ("allOf", "anyOf", "oneOf"):
                for child in node.get(key) or []:
                    walk(child)

    walk(schema)
    # metadata is validated as ObjectMeta separately; the CRD only says "object"
    if "metadata" in schema.get("properties", {}):
        schema["properties"]["metadata"] = {"type": "object"}
    return schema


class CrdCatalog:
    """apiVersion+kind → a validator, from the pinned CRD files."""

    def __init__(self, cache_dir: Path):
        self._schemas: dict[tuple[str, str], dict[str, Any]] = {}
        for url in upstream.CRD_URLS:
            for crd in yaml.load_all(upstream.fetch(url, cache_dir).read_text(), Loader=LOADER):
                if not crd or crd.get("kind") != "CustomResourceDefinition":
                    continue
                group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
                for version in crd["spec"]["versions"]:
                    if version.get("served"):
                        self._schemas[(f"{group}/{version['name']}", kind)] = version["schema"][
                            "openAPIV3Schema"
                        ]

    def kinds(self) -> set[tuple[str, str]]:
        return set(self._schemas)

    @cache  # noqa: B019 - one catalog per run, a handful of kinds
    def validator(self, api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
        schema = self._schemas.get((api_version, kind))
        return None if schema is None else jsonschema.Draft7Validator(strict(schema))


def _path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "(top)"


def _core_errors(doc: dict[str, Any], version: str) -> list[str]:
    try:
        kv.validate(doc, version, strict=True)
    except kv.ValidationError as err:
        return [f"{_path(err)}: {err.message}"]
    except kv.SchemaNotFoundError:
        return [
            f"no schema for {doc.get('apiVersion')} {doc.get('kind')} in Kubernetes {version} (unknown kind)"
        ]
    return []


def validate_object(obj: Obj, version: str, crds: CrdCatalog) -> list[str]:
    """Every problem with one object, each as 'file: Kind/name: path: message'."""
    doc = obj.doc
    if not isinstance(doc.get("apiVersion"), str) or not isinstance(doc.get("kind"), str):
        return [f"{obj.where()}: apiVersion and kind are required"]
    validator = crds.validator(doc["apiVersion"], doc["kind"])
    if validator is None:
        problems = _core_errors(doc, version)
    else:
        problems = [f"{_path(e)}: {e.message}" for e in sorted(validator.iter_errors(doc), key=str)]
        problems += [
            f"metadata.{p}"
            for p in _core_errors({**METADATA_PROBE, "metadata": doc.get("metadata", {})}, version)
        ]
    return [f"{obj.where()}: {p}" for p in problems]
