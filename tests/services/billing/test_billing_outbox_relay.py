"""The outbox relay on the real database and the real broker.

Two tests use a stand-in publish function instead of RabbitMQ: the broker cannot be made to fail
at an exact row, nor to stall on demand. Everything else is real: the relay's SQL, the NOTIFY
that wakes it, its own PostgreSQL and AMQP connections.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from billing import outbox_relay
from billing.amqp import BrokerUnavailable
from billing.outbox_relay import OutboxRelay, relay_once
from billing.publisher import CONFIRM_TIMEOUT_SECONDS, BatchPublisher
from billingkit import BillingWorld, Broker, CuttableRelay, wait_until
from common.db import Database


@pytest.fixture
def db(billing_world: BillingWorld, broker: Broker) -> Iterator[Database]:
    """The billing database, with an empty outbox (the broker fixture empties it)."""
    database = Database(billing_world.database_url, max_connections=2)  # two relays share it below
    yield database
    database.close()
    billing_world.query("DELETE FROM outbox")  # leave no row for a later test's relay


@pytest.fixture
def publisher(billing_world: BillingWorld) -> Iterator[BatchPublisher]:
    real = BatchPublisher(billing_world.env()["AMQP_URL"], billing_world.topology)
    yield real
    real.close()


def outbox_order_ids(world: BillingWorld) -> set[str]:
    return {row[0] for row in world.query("SELECT order_id::text FROM outbox")}


def test_relay_publishes_persistent_messages_and_deletes_their_rows(
    db: Database, billing_world: BillingWorld, broker: Broker, publisher: BatchPublisher
) -> None:
    orders = billing_world.commit_orders(3, 700)
    assert relay_once(db, publisher.publish_orders) == 3
    assert outbox_order_ids(billing_world) == set()
    messages = broker.take_all(billing_world.queue)
    assert [json.loads(body)["order_id"] for _, body in messages] == orders  # oldest first
    assert {(p.delivery_mode, p.content_type) for p, _ in messages} == {(2, "application/json")}
    assert [p.message_id for p, _ in messages] == orders


def test_rows_published_before_a_broker_failure_are_deleted_the_rest_kept(
    db: Database, billing_world: BillingWorld
) -> None:
    orders = billing_world.commit_orders(5, 701)
    published: list[str] = []

    def broker_dies_after_confirming_two(order_ids: list[str]) -> list[str]:
        published.extend(order_ids[:2])
        raise BrokerUnavailable("stand-in: connection lost", confirmed=order_ids[:2])

    def broker_confirms_all(order_ids: list[str]) -> list[str]:
        published.extend(order_ids)
        return order_ids

    with pytest.raises(BrokerUnavailable):
        relay_once(db, broker_dies_after_confirming_two)
    assert published == orders[:2]  # oldest first
    assert outbox_order_ids(billing_world) == set(orders[2:])

    assert relay_once(db, broker_confirms_all) == 3
    assert published == orders and outbox_order_ids(billing_world) == set()


def test_an_unconfirmed_publish_keeps_the_row_until_the_queue_is_back(
    db: Database, billing_world: BillingWorld, broker: Broker, publisher: BatchPublisher
) -> None:
    [order_id] = billing_world.commit_orders(1, 704)
    assert publisher.publish_orders([]) == []  # connected, the queues declared
    # The queue vanishes under the open channel: the mandatory publish comes back unroutable.
    broker.channel.queue_delete(billing_world.queue)
    with pytest.raises(BrokerUnavailable, match="not confirmed: unroutable"):
        relay_once(db, publisher.publish_orders)
    assert outbox_order_ids(billing_world) == {order_id}
    # The failed publish dropped the connection; the next one reconnects and declares the queue.
    assert relay_once(db, publisher.publish_orders) == 1
    [(_, body)] = broker.take_all(billing_world.queue)
    assert json.loads(body) == {"order_id": order_id}


def test_concurrent_relays_never_publish_a_row_twice(db: Database, billing_world: BillingWorld) -> None:
    orders = billing_world.commit_orders(60, 703)
    published: dict[str, list[str]] = {"a": [], "b": []}

    def relay(name: str) -> None:
        def slow_publish(order_ids: list[str]) -> list[str]:
            time.sleep(0.05)  # holds the claimed rows long enough for the other relay to run
            published[name].extend(order_ids)
            return order_ids

        while relay_once(db, slow_publish, batch_size=10):
            pass

    threads = [threading.Thread(target=relay, args=(name,)) for name in published]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert published["a"] and published["b"], "both relays must have claimed rows"
    assert sorted(published["a"] + published["b"]) == sorted(orders)  # each exactly once
    assert outbox_order_ids(billing_world) == set()


# The relay's LISTEN connection, as pg_stat_activity shows it.
RELAY_LISTENER = (
    "FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN billing_outbox'"
)


@contextlib.contextmanager
def running_relay(db: Database, publisher: BatchPublisher, world: BillingWorld) -> Iterator[OutboxRelay]:
    """An OutboxRelay thread, yielded once it listens; stopped (and proven stopped) after."""
    stop = threading.Event()
    relay = OutboxRelay(db, publisher, stop)
    relay.start()
    try:
        wait_until("the relay listening", lambda: world.scalar(f"SELECT count(*) {RELAY_LISTENER}") == 1, 10)
        yield relay
    finally:
        stop.set()
        relay.join(10)
    assert not relay.is_alive()


def test_the_notify_wakes_the_relay_also_after_its_listening_connection_was_killed(
    db: Database,
    billing_world: BillingWorld,
    broker: Broker,
    publisher: BatchPublisher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without a NOTIFY the relay would look again only after an hour: any prompt publish below
    # was woken by the notification.
    monkeypatch.setattr(outbox_relay, "INTERVAL_SECONDS", 3600)
    listeners = f"SELECT count(*) {RELAY_LISTENER}"
    with running_relay(db, publisher, billing_world):
        [first] = billing_world.commit_orders(1, 705)
        wait_until("first order published", lambda: broker.counts(billing_world.queue)[0] == 1, 10)

        # PostgreSQL drops the relay's listening connection (a restart or failover looks the same).
        billing_world.query(f"SELECT pg_terminate_backend(pid) {RELAY_LISTENER}")
        wait_until("the relay listening again", lambda: billing_world.scalar(listeners) == 1, 15)
        [second] = billing_world.commit_orders(1, 706)
        wait_until("second order published", lambda: broker.counts(billing_world.queue)[0] == 2, 10)
    bodies = [json.loads(body)["order_id"] for _, body in broker.take_all(billing_world.queue)]
    assert bodies == [first, second] and outbox_order_ids(billing_world) == set()


def test_a_batch_is_published_in_order_each_message_confirmed(
    billing_world: BillingWorld, broker: Broker, publisher: BatchPublisher
) -> None:
    order_ids = [str(uuid.uuid4()) for _ in range(150)]
    assert publisher.publish_orders(order_ids) == order_ids
    messages = broker.take_all(billing_world.queue)
    assert [p.message_id for p, _ in messages] == order_ids
    assert [json.loads(body)["order_id"] for _, body in messages] == order_ids


def test_a_broker_that_dies_fails_the_batch_promptly(billing_world: BillingWorld, broker: Broker) -> None:
    with CuttableRelay() as relay:
        publisher = BatchPublisher(relay.amqp_url, billing_world.topology)
        try:
            assert publisher.publish_orders([str(uuid.uuid4())])
            relay.cut()
            started = time.monotonic()
            with pytest.raises(BrokerUnavailable) as failure:
                publisher.publish_orders([str(uuid.uuid4()) for _ in range(5)])
            # Noticed by the connection, not by waiting out the confirm timeout.
            assert time.monotonic() - started < CONFIRM_TIMEOUT_SECONDS / 2
            assert failure.value.confirmed == []
            # The next call reconnects, and fails at once while the broker is gone.
            with pytest.raises(BrokerUnavailable, match="cannot reach RabbitMQ"):
                publisher.publish_orders([str(uuid.uuid4())])
        finally:
            publisher.close()


def test_orders_that_come_one_at_a_time_are_each_published_at_once(
    db: Database,
    billing_world: BillingWorld,
    broker: Broker,
    publisher: BatchPublisher,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(outbox_relay, "INTERVAL_SECONDS", 3600)  # only a NOTIFY wakes it
    with running_relay(db, publisher, billing_world):
        for n in range(1, 4):  # like a lone client: each order after the one before was published
            billing_world.commit_orders(1, 710 + n)
            wait_until(f"order {n} published", lambda n=n: broker.counts(billing_world.queue)[0] == n, 1.0)
