"""Prometheus metrics shared by every service, correct under gunicorn with several workers.

Service-specific metrics live with their service (billing.metrics, billing.worker_metrics), so
each process exposes only the series it can move.

When PROMETHEUS_MULTIPROC_DIR is set (the gunicorn configs set it before anything imports
prometheus_client), each process writes its values to mmapped files in that directory and
`render()` aggregates them with MultiProcessCollector; otherwise the default registry is used.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"

http_requests_total = Counter("http_requests_total", "HTTP requests served", ["route", "method", "status"])
http_request_duration_seconds = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency in seconds",
    ["route", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


def render() -> tuple[bytes, str]:
    """The exposition text for /metrics and its content type."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int) -> None:
    """Drop a finished process's live gauges (called from gunicorn's child_exit)."""
    if os.environ.get(MULTIPROC_ENV):
        multiprocess.mark_process_dead(pid)
