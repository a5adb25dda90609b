"""What the worker does with one order, in one transaction (idempotent by construction).

The order row is locked (FOR UPDATE), so two deliveries of the same message never process it
concurrently; a non-pending order is left alone, so a redelivery never processes it twice; and
the ledger's primary key on order_id would refuse a second charge even if both checks failed.

Business rule: a user buys a movie once. A second order for the same (user, movie) is
rejected "already purchased" (the ledger's UNIQUE (user_id, movie_id) decides, which also
holds when two workers process both orders at the same moment).
"""

from __future__ import annotations

import enum
import json
import uuid

from common.db import Database

ALREADY_PURCHASED = "already purchased"


class Outcome(enum.StrEnum):
    COMPLETED = "completed"
    REJECTED = "rejected"
    ALREADY_PROCESSED = "already_processed"  # a redelivered or duplicate message: nothing to do
    UNKNOWN_ORDER = "unknown_order"  # poison: no such order in this database


class PoisonMessage(ValueError):
    """A message that no retry can ever make processable."""


def parse_order_id(body: bytes) -> str:
    """The order id in a message body `{"order_id": "<uuid>"}`, or PoisonMessage."""
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PoisonMessage("message body is not JSON") from None
    if not isinstance(message, dict) or not isinstance(message.get("order_id"), str):
        raise PoisonMessage("message has no order_id string")
    try:
        return str(uuid.UUID(message["order_id"]))
    except ValueError:
        raise PoisonMessage("order_id is not a UUID") from None


def process_order(db: Database, order_id: str) -> Outcome:
    with db.transaction() as cur:
        cur.execute(
            "SELECT user_id, movie_id, price, status FROM orders WHERE id = %s FOR UPDATE", (order_id,)
        )
        order = cur.fetchone()
        if order is None:
            return Outcome.UNKNOWN_ORDER
        if order["status"] != "pending":
            return Outcome.ALREADY_PROCESSED
        cur.execute(
            """
            INSERT INTO payments (order_id, user_id, movie_id, amount) VALUES (%s, %s, %s, %s)
            ON CONFLICT (user_id, movie_id) DO NOTHING RETURNING order_id
            """,
            (order_id, order["user_id"], order["movie_id"], order["price"]),
        )
        if cur.fetchone() is None:
            cur.execute(
                "UPDATE orders SET status = 'rejected', reason = %s, processed_at = now() WHERE id = %s",
                (ALREADY_PURCHASED, order_id),
            )
            return Outcome.REJECTED
        cur.execute("UPDATE orders SET status = 'completed', processed_at = now() WHERE id = %s", (order_id,))
        return Outcome.COMPLETED
