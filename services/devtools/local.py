"""The local development stack's addresses (one place; Procfile, bootstrap and bench read them).

Ports: gateway 3000, inventory 8081, billing 8082, worker health 8083 (in the cluster every
service listens on 8080 except the gateway, see docs/contract.md).
"""

from __future__ import annotations

from pathlib import Path

SERVICES_DIR = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/%2F"

PORTS = {"gateway": 3000, "inventory": 8081, "billing": 8082, "worker": 8083}
DATABASES = {"inventory": "inventory", "billing": "billing"}


def database_url(name: str) -> str:
    return f"postgresql://{name}@127.0.0.1:5432/{name}"


def url(process: str) -> str:
    return f"http://127.0.0.1:{PORTS[process]}"
