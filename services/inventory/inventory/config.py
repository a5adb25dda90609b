"""Inventory's settings (docs/contract.md, environment variables)."""

from common import config

SETTINGS = (
    config.port_setting(8080),
    config.LOG_LEVEL,
    config.GUNICORN_WORKERS,
    config.MAX_BODY_BYTES,
    config.DATABASE_URL,
    config.PGPASSWORD,
)
