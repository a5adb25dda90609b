"""Through the gateway of the full stack: movie CRUD and the order flow end to end."""

from __future__ import annotations

import json
import time
import uuid
from decimal import Decimal

import requests
import servicekit


def test_movie_crud_through_the_gateway(stack) -> None:
    api = f"{stack.url}/api/movies"
    created = requests.post(api, json={"title": "Blade Runner", "director": "Ridley Scott"}, timeout=10)
    assert created.status_code == 201
    movie = created.json()
    assert created.headers["Location"] == f"/api/movies/{movie['id']}"
    assert requests.get(f"{api}/{movie['id']}", timeout=10).json() == movie

    found = requests.get(api, params={"title": "blade RUNNER", "limit": 100}, timeout=10).json()
    assert movie["id"] in [item["id"] for item in found["items"]]

    replaced = requests.put(
        f"{api}/{movie['id']}", json={"title": "Blade Runner 2049", "director": "D. V."}, timeout=10
    )
    assert replaced.status_code == 200 and replaced.json()["title"] == "Blade Runner 2049"

    assert requests.delete(f"{api}/{movie['id']}", timeout=10).status_code == 204
    missing = requests.get(f"{api}/{movie['id']}", timeout=10)
    assert missing.status_code == 404 and missing.json()["message"] == f"movie {movie['id']} not found"


def wait_for_status(url: str, wanted: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        order = requests.get(url, timeout=10).json()
        if order["status"] == wanted:
            return order
        time.sleep(0.1)
    raise AssertionError(f"order did not become {wanted}: {order}")


def test_order_flow_end_to_end_through_the_gateway(stack) -> None:
    # The worker completes only orders for movies inventory knows: the test makes its own, so it
    # does not depend on which tests ran before it in the session's stack.
    movie = requests.post(
        f"{stack.url}/api/movies", json={"title": "Stalker", "director": "Andrei Tarkovsky"}, timeout=10
    ).json()
    user_id = int(time.time() * 1000) % 2_000_000_000  # a user no other test uses
    placed = requests.post(
        f"{stack.url}/api/orders",
        json={"user_id": user_id, "movie_id": movie["id"], "price": "4.50"},
        timeout=10,
    )
    assert placed.status_code == 202, placed.text
    order = placed.json()
    assert order["status"] == "pending" and Decimal(str(order["price"])) == Decimal("4.50")
    location = placed.headers["Location"]
    assert location == f"/api/orders/{order['id']}"

    done = wait_for_status(stack.url + location, "completed")
    assert done["id"] == order["id"] and done["processed_at"]

    listed = requests.get(f"{stack.url}/api/orders", params={"user_id": user_id}, timeout=10).json()
    assert [item["id"] for item in listed["items"]] == [order["id"]]


def test_idempotency_key_through_the_gateway_returns_the_same_order(stack) -> None:
    key = f"gw-{uuid.uuid4()}"
    order = {"user_id": 42, "movie_id": 1, "price": 3}
    first = requests.post(f"{stack.url}/api/orders", json=order, headers={"Idempotency-Key": key}, timeout=10)
    again = requests.post(f"{stack.url}/api/orders", json=order, headers={"Idempotency-Key": key}, timeout=10)
    assert first.status_code == 202 and again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    stored = servicekit.query(
        stack.billing_db, "SELECT count(*) FROM orders WHERE idempotency_key = %s", (key,)
    )
    assert stored == [(1,)]


def test_unknown_order_is_404_through_the_gateway(stack) -> None:
    response = requests.get(f"{stack.url}/api/orders/{uuid.uuid4()}", timeout=10)
    assert response.status_code == 404
    assert "not found" in response.json()["message"]


def test_request_id_reaches_the_upstream_and_every_log(stack) -> None:
    sent = f"trace-{uuid.uuid4()}"
    response = requests.get(f"{stack.url}/api/movies", headers={"X-Request-ID": sent}, timeout=10)
    assert response.headers["X-Request-ID"] == sent
    deadline = time.monotonic() + 5  # access log lines are written just after the response
    while time.monotonic() < deadline and not all(sent in s.logs() for s in (stack.gateway, stack.inventory)):
        time.sleep(0.05)
    for service in (stack.gateway, stack.inventory):
        lines = [json.loads(line) for line in service.logs().splitlines() if sent in line]
        assert lines, f"{service.name} never logged {sent}"
        assert all(line["request_id"] == sent for line in lines)
        access = [line for line in lines if line["logger"] == "gunicorn.access"]
        assert [(line["method"], line["status"]) for line in access] == [("GET", 200)], service.name
