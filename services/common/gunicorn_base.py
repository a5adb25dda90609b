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
from typing import TYPE_CHECKING, Any

from common import config, jsonlog

if TYPE_CHECKING:
    from gunicorn.arbiter import Arbiter
    from gunicorn.workers.base import Worker

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

# gunicorn's gthread worker (as JsonErrorWorker, which only changes its 414/431 answers), chosen
# by measurement in one pod's shape: docs/decisions/gunicorn-workers.md.
WORKER_CLASS = "common.gunicorn_worker.JsonErrorWorker"
THREADS = 1
# Paired with the ALB's idle timeout (60 s, infrastructure/terraform/modules/load_balancer): a
# target must keep an idle connection open longer than the ALB does, or the ALB may reuse one the
# target has just closed and answer 502. The same holds for the gateway's pooled connections
# to inventory and billing.
KEEPALIVE_SECONDS = 75
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


def _child_exit(_server: Arbiter, worker: Worker) -> None:
    from common import metrics  # imported here, after the env var is set

    # types-gunicorn says str (the '[booting]' placeholder); the master sets the child's int pid at fork.
    metrics.mark_process_dead(int(worker.pid))


def _import_settings(spec: str) -> tuple[config.Setting, ...]:
    module_name, _, attribute = spec.partition(":")
    return tuple(getattr(importlib.import_module(module_name), attribute))


def _require_multiprocess_metrics() -> None:
    """Fail loudly if prometheus_client was imported before the directory was set."""
    if "prometheus_client" in sys.modules and not os.environ.get(MULTIPROC_ENV):
        raise RuntimeError("prometheus_client was imported before PROMETHEUS_MULTIPROC_DIR was set")


def gunicorn_settings(service: str, settings_spec: str) -> dict[str, Any]:
    """Validate the service's env in the master (bad env: one line, exit 2) and return settings.

    `settings_spec` is "module:ATTRIBUTE" naming the service's Setting tuple.
    """
    _require_multiprocess_metrics()
    prepare_multiproc_dir(service)
    values = config.load_or_exit(_import_settings(settings_spec))
    return {
        "bind": f"0.0.0.0:{values['PORT']}",
        "workers": values.get("GUNICORN_WORKERS") or config.DEFAULT_GUNICORN_WORKERS,
        "worker_class": WORKER_CLASS,
        "threads": THREADS,
        "keepalive": KEEPALIVE_SECONDS,
        "loglevel": values["LOG_LEVEL"].lower(),
        "accesslog": "-",
        "errorlog": "-",
        "access_log_format": jsonlog.ACCESS_LOG_FORMAT,
        "logconfig_dict": jsonlog.logging_config(service, values["LOG_LEVEL"]),
        "child_exit": _child_exit,
        "timeout": 30,
        "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
        # gunicorn's control socket defaults to one path per user ($HOME/.gunicorn): several
        # services on one machine would fight over it, and the image's root fs is read-only.
        "control_socket_disable": True,
    }
