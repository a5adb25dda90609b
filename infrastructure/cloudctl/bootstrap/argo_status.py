"""Argo CD's Applications as `kubectl get applications -o json` reports them: converged or not, and why.

`up` waits on this, `status` prints its table, and `down` takes its sync waves. Ordering is the
root first (cloudctl applies it), then sync wave, then name: the order Argo CD syncs them in, so the
first Application that is not Synced and Healthy is usually the one the others wait for.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from cloudctl.bootstrap.shell import StepError

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
HTTP_TIMEOUT_S = 10


@dataclass(frozen=True)
class AppState:
    name: str
    project: str
    wave: int
    sync: str
    health: str
    resource: str  # the first resource not Synced and Healthy, "" when there is none
    message: str  # Argo CD's own words: conditions and the last operation's message

    @property
    def converged(self) -> bool:
        return self.sync == "Synced" and self.health == "Healthy"


def _wave(meta: dict[str, Any]) -> int:
    try:
        return int((meta.get("annotations") or {}).get(SYNC_WAVE, 0))
    except (TypeError, ValueError):
        return 0


def _first_unhealthy_resource(status: dict[str, Any]) -> str:
    for res in status.get("resources") or []:
        health = res.get("health") or {}
        if (health.get("status") not in (None, "Healthy")) or res.get("status") == "OutOfSync":
            where = "/".join(part for part in (res.get("namespace"), res.get("name")) if part)
            state = health.get("status") or res.get("status", "")
            detail = f" ({health['message']})" if health.get("message") else ""
            return f"{res.get('kind', '?')} {where} {state}{detail}"
    return ""


def _messages(status: dict[str, Any]) -> str:
    said = [f"{c.get('type', '')}: {c.get('message', '')}" for c in status.get("conditions") or []]
    operation = (status.get("operationState") or {}).get("message")
    if operation:
        said.append(operation)
    return "; ".join(" ".join(text.split()) for text in said)


def parse(text: str, root: str) -> list[AppState]:
    try:
        items = json.loads(text).get("items") or []
    except (json.JSONDecodeError, AttributeError) as err:
        raise StepError(f"kubectl get applications -o json: not a list of Applications ({err})") from err
    apps = []
    for item in items:
        meta, spec, status = item.get("metadata") or {}, item.get("spec") or {}, item.get("status") or {}
        apps.append(
            AppState(
                name=meta.get("name", "?"),
                project=spec.get("project", ""),
                wave=_wave(meta),
                sync=(status.get("sync") or {}).get("status") or "Unknown",
                health=(status.get("health") or {}).get("status") or "Unknown",
                resource=_first_unhealthy_resource(status),
                message=_messages(status),
            )
        )
    return sorted(apps, key=lambda app: (app.name != root, app.wave, app.name))


def converged(apps: list[AppState], root: str) -> bool:
    return any(app.name == root for app in apps) and all(app.converged for app in apps)


def progress(apps: list[AppState], root: str) -> str:
    if not any(app.name == root for app in apps):
        return f"no Application {root} yet"
    done = sum(app.converged for app in apps)
    waiting = next((app for app in apps if not app.converged), None)
    tail = f"; waiting for {waiting.name} ({waiting.sync}/{waiting.health})" if waiting else ""
    return f"{done}/{len(apps)} Applications Synced and Healthy{tail}"


def diagnosis(apps: list[AppState], root: str) -> str:
    """One line: the first Application not Synced and Healthy, its first such resource, Argo CD's message."""
    if not any(app.name == root for app in apps):
        return (
            f"Argo CD has not generated the Application {root} (is the cluster Secret labelled for this env?)"
        )
    first = next((app for app in apps if not app.converged), None)
    if first is None:
        return "every Application is Synced and Healthy"
    parts = [f"first not ready: {first.name} (wave {first.wave}) {first.sync}/{first.health}"]
    if first.resource:
        parts.append(f"resource {first.resource}")
    if first.message:
        parts.append(f"Argo CD: {first.message}")
    return "; ".join(parts)


def table(apps: list[AppState]) -> list[str]:
    rows = [("NAME", "WAVE", "SYNC", "HEALTH", "MESSAGE")]
    rows += [
        (
            app.name,
            str(app.wave),
            app.sync,
            app.health,
            "; ".join(p for p in (app.resource, app.message) if p),
        )
        for app in apps
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    padded = (cell.ljust(width) for row in rows for cell, width in zip(row, widths, strict=False))
    cells = list(padded)
    return ["  ".join([*cells[n * 4 : n * 4 + 4], row[4]]).rstrip() for n, row in enumerate(rows)]


def waves_descending(apps: list[AppState]) -> list[tuple[int, list[str]]]:
    """[(wave, names)], highest wave first: the reverse of the order they were created in."""
    ordered = sorted(apps, key=lambda app: (-app.wave, app.name))
    return [(wave, [app.name for app in group]) for wave, group in groupby(ordered, key=lambda app: app.wave)]


def http_status(url: str) -> str:
    """The HTTP status code of GET url as text, or why there was none."""
    try:
        with urllib.request.urlopen(url, timeout=HTTP_TIMEOUT_S) as reply:  # noqa: S310 -- http(s) only
            return str(reply.status)
    except urllib.error.HTTPError as err:
        return str(err.code)
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        return f"no answer ({' '.join(str(reason).split())})"
