"""Billing's settings (docs/contract.md, environment variables): one tuple per process."""

import re

from common import config

_QUEUE_NAME = re.compile(r"^[A-Za-z0-9_.:-]{1,200}$")


def parse_queue_name(raw: str) -> str:
    """A plain AMQP queue name; `.retry`/`.dlq` are appended, so the whole stays under 255 bytes."""
    value = raw.strip()
    if not _QUEUE_NAME.match(value):
        raise ValueError(f"must be 1-200 characters of letters, digits, '_.:-', got {raw!r}")
    return value


AMQP_URL = config.Setting(
    "AMQP_URL", True, None, config.parse_url(("amqp", "amqps")), "RabbitMQ URL with user, password and vhost"
)
BILLING_QUEUE = config.Setting(
    "BILLING_QUEUE",
    False,
    "billing_queue",
    parse_queue_name,
    "work queue (`.retry` and `.dlq` derive from it)",
)
WORKER_PREFETCH = config.Setting(
    "WORKER_PREFETCH", False, "20", config.parse_int(1, 1000), "unacknowledged messages one worker holds"
)
WORKER_MAX_RETRIES = config.Setting(
    "WORKER_MAX_RETRIES",
    False,
    "3",
    config.parse_int(0, 100),
    "retries of a failing order (via `<q>.retry`) before it goes to `<q>.dlq`",
)

API_SETTINGS = (
    config.port_setting(8080),
    config.LOG_LEVEL,
    config.GUNICORN_WORKERS,
    config.MAX_BODY_BYTES,
    config.DATABASE_URL,
    config.PGPASSWORD,
)

WORKER_SETTINGS = (
    config.port_setting(8080),
    config.LOG_LEVEL,
    config.DATABASE_URL,
    config.PGPASSWORD,
    AMQP_URL,
    BILLING_QUEUE,
    config.INVENTORY_URL,
    WORKER_PREFETCH,
    WORKER_MAX_RETRIES,
)
