"""Billing API: accept orders (order + outbox row in one transaction) and read them back.

The API never publishes: the outbox relay in the worker does (see outbox_relay), woken by the
NOTIFY that the outbox insert fires. The API only refuses orders while the broker is down.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from common import jsonlog, validation
from common.config import load_or_exit
from common.db import Database
from common.errors import ApiError
from common.web import create_base_app
from flask import Flask, Response, jsonify, request, url_for

from billing import orders
from billing.amqp import TRUST_SECONDS, BrokerLink, BrokerUnavailable
from billing.config import API_SETTINGS
from billing.topology import Topology

SERVICE = "billing"
ORDER_FIELDS = {
    "user_id": validation.positive_int(),
    "movie_id": validation.positive_int(),
    "price": validation.price(),
}
IDEMPOTENCY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as stored in orders.idempotency_key
# The load balancer forwards /billing/* unchanged, so every route also answers there.
PREFIXES = ("", "/billing")

log = logging.getLogger("billing.api")


def idempotency_key() -> str | None:
    raw = request.headers.get(IDEMPOTENCY_HEADER)
    if raw is None:
        return None
    if not _IDEMPOTENCY_KEY.match(raw):
        raise ApiError(
            400, f"{IDEMPOTENCY_HEADER} must be 1-255 visible ASCII characters", field=IDEMPOTENCY_HEADER
        )
    return raw


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    values = load_or_exit(API_SETTINGS, environ)
    jsonlog.configure(SERVICE, values["LOG_LEVEL"])
    db = Database(values["DATABASE_URL"])
    broker = BrokerLink(values["AMQP_URL"], Topology(values["BILLING_QUEUE"]))
    app = create_base_app(SERVICE, values, {"database": db.ping, "rabbitmq": broker.ensure_connected})
    app.extensions["database"] = db
    app.extensions["broker"] = broker

    def accepted(row: dict[str, Any], replayed: bool) -> tuple[Response, int, dict[str, str]]:
        order = orders.to_json(row)
        endpoint = request.endpoint.replace("_create", "_get")
        headers = {"Location": url_for(endpoint, order_id=order["id"])}
        if replayed:
            headers[REPLAYED_HEADER] = "true"
        return jsonify(order), 202, headers

    def replay(row: dict[str, Any], fields: dict[str, Any]) -> tuple[Response, int, dict[str, str]]:
        if not orders.same_request(row, fields["user_id"], fields["movie_id"], fields["price"]):
            raise ApiError(
                422, f"{IDEMPOTENCY_HEADER} was already used for a different order", field=IDEMPOTENCY_HEADER
            )
        return accepted(row, replayed=True)

    def create_order() -> tuple[Response, int, dict[str, str]]:
        fields = validation.validate(validation.json_object(), ORDER_FIELDS)
        key = idempotency_key()
        if key is not None:
            existing = orders.find_by_key(db, key)
            if existing is not None:
                return replay(existing, fields)
        # Refuse while the broker is unreachable: nothing is written, the client retries later.
        # (An order accepted just before the broker fails, or within TRUST_SECONDS after it,
        # waits in the outbox for the relay.)
        try:
            broker.ensure_connected(TRUST_SECONDS)
        except BrokerUnavailable as exc:
            log.warning("order refused: broker unavailable", extra={"reason": str(exc)})
            raise ApiError(503, "message broker unavailable, retry later") from None
        row, created = orders.create_order(db, fields["user_id"], fields["movie_id"], fields["price"], key)
        if not created:
            return replay(row, fields)
        return accepted(row, replayed=False)

    def get_order(order_id: str) -> Response:
        ident = validation.path_uuid(order_id, "order_id")
        row = orders.get_order(db, ident)
        if row is None:
            raise ApiError(404, f"order {ident} not found")
        return jsonify(orders.to_json(row))

    def list_orders() -> Response:
        if "user_id" not in request.args:
            raise ApiError(400, "user_id query parameter is required", field="user_id")
        user_id = validation.query_int(request.args, "user_id", 0, 1, validation.MAX_INT32)
        limit, offset = validation.pagination(request.args)
        rows = orders.list_orders(db, user_id, limit, offset)
        return jsonify(items=[orders.to_json(row) for row in rows], limit=limit, offset=offset)

    for prefix in PREFIXES:
        name = prefix.strip("/") or "root"
        app.add_url_rule(f"{prefix}/orders", f"{name}_list", list_orders, methods=["GET"])
        app.add_url_rule(f"{prefix}/orders", f"{name}_create", create_order, methods=["POST"])
        app.add_url_rule(f"{prefix}/orders/<order_id>", f"{name}_get", get_order, methods=["GET"])
    return app
