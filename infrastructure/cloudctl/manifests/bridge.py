"""What Argo CD renders for a cluster whose values come from its cluster Secret (gitops-bridge).

Two things happen in a cluster that a plain `kubectl kustomize` of git does not do:

1. the ApplicationSet controller turns the root ApplicationSet (clusters/<env>/root.yaml) into the
   root Application, with the cluster Secret's annotations in its template;
2. before building an Application's folder, Argo CD writes the Application's `kustomize` field
   into that folder's kustomization.yaml (`kustomize edit set image`, and its patches).

This module does both offline, against the Secret `cloud-design.bootstrap.cluster_secret.example`
describes, so that `make validate` checks what the cluster would run. It understands only what
this repository uses: the clusters generator with `matchLabels`, and the template expression
`{{ index .metadata.annotations "<name>" }}`. Anything else is an error, never a silent pass.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

from cloudctl.errors import CloudctlError

ANNOTATION = re.compile(r'\{\{\s*index\s+\.metadata\.annotations\s+"([^"]+)"\s*\}\}')
EXPRESSION = re.compile(r"\{\{.*?\}\}", re.S)


def selects(appset: dict[str, Any], secret: dict[str, Any]) -> bool:
    """True when one of the ApplicationSet's clusters generators selects this cluster Secret."""
    name = (appset.get("metadata") or {}).get("name", "")
    labels = (secret.get("metadata") or {}).get("labels") or {}
    for generator in (appset.get("spec") or {}).get("generators") or []:
        if set(generator) != {"clusters"}:
            raise CloudctlError(
                f"ApplicationSet {name}: only the clusters generator is rehearsed offline, "
                f"not {sorted(generator)}"
            )
        wanted = (((generator["clusters"] or {}).get("selector") or {}).get("matchLabels")) or {}
        if all(labels.get(key) == value for key, value in wanted.items()):
            return True
    return False


def _fill(value: Any, annotations: dict[str, str], where: str) -> Any:
    if isinstance(value, dict):
        return {key: _fill(item, annotations, where) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, annotations, where) for item in value]
    if not isinstance(value, str):
        return value

    def annotation(match: re.Match[str]) -> str:
        if match.group(1) not in annotations:  # goTemplateOptions missingkey=error
            raise CloudctlError(f"{where}: the cluster Secret has no annotation {match.group(1)}")
        return annotations[match.group(1)]

    filled = ANNOTATION.sub(annotation, value)
    left = EXPRESSION.search(filled)
    if left:
        raise CloudctlError(f"{where}: template expression {left.group(0)} is not rehearsed offline")
    return filled


def generate(appset: dict[str, Any], secret: dict[str, Any]) -> dict[str, Any]:
    """The Application the ApplicationSet generates for this cluster Secret."""
    meta = appset.get("metadata") or {}
    where = f"ApplicationSet {meta.get('name', '')}"
    if not selects(appset, secret):
        raise CloudctlError(f"{where}: its generators select no cluster Secret of this environment")
    template = copy.deepcopy((appset.get("spec") or {}).get("template") or {})
    annotations = (secret.get("metadata") or {}).get("annotations") or {}
    filled = _fill(template, annotations, where)
    metadata = dict(filled.get("metadata") or {})
    metadata.setdefault("namespace", meta.get("namespace", "argocd"))
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": metadata,
        **{"spec": filled.get("spec") or {}},
    }


def _image_entry(override: str) -> dict[str, str]:
    """`kustomize edit set image` syntax: `<name>=<newName>[:<newTag>][@<digest>]`."""
    name, equals, new = override.partition("=")
    if not equals:
        raise CloudctlError(f"kustomize image override {override!r} lacks `<name>=`")
    entry = {"name": name}
    new, _, digest = new.partition("@")
    head, slash, last = new.rpartition("/")
    if ":" in last:
        last, tag = last.split(":", 1)
        entry["newTag"] = tag
    entry["newName"] = f"{head}{slash}{last}"
    if digest:
        entry["digest"] = digest
    return entry


def apply_kustomize(kustomization: Path, kustomize: dict[str, Any]) -> None:
    """Write an Application's `spec.source.kustomize` into its folder, as Argo CD does before a build."""
    unknown = set(kustomize) - {"images", "patches"}
    if unknown:
        raise CloudctlError(
            f"{kustomization}: Application kustomize field(s) {sorted(unknown)} are not rehearsed offline"
        )
    doc = yaml.safe_load(kustomization.read_text()) or {}
    overrides = kustomize.get("images") or []
    if overrides:
        images: list[dict[str, Any]] = doc.setdefault("images", [])
        for override in overrides:
            entry = _image_entry(override)
            existing = next((image for image in images if image.get("name") == entry["name"]), None)
            if existing is None:
                images.append(entry)
            else:
                existing.update(entry)
    if kustomize.get("patches"):
        doc.setdefault("patches", []).extend(copy.deepcopy(kustomize["patches"]))
    kustomization.write_text(yaml.safe_dump(doc, sort_keys=False))
