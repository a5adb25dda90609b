"""Orders processed in batches (billing.processing.process_orders, Consumer.handle) on the real
PostgreSQL and RabbitMQ: a batch is one transaction that decides each order as if they had been
processed one after the other, and a failing order costs only itself a retry."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import servicekit
from billing import amqp
from billing.consumer import Consumer
from billing.processing import Outcome, process_orders
from billingkit import BillingWorld, Broker, payments_trigger, status_counts
from common.db import Database
from prometheus_client import REGISTRY


@pytest.fixture
def db(billing_world: BillingWorld) -> Iterator[Database]:
    database = Database(billing_world.database_url)
    yield database
    database.close()


def pending_orders(world: BillingWorld, user_id: int, movies: list[int]) -> list[str]:
    """Pending orders without outbox rows (no relay will publish them), oldest first."""
    ids = []
    for movie in movies:  # one statement each, so created_at (now()) grows with the list
        ids.append(
            world.scalar(
                "INSERT INTO orders (user_id, movie_id, price) VALUES (%s, %s, 1) RETURNING id::text",
                (user_id, movie),
            )
        )
    return ids


def test_a_batch_decides_each_order_as_one_after_the_other_would(
    db: Database, billing_world: BillingWorld
) -> None:
    older, newer, other = pending_orders(billing_world, 521, [7, 7, 8])
    [done] = pending_orders(billing_world, 521, [9])
    assert process_orders(db, [done]) == [Outcome.COMPLETED]
    unknown = str(uuid.uuid4())

    # The newer order of the same movie first in the batch: the older one still wins.
    outcomes = process_orders(db, [newer, older, unknown, done, other, older])

    assert outcomes == [
        Outcome.REJECTED,  # the user already bought movie 7 with the older order
        Outcome.COMPLETED,
        Outcome.UNKNOWN_ORDER,
        Outcome.ALREADY_PROCESSED,  # processed by the earlier call
        Outcome.COMPLETED,
        Outcome.ALREADY_PROCESSED,  # the duplicate delivery of `older` in the same batch
    ]
    assert billing_world.query(
        "SELECT id::text, status, reason FROM orders WHERE id = ANY(%s::uuid[]) ORDER BY created_at",
        ([older, newer, other],),
    ) == [(older, "completed", None), (newer, "rejected", "already purchased"), (other, "completed", None)]
    charged = billing_world.query("SELECT order_id::text FROM payments WHERE user_id = 521")
    assert sorted(row[0] for row in charged) == sorted([older, other, done])


@pytest.fixture
def consumer(billing_world: BillingWorld, db: Database) -> Consumer:
    return Consumer(
        servicekit.AMQP_URL, billing_world.topology, db, prefetch=20, max_retries=2, stop=threading.Event()
    )


@pytest.fixture
def channel(billing_world: BillingWorld, broker: Broker) -> Iterator[object]:
    connection, confirming = amqp.open_channel(servicekit.AMQP_URL, billing_world.topology)
    confirming.basic_qos(prefetch_count=20)
    yield confirming
    amqp.close_quietly(connection)


def delivered(channel, queue: str, order_ids: list[str]) -> list[tuple]:
    """The orders' messages as the worker receives them: published, then delivered together."""
    for order_id in order_ids:
        amqp.publish_confirmed(channel, queue, amqp.order_message(order_id), message_id=order_id)
    deliveries = channel.consume(queue, inactivity_timeout=5)
    batch = [next(deliveries) for _ in order_ids]
    assert all(method is not None for method, _, _ in batch), "a message was not delivered"
    return batch


def test_a_batch_is_one_transaction(
    consumer: Consumer, channel, billing_world: BillingWorld, broker: Broker
) -> None:
    order_ids = pending_orders(billing_world, 522, [1, 2, 3, 4, 5, 6])
    consumer.handle(channel, delivered(channel, billing_world.queue, order_ids))

    assert status_counts(billing_world, order_ids) == {"completed": 6}
    # now() is the transaction's start: one value for all six means one transaction.
    assert (
        billing_world.scalar(
            "SELECT count(DISTINCT processed_at) FROM orders WHERE id = ANY(%s::uuid[])", (order_ids,)
        )
        == 1
    )


def test_a_failing_order_in_a_batch_costs_only_itself_a_retry(
    consumer: Consumer, channel, billing_world: BillingWorld, broker: Broker
) -> None:
    movies = [660020, 660021, 660022, 660023, 660024]
    order_ids = pending_orders(billing_world, 523, movies)
    failing = order_ids[2]
    failed_before = REGISTRY.get_sample_value("orders_failed_total") or 0.0
    batch = delivered(channel, billing_world.queue, order_ids)

    with payments_trigger(
        billing_world, movies[2], "RAISE EXCEPTION 'ledger refuses movie %%', NEW.movie_id"
    ):
        consumer.handle(channel, batch)

    assert status_counts(billing_world, [i for i in order_ids if i != failing]) == {"completed": 4}
    assert status_counts(billing_world, [failing]) == {"pending": 1}
    assert REGISTRY.get_sample_value("orders_failed_total") == failed_before + 1
    [(properties, body)] = broker.take_all(billing_world.topology.retry_queue)
    assert body == amqp.order_message(failing)
    assert properties.headers[amqp.RETRY_COUNT_HEADER] == 1
