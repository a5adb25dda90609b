"""Structured logs: one JSON object per line on stdout (python-json-logger), with the request id.

`logging_config(service, level)` is the one logging setup of every process: `configure` applies
it (the apps, the worker, the migrations), and each gunicorn.conf.py hands the same dict to
gunicorn as `logconfig_dict`, so gunicorn's error and access logs are the same JSON lines.

Named jsonlog (not logging) so it never shadows the standard library module.
"""

from __future__ import annotations

import contextvars
import logging
import logging.config
from collections.abc import Mapping
from typing import Any

# The id of the request being served in this thread/context; None outside a request.
request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

# gunicorn's access log line: its text, and which of its atoms become fields (AccessLogFields).
ACCESS_LOG_FORMAT = "%(m)s %(U)s %(s)s"
REQUEST_ID_ATOM = "{x-request-id}o"  # the response's X-Request-ID, which common.web always sets


class RequestIdFilter(logging.Filter):
    """Gives every record the id of the request it was logged in (unless it names one itself)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        return True


class AccessLogFields(logging.Filter):
    """gunicorn logs each request with its atoms as the record's args; some become fields.

    The access line is written after the app's request context has ended, so its request id
    comes from the response's X-Request-ID header.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        atoms = record.args
        if isinstance(atoms, Mapping):
            record.method = atoms["m"]
            record.path = atoms["U"]
            # gunicorn gives the status as an int or a string, the duration (µs) as an int: str() takes both.
            record.status = int(str(atoms["s"]))
            record.duration_ms = round(int(str(atoms["D"])) / 1000, 2)
            record.remote_addr = atoms["h"]
            sent = atoms[REQUEST_ID_ATOM]
            record.request_id = None if sent == "-" else sent
        return True


def logging_config(service: str, level: str = "INFO") -> dict[str, Any]:
    """A logging.config.dictConfig dict: every logger, gunicorn's included, as JSON on stdout."""
    handler = {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "json"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {
                "()": "pythonjsonlogger.json.JsonFormatter",
                "fmt": ["levelname", "name", "message"],
                "rename_fields": {"levelname": "level", "name": "logger", "exc_info": "exception"},
                "static_fields": {"service": service},
                "timestamp": "ts",
            }
        },
        "filters": {
            "request_id": {"()": RequestIdFilter},
            "access_fields": {"()": AccessLogFields},
        },
        "handlers": {"json": {**handler, "filters": ["request_id"]}},
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            "gunicorn.error": {"level": level, "handlers": ["json"], "propagate": False},
            "gunicorn.access": {
                "level": "INFO",
                "handlers": ["json"],
                "filters": ["access_fields"],
                "propagate": False,
            },
        },
    }


def configure(service: str, level: str = "INFO") -> None:
    """Send every log record of this process to stdout as JSON lines (idempotent)."""
    logging.config.dictConfig(logging_config(service, level))
