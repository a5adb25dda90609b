"""End to end through the gateway of the full stack (real inventory, billing API,
worker): an order for a movie that does not exist ends `rejected` "movie not found" with no
ledger row, one for an existing movie completes, and an order placed while inventory is down
is accepted at once and completes once inventory is back."""

from __future__ import annotations

import uuid

import requests
import servicekit
from billingkit import wait_until


def place_order(stack, movie_id: int) -> tuple[dict, int]:
    user_id = uuid.uuid4().int % 2_000_000_000 + 1
    response = requests.post(
        f"{stack.url}/api/orders",
        json={"user_id": user_id, "movie_id": movie_id, "price": "2.50"},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    return response.json(), user_id


def final_order(stack, order_id: str, timeout: float = 15) -> dict:
    def done() -> dict | None:
        order = requests.get(f"{stack.url}/api/orders/{order_id}", timeout=5).json()
        return order if order["status"] != "pending" else None

    return wait_until(f"order {order_id} processed", done, timeout)


def payments(stack, order_id: str) -> int:
    [(count,)] = servicekit.query(
        stack.billing_db, "SELECT count(*) FROM payments WHERE order_id = %s", (order_id,)
    )
    return count


def new_movie(stack) -> int:
    created = requests.post(
        f"{stack.url}/api/movies", json={"title": f"E2E {uuid.uuid4()}", "director": "D"}, timeout=10
    )
    assert created.status_code == 201, created.text
    return created.json()["id"]


def test_orders_for_missing_and_existing_movies(stack) -> None:
    existing = new_movie(stack)
    missing = new_movie(stack)
    assert requests.delete(f"{stack.url}/api/movies/{missing}", timeout=10).status_code == 204

    refused, _ = place_order(stack, missing)
    kept, _ = place_order(stack, existing)

    refused_final = final_order(stack, refused["id"])
    assert (refused_final["status"], refused_final["reason"]) == ("rejected", "movie not found")
    assert payments(stack, refused["id"]) == 0
    kept_final = final_order(stack, kept["id"])
    assert (kept_final["status"], kept_final["reason"]) == ("completed", None)
    assert payments(stack, kept["id"]) == 1


def test_an_order_placed_while_inventory_is_down_completes_when_it_is_back(
    stack, start_session_service
) -> None:
    movie_id = new_movie(stack)
    inventory_env = {key: stack.inventory.env[key] for key in ("DATABASE_URL", "PORT")}
    stack.inventory.stop()
    try:
        order, _ = place_order(stack, movie_id)  # accepted: the order path does not ask inventory
        wait_until(
            "the worker to meet the outage",
            lambda: "inventory unavailable" in stack.worker.logs(),
            10,
        )
        assert requests.get(f"{stack.url}/api/orders/{order['id']}", timeout=5).json()["status"] == "pending"
    finally:
        stack.inventory = start_session_service("inventory", inventory_env)
    final = final_order(stack, order["id"], timeout=30)
    assert (final["status"], final["reason"]) == ("completed", None)
    assert payments(stack, order["id"]) == 1
