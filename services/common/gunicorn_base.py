"""Gunicorn settings every service's gunicorn.conf.py starts from.

Usage in a service's gunicorn.conf.py (the settings are named, not imported, see below):

    from common.gunicorn_base import gunicorn_settings

    globals().update(gunicorn_settings("inventory", "inventory.config:SETTINGS"))

PROMETHEUS_MULTIPROC_DIR has to be in the environment before anything imports prometheus_client
(it picks its value class at import), and importing `inventory.config` imports the `inventory`
package and with it the metrics. So the directory is prepared first, then the settings imported.
"""

from __future__ import annotations

import glob
import importlib
import os
import sys
import tempfile
from typing import Any

from common import config

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# Chosen by measurement on the 2-core machine (docs/benchmarks.md). The gateway takes the public
# connections on sync workers: each worker accepts one connection at a time, so load spreads
# evenly and p99 stays low. The services behind the gateway run our keep-alive worker
# (common/keepalive_worker.py): one request at a time per process like a sync worker, so no GIL
# contention, but connections stay open, so the gateway's pooled client reuses them (no connect,
# accept and close per proxied request), and without gthread's thread hand-off per request.
DEFAULT_WORKER_CLASS = "sync"
DEFAULT_THREADS = 1
DEFAULT_KEEPALIVE_SECONDS = 2  # gunicorn's own default
KEEPALIVE_WORKER_CLASS = "common.keepalive_worker.KeepAliveWorker"
# For inventory and billing. The keep-alive outlasts the gateway's idle gaps, so the service
# rarely closes a pooled connection just as the gateway sends on it.
BEHIND_GATEWAY = {"worker_class": KEEPALIVE_WORKER_CLASS, "keepalive": 75}
# How long a stopping master waits for its workers (below the pods' 30 s termination grace).
GRACEFUL_TIMEOUT_SECONDS = 20


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


def _import_settings(spec: str) -> tuple[config.Setting, ...]:
    module_name, _, attribute = spec.partition(":")
    return tuple(getattr(importlib.import_module(module_name), attribute))


def _require_multiprocess_metrics() -> None:
    """Fail loudly if prometheus_client was imported before the directory was set."""
    values = sys.modules.get("prometheus_client.values")
    if values is not None and not getattr(values.ValueClass, "_multiprocess", False):
        raise RuntimeError("prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set")


def gunicorn_settings(
    service: str,
    settings_spec: str,
    *,
    worker_class: str = DEFAULT_WORKER_CLASS,
    threads: int = DEFAULT_THREADS,
    keepalive: int = DEFAULT_KEEPALIVE_SECONDS,
) -> dict[str, Any]:
    """Validate the service's env in the master (bad env: one line, exit 2) and return settings.

    `settings_spec` is "module:ATTRIBUTE" naming the service's Setting tuple.
    """
    _require_multiprocess_metrics()
    prepare_multiproc_dir(service)
    values = config.load_or_exit(_import_settings(settings_spec))
    _require_multiprocess_metrics()
    os.environ["CLOUD_DESIGN_SERVICE"] = service  # read by the JSON gunicorn logger
    return {
        "bind": f"0.0.0.0:{values['PORT']}",
        "workers": values.get("GUNICORN_WORKERS") or config.DEFAULT_GUNICORN_WORKERS,
        "worker_class": worker_class,
        "threads": threads,  # only gthread uses it
        "keepalive": keepalive,  # ignored by sync workers, which close every connection
        "loglevel": values["LOG_LEVEL"].lower(),
        "accesslog": "-",
        "errorlog": "-",
        "logger_class": "common.gunicorn_logging.JsonGunicornLogger",
        "child_exit": _child_exit,
        "timeout": 30,
        "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
        # gunicorn's control socket defaults to one path per user ($HOME/.gunicorn): several
        # services on one machine would fight over it, and the image's root fs is read-only.
        "control_socket_disable": True,
    }
