"""The orders API's HTTP routes: /orders and /orders/<id> (registered twice, see billing.api).

An order is accepted as one transaction (the order and its outbox row, billing.orders); the
API never publishes: the outbox relay in the worker does, so taking an order does not depend on
the broker: while RabbitMQ is down, orders wait in the outbox and complete once it is back.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from common import validation
from common.db import Database
from common.errors import ApiError
from flask import Blueprint, Response, current_app, jsonify, request, url_for

from billing import orders

ORDER_FIELDS = {
    "user_id": validation.positive_int(),
    "movie_id": validation.positive_int(),
    "price": validation.price(),
}
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as stored in orders.idempotency_key

log = logging.getLogger("billing.api")
bp = Blueprint("orders", __name__)


def database() -> Database:
    return current_app.extensions["database"]


def idempotency_key() -> str | None:
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    if not IDEMPOTENCY_KEY.match(raw):
        raise ApiError(
            400, f"{IDEMPOTENCY_HEADER} must be 1-255 visible ASCII characters", field=IDEMPOTENCY_HEADER
        )
    return raw


def accepted(row: dict[str, Any], replayed: bool) -> tuple[Response, int, dict[str, str]]:
    order = orders.to_json(row)
    headers = {"Location": url_for(".get_order", order_id=order["id"])}
    if replayed:
        headers[REPLAYED_HEADER] = "true"
    return jsonify(order), 202, headers


def replay(row: dict[str, Any], fields: dict[str, Any]) -> tuple[Response, int, dict[str, str]]:
    if not orders.same_request(row, fields["user_id"], fields["movie_id"], fields["price"]):
        raise ApiError(
            422, f"{IDEMPOTENCY_HEADER} was already used for a different order", field=IDEMPOTENCY_HEADER
        )
    return accepted(row, replayed=True)


@bp.post("/orders")
def create_order() -> tuple[Response, int, dict[str, str]]:
    fields = validation.validate(validation.json_object(), ORDER_FIELDS)
    key = idempotency_key()
    if key is not None:
        existing = orders.find_by_key(database(), key)
        if existing is not None:
            return replay(existing, fields)
    user_id, movie_id, price = fields["user_id"], fields["movie_id"], fields["price"]
    row, created = orders.create_order(database(), user_id, movie_id, price, key)
    if not created:
        return replay(row, fields)
    return accepted(row, replayed=False)


@bp.get("/orders/<order_id>")
def get_order(order_id: str) -> Response:
    ident = validation.path_uuid(order_id, "order_id")
    row = orders.get_order(database(), ident)
    if row is None:
        raise ApiError(404, f"order {ident} not found")
    return jsonify(orders.to_json(row))


@bp.get("/orders")
def list_orders() -> Response:
    if "user_id" not in request.args:
        raise ApiError(400, "user_id query parameter is required", field="user_id")
    user_id = validation.query_int(request.args, "user_id", 0, 1, validation.MAX_INT32)
    limit, offset = validation.pagination(request.args)
    rows = orders.list_orders(database(), user_id, limit, offset)
    return jsonify(items=[orders.to_json(row) for row in rows], limit=limit, offset=offset)
