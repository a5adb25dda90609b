"""kill -9 of the worker while 2,000 orders are in flight: every accepted order ends `completed`
exactly once (the ledger's one row per order proves it)."""

from __future__ import annotations

import signal
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from billingkit import BillingWorld, post_order, wait_until

ORDERS = 2000
USER_BASE = 2_000_000  # user ids of their own: no "already purchased" rejections from other tests
KILL_AT = (300, 1100)  # ledger rows seen when each running worker is killed


def ledger_rows(world: BillingWorld) -> int:
    return world.scalar("SELECT count(*) FROM payments WHERE user_id > %s", (USER_BASE,))


def test_worker_killed_twice_mid_stream_every_order_completes_exactly_once(
    billing_api, billing_world: BillingWorld, broker, start_worker
) -> None:
    accepted: list[str] = []
    local = threading.local()

    def post(i: int) -> requests.Response:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        return post_order(
            billing_api.url, USER_BASE + i, 1, "1.99", key=f"crash-{uuid.uuid4()}", session=session
        )

    worker = start_worker()
    with ThreadPoolExecutor(6) as pool:
        posting = pool.map(post, range(1, ORDERS + 1))
        for threshold in KILL_AT:
            wait_until(
                f"{threshold} orders charged", lambda t=threshold: ledger_rows(billing_world) >= t, 60, 0.02
            )
            worker.process.send_signal(signal.SIGKILL)
            assert worker.process.wait(5) == -signal.SIGKILL
            in_flight = billing_world.scalar(
                "SELECT count(*) FROM orders WHERE user_id > %s AND status = 'pending'", (USER_BASE,)
            )
            assert in_flight > 0, "the kill must land while orders are still in flight"
            worker = start_worker()
        for response in posting:
            assert response.status_code == 202, response.text
            accepted.append(response.json()["id"])

    assert len(set(accepted)) == ORDERS
    wait_until(
        "every accepted order completed",
        lambda: (
            billing_world.scalar(
                "SELECT count(*) FROM orders WHERE id = ANY(%s::uuid[]) AND status = 'completed'", (accepted,)
            )
            == ORDERS
        ),
        60,
        0.2,
    )
    # Exactly once: one ledger row per accepted order, none for anything else, nothing rejected.
    per_order = billing_world.query(
        "SELECT count(*), count(DISTINCT order_id), min(n), max(n) FROM"
        " (SELECT order_id, count(*) AS n FROM payments WHERE user_id > %s GROUP BY order_id) AS p",
        (USER_BASE,),
    )
    assert per_order == [(ORDERS, ORDERS, 1, 1)]
    assert (
        billing_world.scalar(
            "SELECT count(*) FROM payments WHERE user_id > %s AND NOT order_id = ANY(%s::uuid[])",
            (USER_BASE, accepted),
        )
        == 0
    )
    assert (
        billing_world.scalar(
            "SELECT count(*) FROM orders WHERE user_id > %s AND status <> 'completed'", (USER_BASE,)
        )
        == 0
    )
    wait_until("outbox drained", lambda: billing_world.scalar("SELECT count(*) FROM outbox") == 0, 15)
