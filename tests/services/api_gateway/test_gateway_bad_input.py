"""Issue §6: every bad input, sent through the gateway of the full stack, answers 4xx JSON with a
message and changes nothing in either database."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pytest
import requests
import servicekit

JSON = {"Content-Type": "application/json"}
GOOD_MOVIE = {"title": "Alien", "director": "Ridley Scott"}
GOOD_ORDER = {"user_id": 1, "movie_id": 1, "price": "9.99"}
UUID = "6f1c2a4e-8d3b-4c1a-9e2f-0a1b2c3d4e5f"


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    status: int
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    message: str = ""  # a substring the message must contain


def body(value) -> bytes:
    return json.dumps(value).encode()


def with_field(base: dict, **changes) -> bytes:
    return body({**base, **changes})


def without(base: dict, name: str) -> bytes:
    return body({k: v for k, v in base.items() if k != name})


CASES = {
    # malformed JSON, wrong content type, not an object, invalid UTF-8
    "movie malformed json": Case("POST", "/api/movies", 400, b'{"title": "x",', message="not valid JSON"),
    "movie wrong content type": Case(
        "POST", "/api/movies", 415, body(GOOD_MOVIE), {"Content-Type": "text/plain"}, "application/json"
    ),
    "movie no content type": Case("POST", "/api/movies", 415, body(GOOD_MOVIE), {}, "application/json"),
    "movie json array": Case("POST", "/api/movies", 400, body([GOOD_MOVIE]), message="JSON object"),
    "movie json string": Case("POST", "/api/movies", 400, body("Alien"), message="JSON object"),
    "movie invalid utf-8": Case(
        "POST", "/api/movies", 400, b'{"title": "\xc3\x28", "director": "x"}', message="UTF-8"
    ),
    "order malformed json": Case("POST", "/api/orders", 400, b"{user_id: 1}", message="not valid JSON"),
    "order wrong content type": Case(
        "POST", "/api/orders", 415, body(GOOD_ORDER), {"Content-Type": "application/x-www-form-urlencoded"}
    ),
    "order json null": Case("POST", "/api/orders", 400, b"null", message="JSON object"),
    "order invalid utf-8": Case("POST", "/api/orders", 400, b'{"user_id": 1, "x": "\xff"}', message="UTF-8"),
    # missing or unknown fields
    "movie missing director": Case(
        "POST", "/api/movies", 400, without(GOOD_MOVIE, "director"), message="director"
    ),
    "movie unknown field": Case(
        "POST", "/api/movies", 400, with_field(GOOD_MOVIE, year=1979), message="year"
    ),
    "movie put missing title": Case(
        "PUT", "/api/movies/1", 400, without(GOOD_MOVIE, "title"), message="title"
    ),
    "order missing price": Case("POST", "/api/orders", 400, without(GOOD_ORDER, "price"), message="price"),
    "order unknown field": Case(
        "POST", "/api/orders", 400, with_field(GOOD_ORDER, coupon="X"), message="coupon"
    ),
    "order empty object": Case("POST", "/api/orders", 400, b"{}", message="missing"),
    # wrong types
    "movie title 123": Case("POST", "/api/movies", 400, with_field(GOOD_MOVIE, title=123), message="title"),
    "movie director null": Case(
        "POST", "/api/movies", 400, with_field(GOOD_MOVIE, director=None), message="director"
    ),
    "order price abc": Case("POST", "/api/orders", 400, with_field(GOOD_ORDER, price="abc"), message="price"),
    "order price list": Case("POST", "/api/orders", 400, with_field(GOOD_ORDER, price=[1]), message="price"),
    "order user_id -1": Case(
        "POST", "/api/orders", 400, with_field(GOOD_ORDER, user_id=-1), message="user_id"
    ),
    "order user_id 0": Case("POST", "/api/orders", 400, with_field(GOOD_ORDER, user_id=0), message="user_id"),
    "order user_id true": Case(
        "POST", "/api/orders", 400, with_field(GOOD_ORDER, user_id=True), message="user_id"
    ),
    "order movie_id false": Case(
        "POST", "/api/orders", 400, with_field(GOOD_ORDER, movie_id=False), message="movie_id"
    ),
    "order movie_id string": Case(
        "POST", "/api/orders", 400, with_field(GOOD_ORDER, movie_id="5"), message="movie_id"
    ),
    "order user_id float": Case(
        "POST", "/api/orders", 400, with_field(GOOD_ORDER, user_id=1.5), message="user_id"
    ),
    "order user_id huge": Case(
        "POST", "/api/orders", 400, with_field(GOOD_ORDER, user_id=2**31), message="user_id"
    ),
    # empty, whitespace-only, overlong strings
    "movie empty title": Case("POST", "/api/movies", 400, with_field(GOOD_MOVIE, title=""), message="title"),
    "movie whitespace title": Case(
        "POST", "/api/movies", 400, with_field(GOOD_MOVIE, title=" \t\n "), message="title"
    ),
    "movie overlong title": Case(
        "POST", "/api/movies", 400, with_field(GOOD_MOVIE, title="x" * 201), message="200"
    ),
    "movie overlong director": Case(
        "PUT", "/api/movies/1", 400, with_field(GOOD_MOVIE, director="y" * 5000), message="director"
    ),
    "movie nul in title": Case(
        "POST", "/api/movies", 400, with_field(GOOD_MOVIE, title="a\x00b"), message="title"
    ),
    # negative price, more than 2 decimals
    "order negative price": Case(
        "POST", "/api/orders", 400, with_field(GOOD_ORDER, price=-1), message="price"
    ),
    "order negative price string": Case(
        "POST", "/api/orders", 400, with_field(GOOD_ORDER, price="-0.01"), message="price"
    ),
    "order price 3 decimals": Case(
        "POST", "/api/orders", 400, b'{"user_id": 1, "movie_id": 1, "price": 9.999}', message="2 decimals"
    ),
    "order price huge": Case("POST", "/api/orders", 400, b'{"user_id": 1, "movie_id": 1, "price": 1e12}'),
    # non-numeric or huge ids, non-UUID order ids
    "movie id abc": Case("GET", "/api/movies/abc", 400, message="id"),
    "movie id negative": Case("GET", "/api/movies/-1", 400, message="id"),
    "movie id zero": Case("DELETE", "/api/movies/0", 400, message="id"),
    "movie id huge": Case("GET", "/api/movies/99999999999999999999", 400, message="id"),
    "movie id decimal": Case("PUT", "/api/movies/1.5", 400, body(GOOD_MOVIE), message="id"),
    "order id not uuid": Case("GET", "/api/orders/12345", 400, message="UUID"),
    "order id junk": Case("GET", "/api/orders/not-a-uuid-at-all", 400, message="UUID"),
    "orders user_id abc": Case("GET", "/api/orders?user_id=abc", 400, message="user_id"),
    "orders user_id negative": Case("GET", "/api/orders?user_id=-5", 400, message="user_id"),
    # bad limit / offset
    "movies limit 0": Case("GET", "/api/movies?limit=0", 400, message="limit"),
    "movies limit huge": Case("GET", "/api/movies?limit=100000", 400, message="limit"),
    "movies limit abc": Case("GET", "/api/movies?limit=abc", 400, message="limit"),
    "movies offset negative": Case("GET", "/api/movies?offset=-1", 400, message="offset"),
    "movies offset float": Case("GET", "/api/movies?offset=1.5", 400, message="offset"),
    "orders limit bad": Case("GET", "/api/orders?user_id=1&limit=-3", 400, message="limit"),
    # unknown routes and methods
    "unknown route": Case("GET", "/api/nothing-here", 404, message="no such route"),
    "unknown nested route": Case("GET", f"/api/orders/{UUID}/refund", 404),
    "root route": Case("GET", "/", 404),
    "patch movie": Case("PATCH", "/api/movies/1", 405, body(GOOD_MOVIE), message="PATCH"),
    "delete orders": Case("DELETE", "/api/orders", 405, message="DELETE"),
    "put order": Case("PUT", f"/api/orders/{UUID}", 405, body(GOOD_ORDER)),
    # oversized bodies (MAX_BODY_BYTES is 65536)
    "movie oversized": Case(
        "POST", "/api/movies", 413, with_field(GOOD_MOVIE, title="x" * 70_000), message="large"
    ),
    "order oversized": Case("POST", "/api/orders", 413, b" " * 65_537, message="large"),
}


def snapshot(stack) -> tuple:
    """What bad input must not change: every movie row, and the orders and outbox counts
    (the worker may still be completing earlier orders, so order statuses may move)."""
    movies = servicekit.query(
        stack.inventory_db, "SELECT md5(coalesce(string_agg(m::text, '|' ORDER BY id), '')) FROM movies m"
    )
    orders = servicekit.query(stack.billing_db, "SELECT count(*), max(created_at) FROM orders")
    return movies[0], orders[0]


@pytest.fixture(scope="module")
def seeded(stack):
    """One movie with id 1 may or may not exist; what matters is that nothing changes."""
    created = requests.post(f"{stack.url}/api/movies", json=GOOD_MOVIE, timeout=10)
    assert created.status_code == 201
    return stack


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_bad_input_is_4xx_json_and_changes_nothing(seeded, case: Case) -> None:
    before = snapshot(seeded)
    response = requests.request(
        case.method, seeded.url + case.path, data=case.body, headers=case.headers, timeout=10
    )
    assert response.status_code == case.status, response.text
    assert response.headers["Content-Type"] == "application/json"
    answer = response.json()
    assert isinstance(answer["message"], str) and answer["message"]
    assert case.message in answer["message"]
    assert "Traceback" not in response.text
    assert snapshot(seeded) == before
