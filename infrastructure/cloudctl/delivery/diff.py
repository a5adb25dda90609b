"""The rendered-manifest diff between two revisions: which objects change, in which target.

Objects are matched by (kind, namespace, name) within each render target, so a reordering is no
change and a rename shows as one removal plus one addition. Secret values never reach the output:
each value is replaced by a short digest, which still shows *that* a value changed.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cloudctl.delivery import render
from cloudctl.manifests.contract import spec

Key = tuple[str, str, str]  # kind, namespace, name
Rendered = dict[str, list[dict[str, Any]]]  # target -> its objects


@dataclass
class TargetDiff:
    target: str
    added: list[Key] = field(default_factory=list)
    removed: list[Key] = field(default_factory=list)
    changed: list[Key] = field(default_factory=list)
    patch: str = ""

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def object_key(obj: dict[str, Any]) -> Key:
    metadata = obj.get("metadata") or {}
    return (str(obj.get("kind")), str(metadata.get("namespace") or ""), str(metadata.get("name") or ""))


def label(key: Key) -> str:
    kind, namespace, name = key
    return f"{kind} {namespace}/{name}" if namespace else f"{kind} {name}"


def redact(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy of the object with every Secret value replaced by a digest of it."""
    if obj.get("kind") != "Secret":
        return obj
    safe = copy.deepcopy(obj)
    for section in ("data", "stringData"):
        values = safe.get(section)
        if isinstance(values, dict):
            for name, value in values.items():
                digest = hashlib.sha256(str(value).encode()).hexdigest()[:12]
                values[name] = f"<redacted sha256:{digest}>"
    return safe


def _text(obj: dict[str, Any]) -> list[str]:
    return yaml.safe_dump(redact(obj), sort_keys=True, default_flow_style=False).splitlines(keepends=True)


def render_pair(base_tree: Path, head_tree: Path) -> tuple[Rendered, Rendered]:
    """Both revisions rendered. A base older than contract.yaml (the merge request that adds it is
    diffed against such a base) has no ECR image names of its own: its render borrows the head's
    contract.yaml, so the diff shows the tree's changes rather than failing on the missing file."""
    contract_root = None if (base_tree / spec.FILE).is_file() else head_tree
    return render.render_tree(base_tree, contract_root), render.render_tree(head_tree)


def diff_trees(
    base: dict[str, list[dict[str, Any]]], head: dict[str, list[dict[str, Any]]], context: int = 3
) -> list[TargetDiff]:
    """One TargetDiff per target present at either revision, in target order."""
    result = []
    for target in sorted(set(base) | set(head)):
        old = {object_key(o): o for o in base.get(target, [])}
        new = {object_key(o): o for o in head.get(target, [])}
        entry = TargetDiff(target)
        chunks = []
        for key in sorted(set(old) | set(new)):
            before = _text(old[key]) if key in old else []
            after = _text(new[key]) if key in new else []
            if before == after:
                continue
            (entry.added if not before else entry.removed if not after else entry.changed).append(key)
            name = f"{target}: {label(key)}"
            chunks.append("".join(difflib.unified_diff(before, after, f"a/{name}", f"b/{name}", n=context)))
        entry.patch = "".join(chunks)
        result.append(entry)
    return result


def as_text(diffs: list[TargetDiff], base_label: str, head_label: str) -> str:
    changed = [d for d in diffs if not d.empty]
    lines = [
        f"rendered manifests: {base_label} -> {head_label}: {len(changed)} of {len(diffs)} targets change"
    ]
    for d in changed:
        lines.append(f"{d.target}: +{len(d.added)} ~{len(d.changed)} -{len(d.removed)}")
    text = "\n".join(lines) + "\n"
    return text + "".join(d.patch if d.patch.endswith("\n") else d.patch + "\n" for d in changed)


def as_markdown(diffs: list[TargetDiff], base_label: str, head_label: str, budget: int = 900_000) -> str:
    """An MR note: a summary table, then one collapsed diff per target, cut to `budget` characters."""
    changed = [d for d in diffs if not d.empty]
    out = [f"### Rendered manifests: `{base_label}` → `{head_label}`\n"]
    if not changed:
        out.append(f"\nNo Kubernetes object changes in any of the {len(diffs)} rendered targets.\n")
        return "".join(out)
    out.append("\n| target | added | changed | removed |\n|---|---:|---:|---:|\n")
    out += [f"| `{d.target}` | {len(d.added)} | {len(d.changed)} | {len(d.removed)} |\n" for d in changed]
    out.append(f"\n{len(diffs) - len(changed)} other targets render identically.\n")
    used = sum(map(len, out))
    for d in changed:
        objects = ", ".join(label(k) for k in d.added + d.changed + d.removed)
        summary = f"<summary><code>{d.target}</code>: {objects}</summary>"
        block = f"\n<details>{summary}\n\n```diff\n{d.patch}```\n\n</details>\n"
        if used + len(block) > budget:
            out.append(
                "\n**The rest of the diff is too long for a note:** see the `manifest-diff` job's artifact.\n"
            )
            break
        out.append(block)
        used += len(block)
    return "".join(out)
