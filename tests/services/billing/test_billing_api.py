"""The billing API under real gunicorn, PostgreSQL and RabbitMQ (no worker: orders stay pending)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from billing.outbox_relay import NOTIFY_CHANNEL
from billingkit import BillingWorld, Broker, post_order, wait_until
from prometheus_client.parser import text_string_to_metric_families

PREFIXES = ["", "/billing"]
ORDER_KEYS = {"id", "user_id", "movie_id", "price", "status", "reason", "created_at", "processed_at"}


@pytest.fixture(scope="module")
def base(billing_api) -> str:
    return billing_api.url


def order_count(world: BillingWorld) -> int:
    return world.scalar("SELECT count(*) FROM orders")


@pytest.mark.parametrize("prefix", PREFIXES)
def test_post_records_pending_order_with_its_outbox_row_and_wakes_the_relay(
    base: str, prefix: str, billing_world: BillingWorld, broker: Broker
) -> None:
    listener = billing_world.listen(NOTIFY_CHANNEL)
    response = requests.post(
        f"{base}{prefix}/orders", json={"user_id": 7, "movie_id": 3, "price": "12.50"}, timeout=5
    )
    assert response.status_code == 202, response.text
    order = response.json()
    assert set(order) == ORDER_KEYS
    assert order | {"id": None, "created_at": None} == {
        "id": None,
        "user_id": 7,
        "movie_id": 3,
        "price": 12.5,
        "status": "pending",
        "reason": None,
        "created_at": None,
        "processed_at": None,
    }
    assert response.headers["Location"] == f"{prefix}/orders/{order['id']}"
    assert requests.get(f"{base}{prefix}/orders/{order['id']}", timeout=5).json() == order

    # Committed with its outbox row, which NOTIFYs the relay; the API itself publishes nothing.
    assert billing_world.scalar("SELECT count(*) FROM outbox WHERE order_id = %s", (order["id"],)) == 1
    wait_until("the outbox NOTIFY", lambda: listener.poll() or listener.notifies, 5)
    listener.close()
    assert broker.take_all(billing_world.queue) == []


def test_price_keeps_cents_exactly(base: str, billing_world: BillingWorld) -> None:
    order = post_order(base, 8, 1, price="0.10").json()
    assert order["price"] == 0.1
    assert billing_world.scalar("SELECT price::text FROM orders WHERE id = %s", (order["id"],)) == "0.10"
    assert post_order(base, 8, 2, price=99999999.99).json()["price"] == 99999999.99


def test_list_by_user_pages_newest_first(base: str) -> None:
    user = 424242
    ids = [post_order(base, user, movie).json()["id"] for movie in range(1, 6)]
    first = requests.get(f"{base}/orders", params={"user_id": user, "limit": 3}, timeout=5).json()
    second = requests.get(
        f"{base}/billing/orders", params={"user_id": user, "limit": 3, "offset": 3}, timeout=5
    ).json()
    assert (first["limit"], first["offset"], second["offset"]) == (3, 0, 3)
    assert [o["id"] for o in first["items"] + second["items"]] == ids[::-1]
    assert requests.get(f"{base}/orders", params={"user_id": 99999}, timeout=5).json()["items"] == []


def test_idempotency_key_returns_the_original_order(base: str, billing_world: BillingWorld) -> None:
    key = f"retry-{uuid.uuid4()}"
    first = post_order(base, 11, 5, "3.00", key=key)
    again = post_order(base, 11, 5, "3", key=key)  # the same order, spelled differently
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert billing_world.scalar("SELECT count(*) FROM orders WHERE idempotency_key = %s", (key,)) == 1


def test_concurrent_retries_with_one_key_create_one_order(base: str, billing_world: BillingWorld) -> None:
    key = f"race-{uuid.uuid4()}"
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: post_order(base, 12, 6, key=key), range(16)))
    assert {r.status_code for r in responses} == {202}
    assert len({r.json()["id"] for r in responses}) == 1
    assert billing_world.scalar("SELECT count(*) FROM orders WHERE idempotency_key = %s", (key,)) == 1


def test_idempotency_key_reused_for_another_order_is_422(base: str, billing_world: BillingWorld) -> None:
    key = f"reuse-{uuid.uuid4()}"
    original = post_order(base, 13, 7, key=key).json()
    before = order_count(billing_world)
    clash = post_order(base, 13, 8, key=key)
    assert clash.status_code == 422
    assert clash.json()["message"] == "Idempotency-Key was already used for a different order"
    assert order_count(billing_world) == before
    assert requests.get(f"{base}/orders/{original['id']}", timeout=5).json()["movie_id"] == 7


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "é"])
def test_bad_idempotency_key_is_400(base: str, billing_world: BillingWorld, key: str) -> None:
    before = order_count(billing_world)
    response = requests.post(
        f"{base}/orders",
        json={"user_id": 1, "movie_id": 1, "price": 1},
        headers={"Idempotency-Key": key.encode().decode("latin-1")},
        timeout=5,
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["message"]
    assert order_count(billing_world) == before


VALID = {"user_id": 1, "movie_id": 2, "price": 3}
BAD_BODIES = [
    ({"movie_id": 2, "price": 3}, "missing field(s): user_id"),
    ({**VALID, "coupon": "x"}, "unknown field(s): coupon"),
    ({**VALID, "user_id": True}, "user_id: must be an integer"),
    ({**VALID, "movie_id": False}, "movie_id: must be an integer"),
    ({**VALID, "user_id": -1}, "user_id: must be between 1 and 2147483647"),
    ({**VALID, "user_id": 0}, "user_id: must be between 1 and 2147483647"),
    ({**VALID, "movie_id": 2**31}, "movie_id: must be between 1 and 2147483647"),
    ({**VALID, "user_id": "1"}, "user_id: must be an integer"),
    ({**VALID, "user_id": 1.5}, "user_id: must be an integer"),
    ({**VALID, "price": -1}, "price: must not be negative"),
    ({**VALID, "price": 1.999}, "price: must have at most 2 decimals"),
    ({**VALID, "price": "abc"}, "price: must be a non-negative number with at most 2 decimals"),
    ({**VALID, "price": 10**12}, "price: must be at most 99999999.99"),
    ({**VALID, "price": None}, "price: must be a number or a numeric string"),
]


@pytest.mark.parametrize(("body", "message"), BAD_BODIES)
def test_bad_order_is_400_and_writes_nothing(
    base: str, billing_world: BillingWorld, body: dict, message: str
) -> None:
    before = order_count(billing_world)
    response = requests.post(f"{base}/orders", json=body, timeout=5)
    assert response.status_code == 400
    assert response.json()["message"] == message
    assert order_count(billing_world) == before


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b'{"user_id": 1,', "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b'{"user_id": 1, "movie_id": 1, "price": NaN}', "application/json", 400),
        (b'{"user_id": "\xff"}', "application/json", 400),
        (b"user_id=1", "application/x-www-form-urlencoded", 415),
        (b"x" * 70000, "application/json", 413),
    ],
)
def test_unreadable_body_is_4xx_json(
    base: str, billing_world: BillingWorld, data: bytes, content_type: str, status: int
) -> None:
    before = order_count(billing_world)
    response = requests.post(f"{base}/orders", data=data, headers={"Content-Type": content_type}, timeout=5)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["message"]
    assert order_count(billing_world) == before


@pytest.mark.parametrize(
    ("path", "status", "message"),
    [
        ("/orders/not-a-uuid", 400, "order_id must be a UUID"),
        ("/billing/orders/12345", 400, "order_id must be a UUID"),
        (
            "/orders/00000000-0000-4000-8000-000000000000",
            404,
            "order 00000000-0000-4000-8000-000000000000 not found",
        ),
        ("/orders", 400, "user_id query parameter is required"),
        ("/orders?user_id=-3", 400, "user_id must be an integer between 1 and 2147483647"),
        ("/orders?user_id=abc", 400, "user_id must be an integer between 1 and 2147483647"),
        ("/orders?user_id=99999999999", 400, "user_id must be an integer between 1 and 2147483647"),
        ("/orders?user_id=1&limit=0", 400, "limit must be an integer between 1 and 100"),
        ("/orders?user_id=1&offset=-1", 400, "offset must be an integer between 0 and 2147483647"),
        ("/orderz", 404, "no such route"),
    ],
)
def test_bad_reads_are_4xx_json(base: str, path: str, status: int, message: str) -> None:
    response = requests.get(base + path, timeout=5)
    assert response.status_code == status
    assert response.json()["message"] == message


def test_unsupported_method_is_405(base: str) -> None:
    response = requests.delete(f"{base}/orders", timeout=5)
    assert response.status_code == 405
    assert response.json()["error"] == "Method Not Allowed"


def test_ready_checks_only_the_database(base: str) -> None:
    """The API never talks to the broker (the outbox does), so its readiness must not depend on it."""
    response = requests.get(f"{base}/ready", timeout=5)
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok"}


def test_api_metrics_hold_only_the_series_the_api_moves(base: str) -> None:
    """The worker's series (consumer gauge, relay and processing counters) live in the worker only."""
    names = {
        family.name
        for family in text_string_to_metric_families(requests.get(f"{base}/metrics", timeout=5).text)
    }
    assert "http_requests" in names  # the client library strips the _total suffix
    worker_series = {"billing_consumer_up", "orders_published", "orders_processed", "orders_failed"}
    assert not names & (worker_series | {"orders_dead_lettered"})
