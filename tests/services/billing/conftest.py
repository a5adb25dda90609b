"""Billing fixtures: a database and queue of the billing tests' own (so the full stack's worker
and relay never touch what these tests count), the API under gunicorn, workers on demand."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import servicekit
from billingkit import BillingWorld, Broker, StandInInventory
from servicekit import RUN_ID, Launcher, ServiceProcess


@pytest.fixture(scope="session")
def billing_world() -> Iterator[BillingWorld]:
    queue = f"billing_queue_t{RUN_ID}_w"
    inventory = StandInInventory()
    try:
        with servicekit.fresh_database(f"billing_t{RUN_ID}_w", "billing.migrate") as url:
            yield BillingWorld(url, queue, inventory.url)
    finally:
        servicekit.delete_queues(queue)
        inventory.close()


@pytest.fixture(scope="session")
def billing_api(start_session_service: Launcher, billing_world: BillingWorld) -> ServiceProcess:
    """The billing API under gunicorn (2 workers), shared by the billing tests."""
    return start_session_service("billing", billing_world.env())


@pytest.fixture
def broker(billing_world: BillingWorld) -> Iterator[Broker]:
    """The billing queues and the outbox, emptied before the test (earlier tests leave orders
    in the outbox that a worker's relay would publish, and messages in the queues)."""
    billing_world.query("DELETE FROM outbox")
    client = Broker(billing_world.topology)
    client.purge_all()
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def start_worker(start_service: Launcher, billing_world: BillingWorld, broker: Broker):
    """start_worker(**env) -> a ready `python -m billing.worker` on this world; stopped after the test."""

    def start(**extra: str) -> ServiceProcess:
        worker = start_service("billing-worker", billing_world.env(**extra))
        servicekit.wait_healthy(worker, path="/ready")  # consuming, not just answering HTTP
        return worker

    return start
