"""Render an ExternalSecret's target Secret with stand-in values, the way ESO would.

Only the template forms this tree uses are understood ({{ .key }}, {{ .key | urlquery }},
{{ .key | toJson }}); anything else is an error, so a new form gets a renderer before it ships.
The stand-in values contain characters that need escaping, so a missing filter shows up.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import quote_plus

from cloudctl.errors import CloudctlError
from cloudctl.manifests.render import Obj

STAND_IN = 'stand-in:p@ss/w"rd'  # noqa: S105 - not a credential: exercises escaping
PLACEHOLDER = re.compile(r"{{\s*\.(\w+)\s*(?:\|\s*(\w+)\s*)?}}")
FILTERS: dict[str | None, Callable[[str], str]] = {None: str, "urlquery": quote_plus, "toJson": json.dumps}


def remote_keys(es: Obj) -> list[str]:
    """The keys the ExternalSecret fetches (data[].secretKey; find/extract yield username+password)."""
    keys = [item["secretKey"] for item in es.doc["spec"].get("data") or []]
    if es.doc["spec"].get("dataFrom"):
        keys += ["username", "password"]
    return keys


def render_template(text: str, values: dict[str, str], where: str) -> str:
    def replace(match: re.Match[str]) -> str:
        key, name = match.group(1), match.group(2)
        if key not in values:
            raise CloudctlError(f"{where}: template uses .{key}, which the ExternalSecret does not fetch")
        if name not in FILTERS:
            raise CloudctlError(f"{where}: template filter {name!r} is not understood by the validator")
        return FILTERS[name](values[key])

    return PLACEHOLDER.sub(replace, text)


def secret_data(es: Obj) -> dict[str, str]:
    """The Secret's keys and stand-in values, as ESO would write them."""
    values = {key: f"{key}-{STAND_IN}" for key in remote_keys(es)}
    template = (es.doc["spec"].get("target") or {}).get("template")
    if not template:
        return values
    data = template.get("data") or {}
    rendered = {key: render_template(text, values, es.where()) for key, text in data.items()}
    return rendered if template.get("mergePolicy") != "Merge" else {**values, **rendered}


def secret_name(es: Obj) -> str:
    return (es.doc["spec"].get("target") or {}).get("name") or es.name
