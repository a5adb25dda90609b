"""The outbox relay's SQL on the real database: partial failure and concurrent relays.

The publish function is a stand-in for RabbitMQ here (the broker cannot be made to fail at an
exact row, nor to stall on demand); the database side is the real one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from billing.amqp import BrokerUnavailable
from billing.outbox_relay import relay_once
from billingkit import BillingWorld
from common.db import Database


@pytest.fixture
def db(billing_world: BillingWorld) -> Iterator[Database]:
    database = Database(billing_world.database_url)
    billing_world.query("DELETE FROM outbox")  # only this test's rows count
    yield database
    database.close()
    billing_world.query("DELETE FROM outbox")  # leave no row for a later test's relay


def stale_orders(world: BillingWorld, count: int, user_id: int) -> list[str]:
    """Committed orders whose outbox rows are old enough for the relay (their publish never happened)."""
    rows = world.query(
        """
        WITH o AS (INSERT INTO orders (user_id, movie_id, price)
                   SELECT %s, m, 1 FROM generate_series(1, %s) AS m RETURNING id)
        INSERT INTO outbox (order_id, created_at) SELECT id, now() - interval '1 minute' FROM o
        RETURNING order_id::text
        """,
        (user_id, count),
    )
    return [row[0] for row in rows]


def outbox_order_ids(world: BillingWorld) -> set[str]:
    return {row[0] for row in world.query("SELECT order_id::text FROM outbox")}


def test_rows_published_before_a_broker_failure_are_deleted_the_rest_kept(
    db: Database, billing_world: BillingWorld
) -> None:
    orders = stale_orders(billing_world, 5, 701)
    published: list[str] = []

    def broker_dies_after_two(order_id: str) -> None:
        if len(published) == 2:
            raise BrokerUnavailable("stand-in: connection lost")
        published.append(order_id)

    with pytest.raises(BrokerUnavailable):
        relay_once(db, broker_dies_after_two, min_age_seconds=3)
    assert len(published) == 2
    assert outbox_order_ids(billing_world) == set(orders) - set(published)

    assert relay_once(db, published.append, min_age_seconds=3) == 3
    assert sorted(published) == sorted(orders) and outbox_order_ids(billing_world) == set()


def test_fresh_rows_are_left_to_the_api(db: Database, billing_world: BillingWorld) -> None:
    billing_world.query(
        "WITH o AS (INSERT INTO orders (user_id, movie_id, price) VALUES (702, 1, 1) RETURNING id)"
        " INSERT INTO outbox (order_id) SELECT id FROM o"
    )
    assert relay_once(db, lambda _: pytest.fail("a fresh row must not be relayed"), min_age_seconds=3) == 0
    assert len(outbox_order_ids(billing_world)) == 1


def test_concurrent_relays_never_publish_a_row_twice(db: Database, billing_world: BillingWorld) -> None:
    orders = stale_orders(billing_world, 60, 703)
    published: dict[str, list[str]] = {"a": [], "b": []}

    def relay(name: str) -> None:
        def slow_publish(order_id: str) -> None:
            time.sleep(0.005)  # holds the claimed rows long enough for the other relay to run
            published[name].append(order_id)

        while relay_once(db, slow_publish, min_age_seconds=3, batch_size=10):
            pass

    threads = [threading.Thread(target=relay, args=(name,)) for name in published]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert published["a"] and published["b"], "both relays must have claimed rows"
    assert sorted(published["a"] + published["b"]) == sorted(orders)  # each exactly once
    assert outbox_order_ids(billing_world) == set()
