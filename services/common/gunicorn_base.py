"""Gunicorn settings every service's gunicorn.conf.py starts from.

Usage in a service's gunicorn.conf.py:

    from common.gunicorn_base import gunicorn_settings
    from inventory.config import SETTINGS
    globals().update(gunicorn_settings("inventory", SETTINGS))

Importing this module must not import prometheus_client: PROMETHEUS_MULTIPROC_DIR has to be in
the environment before the first import, because prometheus_client picks its value class then.
"""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Iterable
from typing import Any

from common import config

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Chosen by measurement (docs/benchmarks.md): sync workers beat gthread for these DB-bound and
# proxying Flask apps on 2 cores (threads in one process contend for the GIL).
DEFAULT_WORKER_CLASS = "sync"


def prepare_multiproc_dir(service: str) -> str:
    """Make sure PROMETHEUS_MULTIPROC_DIR names an empty, existing directory (under /tmp when unset)."""
    path = os.environ.get(MULTIPROC_ENV)
    if path:
        os.makedirs(path, exist_ok=True)
        # Values from a previous run of this master would be added to ours: start from zero.
        for stale in glob.glob(os.path.join(path, "*.db")):
            os.remove(stale)
    else:
        path = tempfile.mkdtemp(prefix=f"prometheus-{service}-", dir="/tmp")  # noqa: S108 - /tmp is the emptyDir
        os.environ[MULTIPROC_ENV] = path
    return path


def _child_exit(_server: Any, worker: Any) -> None:
    from common import metrics  # imported here, after the env var is set

    metrics.mark_process_dead(worker.pid)


def gunicorn_settings(
    service: str, settings: Iterable[config.Setting], *, worker_class: str = DEFAULT_WORKER_CLASS
) -> dict[str, Any]:
    """Validate the service's env in the master (bad env: one line, exit 2) and return settings."""
    values = config.load_or_exit(settings)
    prepare_multiproc_dir(service)
    os.environ["CLOUD_DESIGN_SERVICE"] = service  # read by the JSON gunicorn logger
    return {
        "bind": f"0.0.0.0:{values['PORT']}",
        "workers": values.get("WEB_CONCURRENCY") or config.DEFAULT_WEB_CONCURRENCY,
        "worker_class": worker_class,
        "loglevel": values["LOG_LEVEL"].lower(),
        "accesslog": "-",
        "errorlog": "-",
        "logger_class": "common.gunicorn_logging.JsonGunicornLogger",
        "child_exit": _child_exit,
        "timeout": 30,
        "graceful_timeout": 20,
    }
