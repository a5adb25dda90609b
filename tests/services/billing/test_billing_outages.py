"""Broker and database outages with the services running: the real RabbitMQ and PostgreSQL of
this machine are stopped and started (always restored, see outages.py). They need servers this
machine controls (tests/servercontrol.py): `make test-server-control`, not CI's `test` job."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import requests
from billingkit import BillingWorld, Broker, metric, post_order, status_counts, wait_until
from outages import postgres_stopped, rabbitmq_stopped, restart_postgres

pytestmark = [pytest.mark.disruptive, pytest.mark.server_control("postgresql", "rabbitmq")]


class Poster(threading.Thread):
    """Posts orders (each with its own Idempotency-Key) until stopped; keeps every answer."""

    def __init__(self, base_url: str, user_id: int):
        super().__init__(daemon=True)
        self.base_url = base_url
        self.user_id = user_id
        self.answers: list[tuple[str, int, dict]] = []  # (key, status, body)
        self.done = threading.Event()

    def run(self) -> None:
        session = requests.Session()
        movie = 0
        while not self.done.is_set():
            movie += 1
            key = f"outage-{uuid.uuid4()}"
            try:
                response = post_order(self.base_url, self.user_id, movie, key=key, session=session)
            except requests.RequestException:
                continue  # not expected; the assertions below would miss the order if one were lost
            self.answers.append((key, response.status_code, response.json()))
            time.sleep(0.02)

    def stop(self) -> None:
        self.done.set()
        self.join(15)

    def statuses(self) -> list[int]:
        return [status for _, status, _ in self.answers]


def test_rabbitmq_down_orders_wait_in_the_outbox_and_complete_after_it_returns(
    billing_api, billing_world: BillingWorld, broker: Broker, start_worker
) -> None:
    """The outbox is why the order path does not depend on the broker: while RabbitMQ is down the
    API keeps accepting (and stays ready), and every order completes once it is back."""
    worker = start_worker()
    poster = Poster(billing_api.url, 601)
    poster.start()
    try:
        wait_until("orders accepted before the outage", lambda: poster.statuses().count(202) >= 5, 10)
        retried_key = f"outage-retry-{uuid.uuid4()}"
        original = post_order(billing_api.url, 601, 10**6 + 1, key=retried_key).json()
        with rabbitmq_stopped():
            wait_until(
                "worker reporting its consumer down",
                lambda: metric(worker.url, "billing_consumer_up") == 0,
                10,
            )
            assert requests.get(f"{worker.url}/ready", timeout=5).status_code == 503
            during = len(poster.answers)
            wait_until("orders accepted during the outage", lambda: len(poster.answers) >= during + 5, 20)
            accepted = requests.post(
                f"{billing_api.url}/orders", json={"user_id": 601, "movie_id": 10**6, "price": 1}, timeout=10
            )
            assert accepted.status_code == 202 and accepted.json()["status"] == "pending"
            assert requests.get(f"{billing_api.url}/ready", timeout=10).status_code == 200
            assert billing_world.scalar("SELECT count(*) FROM outbox") > 0  # waiting for the relay
            # A client retrying an order that was accepted before the outage still gets it back.
            replayed = post_order(billing_api.url, 601, 10**6 + 1, key=retried_key)
            assert replayed.status_code == 202 and replayed.json()["id"] == original["id"]
        wait_until("worker consuming again", lambda: metric(worker.url, "billing_consumer_up") == 1, 30)
    finally:
        poster.stop()

    assert set(poster.statuses()) == {202}, poster.statuses()
    accepted_ids = [body["id"] for _, _, body in poster.answers] + [accepted.json()["id"]]
    wait_until(
        "every accepted order completed",
        lambda: status_counts(billing_world, accepted_ids) == {"completed": len(accepted_ids)},
        60,
    )
    wait_until("outbox drained", lambda: billing_world.scalar("SELECT count(*) FROM outbox") == 0, 15)
    assert worker.process.poll() is None and billing_api.process.poll() is None  # nothing was restarted


def test_postgres_outage_and_restart_are_survived_without_restarting_anything(
    billing_api, billing_world: BillingWorld, broker: Broker, start_worker
) -> None:
    worker = start_worker()
    # Pending orders whose messages arrive while the database is down (as after a broker redelivery).
    order_ids = [
        row[0]
        for row in billing_world.query(
            "INSERT INTO orders (user_id, movie_id, price) SELECT 602, m, 1 FROM generate_series(1, 20) AS m"
            " RETURNING id::text"
        )
    ]
    with postgres_stopped():
        for order_id in order_ids:
            broker.publish(billing_world.queue, json.dumps({"order_id": order_id}).encode())
        wait_until(
            "worker noticing the database is down",
            lambda: (
                metric(worker.url, "billing_consumer_up") == 0 and "PostgreSQL unavailable" in worker.logs()
            ),
            15,
        )
        refused = post_order(billing_api.url, 602, 99)
        assert refused.status_code == 503
        assert refused.json()["message"] == "database unavailable, retry later"
        ready = requests.get(f"{billing_api.url}/ready", timeout=10)
        assert ready.status_code == 503 and "database" in ready.json()["failing"]
        time.sleep(1)  # a few backoff rounds while the database stays down
    wait_until(
        "orders completed after the database returned",
        lambda: status_counts(billing_world, order_ids) == {"completed": 20},
        30,
    )
    # Waiting for the database spent no retry and dead-lettered nothing.
    assert metric(worker.url, "orders_failed_total") == 0
    assert metric(worker.url, "orders_dead_lettered_total") == 0
    assert broker.counts(billing_world.topology.retry_queue)[0] == 0
    assert broker.counts(billing_world.topology.dead_letter_queue)[0] == 0

    restart_postgres()
    accepted = wait_until(
        "POST accepted after the restart",
        lambda: (r := post_order(billing_api.url, 602, 100)).status_code == 202 and r.json(),
        20,
        0.2,
    )
    wait_until(
        "order after the restart completed",
        lambda: status_counts(billing_world, [accepted["id"]]) == {"completed": 1},
        20,
    )
    assert requests.get(f"{billing_api.url}/ready", timeout=5).status_code == 200
    assert requests.get(f"{worker.url}/ready", timeout=5).status_code == 200
    assert worker.process.poll() is None and billing_api.process.poll() is None  # nothing was restarted
