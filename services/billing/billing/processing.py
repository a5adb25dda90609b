"""What the worker does with one order, in one statement (idempotent by construction).

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

from common.db import Database, PreparedStatement

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


# One statement, so one transaction and one round trip: lock the order, charge it unless it is
# no longer pending, and record the outcome. `before` is NULL for an unknown order; `after` is
# NULL when the order was not pending (already processed).
PROCESS = PreparedStatement(
    "billing_process_order",
    ("uuid", "text"),
    """
    WITH o AS (
        SELECT id, user_id, movie_id, price, status FROM orders WHERE id = $1 FOR UPDATE
    ), charged AS (
        INSERT INTO payments (order_id, user_id, movie_id, amount)
        SELECT id, user_id, movie_id, price FROM o WHERE status = 'pending'
        ON CONFLICT (user_id, movie_id) DO NOTHING
        RETURNING order_id
    ), decided AS (
        UPDATE orders SET
            status = CASE WHEN EXISTS (SELECT FROM charged) THEN 'completed' ELSE 'rejected' END,
            reason = CASE WHEN EXISTS (SELECT FROM charged) THEN NULL ELSE $2 END,
            processed_at = now()
        WHERE id = (SELECT id FROM o WHERE status = 'pending')
        RETURNING status
    )
    SELECT (SELECT status FROM o) AS before, (SELECT status FROM decided) AS after
""",
)


def process_order(db: Database, order_id: str) -> Outcome:
    with db.statement() as cur:
        PROCESS.execute(cur, (order_id, ALREADY_PURCHASED))
        row = cur.fetchone()
    if row["before"] is None:
        return Outcome.UNKNOWN_ORDER
    if row["after"] is None:
        return Outcome.ALREADY_PROCESSED
    return Outcome(row["after"])
