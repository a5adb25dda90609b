"""The gateway's settings (docs/contract.md, environment variables)."""

from common import config

SETTINGS = (
    config.port_setting(3000),
    config.LOG_LEVEL,
    config.GUNICORN_WORKERS,
    config.MAX_BODY_BYTES,
    config.INVENTORY_URL,
    config.Setting("BILLING_URL", True, None, config.parse_url(("http", "https")), "base URL of billing"),
    config.Setting(
        "UPSTREAM_CONNECT_TIMEOUT",
        False,
        "2",
        config.parse_float(0.05, 60),
        "seconds to connect to an upstream",
    ),
    config.Setting(
        "UPSTREAM_READ_TIMEOUT",
        False,
        "10",
        config.parse_float(0.05, 300),
        "seconds to wait for an upstream's answer (504 after)",
    ),
)
