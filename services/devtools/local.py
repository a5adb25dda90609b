"""The local stack's addresses (one place: bootstrap, make dev's Procfile, bench, .ci/ensure-services
and the tests read them).

PostgreSQL is found through libpq's own `PGHOST` and `PGPORT`, RabbitMQ through `AMQP_URL` (the name
the services read); unset, they are this machine's servers on 127.0.0.1:5432 and 127.0.0.1:5672.
`python -m devtools.local` prints them as shell assignments (`make dev`, `.ci/ensure-services`).

Ports, by contract.yaml's workload names: api-gateway 3000, inventory 8081, billing 8082,
billing-worker 8083 (health only). They are local choices, not the contract's container ports: in
the cluster every service listens on 8080 except the gateway (docs/contract.md).
"""

from __future__ import annotations

import ipaddress
import os
import shlex
from pathlib import Path
from urllib.parse import quote, urlsplit

SERVICES_DIR = Path(__file__).resolve().parents[1]


def _port(name: str, default: int) -> int:
    raw = os.environ.get(name) or str(default)
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ValueError(f"{name}={raw!r} is not a port number")
    return int(raw)


PG_HOST = os.environ.get("PGHOST") or "127.0.0.1"
PG_PORT = _port("PGPORT", 5432)
AMQP_URL = os.environ.get("AMQP_URL") or "amqp://guest:guest@127.0.0.1:5672/%2F"
AMQP_HOST = urlsplit(AMQP_URL).hostname or ""
AMQP_PORT = urlsplit(AMQP_URL).port or 5672


def _url_host(host: str) -> str:
    if host.startswith("/"):  # a socket directory, as libpq allows in PGHOST: percent-encoded in a URL
        return quote(host, safe="")
    return f"[{host}]" if ":" in host else host  # an IPv6 address


def database_url(name: str) -> str:
    """URL of the role and database `name` (both carry the same name; trust auth locally)."""
    return f"postgresql://{name}@{_url_host(PG_HOST)}:{PG_PORT}/{name}"


PG_ADMIN_URL = f"postgresql://postgres@{_url_host(PG_HOST)}:{PG_PORT}/postgres"

PORTS = {"api-gateway": 3000, "inventory": 8081, "billing": 8082, "billing-worker": 8083}
DATABASES = {"inventory": "inventory", "billing": "billing"}


def is_this_machine(host: str) -> bool:
    """True for a loopback address, `localhost` or a socket directory: servers this machine runs."""
    if host == "localhost" or host.startswith("/"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url(workload: str) -> str:
    return f"http://127.0.0.1:{PORTS[workload]}"


def environment(workload: str) -> dict[str, str]:
    """A workload's local settings: its port and where what it calls is (make dev's Procfile)."""
    calls = {
        "api-gateway": {"INVENTORY_URL": url("inventory"), "BILLING_URL": url("billing")},
        "inventory": {"DATABASE_URL": database_url(DATABASES["inventory"])},
        "billing": {"DATABASE_URL": database_url(DATABASES["billing"])},
        "billing-worker": {
            "DATABASE_URL": database_url(DATABASES["billing"]),
            "AMQP_URL": AMQP_URL,
            "INVENTORY_URL": url("inventory"),
        },
    }
    if workload not in PORTS or workload not in calls:
        raise KeyError(f"devtools/local.py has no local port and settings for workload {workload!r}")
    return {"PORT": str(PORTS[workload]), **calls[workload]}


def shell_assignments() -> dict[str, str]:
    """Where PostgreSQL and RabbitMQ are, for .ci/ensure-services to check."""
    return {
        "PG_HOST": PG_HOST,
        "PG_PORT": str(PG_PORT),
        "PG_ON_THIS_MACHINE": "yes" if is_this_machine(PG_HOST) else "no",
        "AMQP_HOST": AMQP_HOST,
        "AMQP_PORT": str(AMQP_PORT),
        "AMQP_ON_THIS_MACHINE": "yes" if is_this_machine(AMQP_HOST) else "no",
        "AMQP_URL": AMQP_URL,
    }


if __name__ == "__main__":  # for `eval` in a shell
    for key, value in shell_assignments().items():
        print(f"{key}={shlex.quote(value)}")
