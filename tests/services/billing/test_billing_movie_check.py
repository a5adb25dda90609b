"""The worker rejects an order for a movie that inventory does not know ("movie not
found", no ledger row), and while inventory cannot answer it decides nothing: the order stays
pending on the queue, no retry spent, and completes once inventory is back.

Everything real: billing's own database and queues, RabbitMQ, and inventory under gunicorn
(the session's, or one started and stopped here on a port of its own); the consumer runs in
this process, as billing.worker runs it.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
import requests
import servicekit
from billing import amqp
from billing.consumer import Consumer
from billing.movies import Catalogue, InventoryUnavailable
from billing.processing import MOVIE_NOT_FOUND, Outcome, process_orders
from billingkit import BillingWorld, Broker, wait_until
from common.db import Database


@pytest.fixture
def db(billing_world: BillingWorld) -> Iterator[Database]:
    database = Database(billing_world.database_url)
    yield database
    database.close()


def new_movie(inventory_url: str) -> int:
    created = requests.post(
        f"{inventory_url}/movies", json={"title": f"Check {uuid.uuid4()}", "director": "D"}, timeout=5
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


def absent_movie(inventory_url: str) -> int:
    """An id inventory does not know: a movie created and deleted again."""
    movie_id = new_movie(inventory_url)
    assert requests.delete(f"{inventory_url}/movies/{movie_id}", timeout=5).status_code == 204
    return movie_id


def pending_order(world: BillingWorld, user_id: int, movie_id: int) -> str:
    return world.scalar(
        "INSERT INTO orders (user_id, movie_id, price) VALUES (%s, %s, 3) RETURNING id::text",
        (user_id, movie_id),
    )


def order_row(world: BillingWorld, order_id: str) -> tuple:
    [row] = world.query(
        "SELECT o.status, o.reason, count(p.order_id) FROM orders o"
        " LEFT JOIN payments p ON p.order_id = o.id WHERE o.id = %s GROUP BY o.id",
        (order_id,),
    )
    return tuple(row)


def test_an_order_for_an_unknown_movie_is_rejected_without_a_charge(
    db: Database, billing_world: BillingWorld, inventory_service
) -> None:
    known, unknown = new_movie(inventory_service.url), absent_movie(inventory_service.url)
    kept = pending_order(billing_world, 541, known)
    refused = pending_order(billing_world, 541, unknown)

    outcomes = process_orders(db, [refused, kept], Catalogue(inventory_service.url))

    assert outcomes == [Outcome.REJECTED, Outcome.COMPLETED]
    assert order_row(billing_world, refused) == ("rejected", MOVIE_NOT_FOUND, 0)
    assert order_row(billing_world, kept) == ("completed", None, 1)


def test_inventory_unable_to_answer_decides_nothing(
    db: Database, billing_world: BillingWorld, inventory_service
) -> None:
    order_id = pending_order(billing_world, 542, absent_movie(inventory_service.url))
    nobody_listens = f"http://127.0.0.1:{servicekit.free_port()}"
    wrong_prefix = f"{inventory_service.url}/no-such-prefix"  # inventory answers 404 "no such route"
    for catalogue in (Catalogue(nobody_listens), Catalogue(wrong_prefix)):
        with pytest.raises(InventoryUnavailable):
            process_orders(db, [order_id], catalogue)
    assert order_row(billing_world, order_id) == ("pending", None, 0)


def redelivered_and_waiting(broker: Broker, queue: str) -> bool:
    """True when `queue` holds one message that was delivered before (then left in place)."""
    method, _, _ = broker.channel.basic_get(queue, auto_ack=False)
    if method is None:
        return False
    broker.channel.basic_nack(method.delivery_tag, requeue=True)
    return method.redelivered and method.message_count == 0


@pytest.fixture
def consuming(billing_world: BillingWorld, broker: Broker, db: Database):
    """consuming(catalogue): Consumer.run on a thread, as billing.worker runs it; stopped after."""
    stop = threading.Event()
    threads = []

    def start(catalogue: Catalogue) -> Consumer:
        consumer = Consumer(
            servicekit.AMQP_URL, billing_world.topology, db, catalogue, prefetch=20, max_retries=2, stop=stop
        )
        thread = threading.Thread(target=consumer.run, daemon=True)
        thread.start()
        threads.append(thread)
        return consumer

    yield start
    stop.set()
    for thread in threads:
        thread.join(15)


def test_while_inventory_is_down_the_order_waits_on_the_queue_then_completes(
    billing_world: BillingWorld, broker: Broker, consuming, start_service, inventory_db: str
) -> None:
    port = servicekit.free_port()
    inventory = start_service("inventory", {"DATABASE_URL": inventory_db, "PORT": str(port)})
    movie_id = new_movie(inventory.url)
    inventory.stop()
    order_id = pending_order(billing_world, 543, movie_id)
    broker.publish(billing_world.queue, amqp.order_message(order_id))

    consumer = consuming(Catalogue(inventory.url))
    # The consumer took the message, could not ask inventory, and gave it back (so it comes
    # back marked redelivered): it now waits for inventory, with the order undecided and
    # nothing retried or dead-lettered.
    wait_until("message given back", lambda: redelivered_and_waiting(broker, billing_world.queue), 15)
    assert not consumer.consuming.is_set()
    assert order_row(billing_world, order_id) == ("pending", None, 0)
    assert broker.counts(billing_world.topology.retry_queue)[0] == 0
    assert broker.counts(billing_world.topology.dead_letter_queue)[0] == 0

    start_service("inventory", {"DATABASE_URL": inventory_db, "PORT": str(port)})
    wait_until("order completed", lambda: order_row(billing_world, order_id)[0] != "pending", 30)
    assert order_row(billing_world, order_id) == ("completed", None, 1)
    assert broker.counts(billing_world.topology.dead_letter_queue)[0] == 0
