"""Readiness checks, shared by the Flask services' /ready and the worker's health server."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

log = logging.getLogger("common.readiness")

ReadyCheck = Callable[[], object]  # raises, or returns False, when the dependency is not usable


def failing(checks: Mapping[str, ReadyCheck]) -> list[str]:
    """The names of the dependencies whose check fails; each failure is logged with its reason."""
    return [name for name, check in checks.items() if not _passes(name, check)]


def _passes(name: str, check: ReadyCheck) -> bool:
    try:
        return check() is not False
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"; named in the log
        log.warning("readiness check failed", extra={"dependency": name, "reason": str(exc)})
        return False
