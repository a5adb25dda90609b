"""Shared fixtures for every service test (billing's tests under tests/services/billing use them).

Per-run isolation: databases/roles `inventory_t<id>` and `billing_t<id>`, queue
`billing_queue_t<id>`; all created with the real commands and removed at the end of the session.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # servicekit lives next to this file

import servicekit  # noqa: E402
from servicekit import AMQP_URL, RUN_ID, Launcher, ServiceProcess  # noqa: E402


@pytest.fixture(scope="session")
def run_id() -> str:
    return RUN_ID


@pytest.fixture(scope="session")
def service_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("service-logs")


@pytest.fixture(scope="session")
def inventory_db() -> Iterator[str]:
    """DATABASE_URL of a fresh, migrated inventory database for this run."""
    with servicekit.fresh_database(f"inventory_t{RUN_ID}", "inventory.migrate") as url:
        yield url


@pytest.fixture(scope="session")
def billing_db() -> Iterator[str]:
    """DATABASE_URL of a fresh, migrated billing database for this run."""
    with servicekit.fresh_database(f"billing_t{RUN_ID}", "billing.migrate") as url:
        yield url


@pytest.fixture(scope="session")
def amqp_url() -> str:
    return AMQP_URL


@pytest.fixture(scope="session")
def billing_queue() -> Iterator[str]:
    """BILLING_QUEUE for this run; its queues (and .retry, .dlq) are deleted at the end."""
    name = f"billing_queue_t{RUN_ID}"
    yield name
    servicekit.delete_queues(name)


@pytest.fixture
def start_service(service_logs: Path) -> Iterator[Launcher]:
    """start_service(workload, env, **kw) -> ServiceProcess; stopped when the test ends.

    workload is a docs/contract.md name: api-gateway, inventory, billing, billing-worker.
    """
    with servicekit.launcher(service_logs) as launch:
        yield launch


@pytest.fixture(scope="session")
def start_session_service(service_logs: Path, billing_queue: str) -> Iterator[Launcher]:
    """Like start_service, but the services live until the end of the session.

    Depends on billing_queue so that pytest tears it down after these services have stopped:
    a running worker would otherwise redeclare the queues the moment they are deleted.
    """
    with servicekit.launcher(service_logs) as launch:
        yield launch


@dataclass
class Stack:
    gateway: ServiceProcess
    inventory: ServiceProcess
    billing: ServiceProcess
    worker: ServiceProcess
    inventory_db: str
    billing_db: str
    billing_queue: str

    @property
    def url(self) -> str:
        return self.gateway.url


@pytest.fixture(scope="session")
def inventory_service(start_session_service: Launcher, inventory_db: str) -> ServiceProcess:
    """Inventory alone under gunicorn (shared by the tests that need no other service)."""
    return start_session_service("inventory", {"DATABASE_URL": inventory_db})


@pytest.fixture(scope="session")
def stack(
    start_session_service: Launcher,
    inventory_service: ServiceProcess,
    billing_db: str,
    billing_queue: str,
    amqp_url: str,
    inventory_db: str,
) -> Stack:
    """The whole system on free ports: inventory, billing API, worker and gateway."""
    billing_env = {"DATABASE_URL": billing_db, "AMQP_URL": amqp_url, "BILLING_QUEUE": billing_queue}
    billing = start_session_service("billing", billing_env)
    worker = start_session_service("billing-worker", {**billing_env, "INVENTORY_URL": inventory_service.url})
    gateway = start_session_service(
        "api-gateway", {"INVENTORY_URL": inventory_service.url, "BILLING_URL": billing.url}
    )
    return Stack(gateway, inventory_service, billing, worker, inventory_db, billing_db, billing_queue)
