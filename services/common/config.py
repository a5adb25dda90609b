"""Configuration from environment variables only, validated at start.

Each process declares a tuple of `Setting`s; `load` parses them into a dict and raises
`ConfigError("NAME: why")` on the first problem. The README table and the manifest contract
tests read the same tuples, so code, docs and manifests cannot drift apart.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


class ConfigError(Exception):
    """A missing or invalid setting; the message starts with the variable's name."""


@dataclass(frozen=True)
class Setting:
    name: str
    required: bool
    default: str | None  # as it would appear in the environment; parsed like a real value
    parse: Callable[[str], Any]
    description: str


# --- parsers: take the raw string, return the value or raise ValueError("why") -------------


def parse_str(raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ValueError("must not be empty")
    return value


def parse_int(min_value: int | None = None, max_value: int | None = None) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw.strip(), 10)
        except ValueError:
            raise ValueError(f"must be an integer, got {raw!r}") from None
        _check_range(value, min_value, max_value)
        return value

    parse.__doc__ = _range_text("integer", min_value, max_value)
    return parse


def parse_float(min_value: float | None = None, max_value: float | None = None) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw.strip())
        except ValueError:
            raise ValueError(f"must be a number, got {raw!r}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"must be a finite number, got {raw!r}")
        _check_range(value, min_value, max_value)
        return value

    parse.__doc__ = _range_text("number", min_value, max_value)
    return parse


def parse_url(schemes: Iterable[str]) -> Callable[[str], str]:
    allowed = tuple(schemes)

    def parse(raw: str) -> str:
        value = raw.strip()
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises ValueError on a bad port
        except ValueError as exc:
            raise ValueError(f"is not a valid URL: {exc}") from None
        if parts.scheme not in allowed:
            raise ValueError(f"must be a URL with scheme {' or '.join(allowed)}, got {_redact(value)!r}")
        if not parts.hostname:
            raise ValueError(f"must name a host, got {_redact(value)!r}")
        return value

    parse.__doc__ = f"URL ({', '.join(allowed)})"
    return parse


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def parse_log_level(raw: str) -> str:
    value = raw.strip().upper()
    if value not in LOG_LEVELS:
        raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, got {raw!r}")
    return value


def _check_range(value: float, min_value: float | None, max_value: float | None) -> None:
    if min_value is not None and value < min_value:
        raise ValueError(f"must be >= {min_value}, got {value}")
    if max_value is not None and value > max_value:
        raise ValueError(f"must be <= {max_value}, got {value}")


def _range_text(kind: str, min_value: float | None, max_value: float | None) -> str:
    low = "" if min_value is None else f"{min_value}"
    high = "" if max_value is None else f"{max_value}"
    return f"{kind} {low}..{high}" if (low or high) else kind


def _redact(url: str) -> str:
    """Never echo a password from a URL into an error line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":***@", 1)


# --- loading -----------------------------------------------------------------------------------


def load(settings: Iterable[Setting], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in settings:
        raw = env.get(setting.name)
        if raw is None or raw == "":
            if setting.required:
                raise ConfigError(f"{setting.name}: is required but not set")
            if setting.default is None:
                values[setting.name] = None
                continue
            raw = setting.default
        try:
            values[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{setting.name}: {exc}") from None
    return values


def load_or_exit(settings: Iterable[Setting], environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Load, or print exactly one line `config error: NAME: why` to stderr and exit 2."""
    try:
        return load(settings, environ)
    except ConfigError as exc:
        logging.shutdown()
        print(f"config error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


# --- settings more than one service declares (one definition, shared) -------------------------


def port_setting(default: int) -> Setting:
    return Setting("PORT", False, str(default), parse_int(1, 65535), "TCP port the HTTP server listens on")


LOG_LEVEL = Setting("LOG_LEVEL", False, "INFO", parse_log_level, "log level: " + ", ".join(LOG_LEVELS))

# Chosen by measurement on the 2-core reference machine (docs/benchmarks.md): with the worker
# classes of common.gunicorn_base, 2 per service (one per core) beat 3 and 4 on every figure.
# Fewer, busier processes sleep and wake less often, and each wake-up costs CPU. The cluster's
# ConfigMaps set the same 2 per pod; the HPA adds pods.
DEFAULT_GUNICORN_WORKERS = 2
GUNICORN_WORKERS = Setting(
    "GUNICORN_WORKERS",
    False,
    str(DEFAULT_GUNICORN_WORKERS),
    parse_int(1, 64),
    "gunicorn worker processes (default measured: docs/decisions/gunicorn-workers.md)",
)
MAX_BODY_BYTES = Setting(
    "MAX_BODY_BYTES",
    False,
    "65536",
    parse_int(1024, 10 * 1024 * 1024),
    "largest request body accepted (413 above)",
)
DATABASE_URL = Setting(
    "DATABASE_URL",
    True,
    None,
    parse_url(("postgresql", "postgres")),
    "PostgreSQL URL without the password (libpq reads PGPASSWORD)",
)
INVENTORY_URL = Setting("INVENTORY_URL", True, None, parse_url(("http", "https")), "base URL of inventory")
PGPASSWORD = Setting(
    "PGPASSWORD",
    False,
    None,
    str,
    "database password, read by libpq (a Secret in the cluster; unset locally)",
)
