"""The image-tag writer for overlays/<env>/images/kustomization.yaml.

The file is a Kustomize Component holding only `images:` entries `{name, newTag}`: no registry,
which is account-specific and reaches the cluster through the Argo CD cluster Secret (and the jobs
through registry.py). Only the scalar after `newTag:` is ever rewritten, in place on its line, so
comments, quoting, key order and indentation stay exactly as the humans who wrote the file left
them. ruamel.yaml's round-trip loader is used only to find where each newTag scalar sits; the bytes
are edited directly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from cloudctl.errors import CloudctlError

# The OCI/Docker tag grammar. `latest` is refused: a moving tag cannot be reviewed or rolled back.
TAG_PATTERN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
FORBIDDEN_TAGS = frozenset({"latest"})


ENV_PATTERN = re.compile(r"[a-z][a-z0-9-]{0,30}")


@dataclass(frozen=True)
class ImageEntry:
    name: str
    new_tag: str | None


def images_path(env: str) -> str:
    """Where an environment's image tags live, relative to the repository root (docs/contract.md)."""
    if not ENV_PATTERN.fullmatch(env or ""):
        raise CloudctlError(f"malformed environment name {env!r}")
    return f"overlays/{env}/images/kustomization.yaml"


def images_file(root: Path, env: str) -> Path:
    return root / images_path(env)


def validate_tag(tag: str) -> str:
    if not isinstance(tag, str) or not TAG_PATTERN.fullmatch(tag):
        raise CloudctlError(f"malformed image tag {tag!r}: expected [A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}")
    if tag in FORBIDDEN_TAGS:
        raise CloudctlError(f"image tag {tag!r} is not allowed: use an immutable tag such as the commit SHA")
    return tag


def _load_entries(source: str, text: str) -> list[Any]:
    try:
        document = YAML(typ="rt").load(text)
    except YAMLError as err:
        raise CloudctlError(f"{source}: not valid YAML: {str(err).splitlines()[0]}") from err
    images = document.get("images") if hasattr(document, "get") else None
    if not isinstance(images, list):
        raise CloudctlError(f"{source}: no `images:` list")
    for entry in images:
        if not hasattr(entry, "get") or not isinstance(entry.get("name"), str):
            raise CloudctlError(f"{source}: every `images:` entry needs a name")
    return images


def read_tags(path: Path) -> dict[str, str | None]:
    """Image name -> newTag (None when an entry has no newTag)."""
    return tags_in_text(_read(path), str(path))


def set_tags(path: Path, tags: dict[str, str]) -> list[str]:
    """Write `tags` (image name -> tag) into the file; return the names whose tag changed.

    Idempotent: writing the tags the file already holds changes no byte and returns [].
    """
    new_text, changed = update_text(_read(path), tags, str(path))
    if changed:
        path.write_text(new_text)
    return changed


def update_text(text: str, tags: dict[str, str], source: str) -> tuple[str, list[str]]:
    """The text with `tags` written in, and the names whose tag changed. `source` names it in errors."""
    for tag in tags.values():
        validate_tag(tag)
    entries = {entry["name"]: entry for entry in _load_entries(source, text)}
    unknown = sorted(set(tags) - set(entries))
    if unknown:
        raise CloudctlError(
            f"{source}: no images entry named {', '.join(unknown)} (known: {', '.join(sorted(entries))})"
        )

    lines = text.splitlines(keepends=True)
    changed = []
    for name, tag in sorted(tags.items()):
        entry = entries[name]
        if "newTag" not in entry:
            raise CloudctlError(f"{source}: images entry {name!r} has no newTag to update")
        if _as_text(entry["newTag"]) == tag:
            continue
        line_no, column = entry.lc.value("newTag")
        lines[line_no] = _replace_scalar(lines[line_no], column, tag, source)
        changed.append(name)
    if not changed:
        return text, []
    new_text = "".join(lines)
    _verify(source, text, new_text, tags)
    return new_text, changed


def tags_in_text(text: str, source: str) -> dict[str, str | None]:
    """Image name -> newTag for a file's text (e.g. read through the GitLab API)."""
    return {name: entry.new_tag for name, entry in entries_in_text(text, source).items()}


def entries_in_text(text: str, source: str) -> dict[str, ImageEntry]:
    return {
        entry["name"]: ImageEntry(entry["name"], _as_text(entry.get("newTag")))
        for entry in _load_entries(source, text)
    }


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as err:
        raise CloudctlError(f"cannot read {path}: {err.strerror}") from err


def _as_text(value: object) -> str | None:
    return None if value is None else str(value)


# A scalar at `column`: double-quoted, single-quoted or plain (up to a comment, a flow indicator or the end).
_SCALAR = re.compile(
    r"\"(?:[^\"\\]|\\.)*\"|'(?:[^']|'')*'|[^\s#,\[\]{}][^#\n,\[\]{}]*?(?=\s*[,\]}]|\s+#|\s*$)"
)


def _replace_scalar(line: str, column: int, tag: str, source: str) -> str:
    match = _SCALAR.match(line, column)
    if not match:
        raise CloudctlError(f"{source}: cannot find the newTag value on line {line!r}")
    old = match.group(0)
    if old.startswith('"'):
        new = f'"{tag}"'
    elif old.startswith("'"):
        new = f"'{tag}'"
    else:
        # Plain style stays plain unless YAML would read the tag as something else (e.g. 1.10 or 0e5).
        new = tag if yaml.safe_load(tag) == tag else f'"{tag}"'
    return line[: match.start()] + new + line[match.end() :]


def _verify(source: str, old_text: str, new_text: str, tags: dict[str, str]) -> None:
    """The edit must change the requested newTag values and nothing else in the document."""
    before, after = yaml.safe_load(old_text), yaml.safe_load(new_text)
    for entry in before["images"]:
        if entry["name"] in tags:
            entry["newTag"] = tags[entry["name"]]
    if before != after:
        raise CloudctlError(f"{source}: refusing to write: the edit would change more than the newTag values")
