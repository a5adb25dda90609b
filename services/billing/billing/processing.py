"""What the worker does with its orders, one statement per batch (idempotent by construction).

The order rows are locked (FOR UPDATE), so two deliveries of the same message never process it
concurrently; a non-pending order is left alone, so a redelivery never processes it twice; and
the ledger's primary key on order_id would refuse a second charge even if both checks failed.

Business rules: a user buys a movie once. A second order for the same (user, movie) is
rejected "already purchased" (the ledger's UNIQUE (user_id, movie_id) decides, which also
holds when two workers process both orders at the same moment). An order for a movie that
inventory does not know is rejected "movie not found", without a ledger row; inventory is asked
before the batch's transaction (billing.movies), so no row lock waits on it, and when it cannot
answer the batch is not processed at all (InventoryUnavailable).
"""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Sequence

from common.db import Database, PreparedStatement

from billing.movies import Catalogue

ALREADY_PURCHASED = "already purchased"
MOVIE_NOT_FOUND = "movie not found"


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


# One statement, so one transaction and one round trip, for a batch of orders: lock them (in id
# order, so concurrent workers cannot deadlock on them), charge those still pending, and record
# each outcome. The charges are inserted in (user, movie, created_at) order: two orders in one
# batch for the same movie by the same user go the way they would one after the other (the
# older one is charged, the newer one rejected), and concurrent workers meet the ledger's keys
# in one order, so they cannot deadlock there either. Orders for the movies in $3 (unknown to
# inventory) are not charged and are rejected with reason $4. `before` is the order's status
# before; `after` is NULL when it was not pending (already processed). Unknown ids return no row.
PROCESS = PreparedStatement(
    "billing_process_orders",
    ("uuid[]", "text", "int[]", "text"),
    """
    WITH o AS (
        SELECT id, user_id, movie_id, price, status, created_at FROM orders
        WHERE id = ANY($1) ORDER BY id FOR UPDATE
    ), charged AS (
        INSERT INTO payments (order_id, user_id, movie_id, amount)
        SELECT id, user_id, movie_id, price FROM o WHERE status = 'pending' AND movie_id <> ALL($3)
        ORDER BY user_id, movie_id, created_at, id
        ON CONFLICT (user_id, movie_id) DO NOTHING
        RETURNING order_id
    ), decided AS (
        UPDATE orders SET
            status = CASE WHEN charged.order_id IS NULL THEN 'rejected' ELSE 'completed' END,
            reason = CASE
                WHEN charged.order_id IS NOT NULL THEN NULL
                WHEN o.movie_id = ANY($3) THEN $4
                ELSE $2
            END,
            processed_at = now()
        FROM o LEFT JOIN charged ON charged.order_id = o.id
        WHERE orders.id = o.id AND o.status = 'pending'
        RETURNING orders.id, orders.status
    )
    SELECT o.id::text AS id, o.status AS before, decided.status AS after
    FROM o LEFT JOIN decided ON decided.id = o.id
""",
)


def process_orders(
    db: Database, order_ids: Sequence[str], catalogue: Catalogue | None = None
) -> list[Outcome]:
    """Process a batch of orders in one statement; each id's outcome, in the order given.

    An id given twice is processed once: its first place gets the outcome, the others
    ALREADY_PROCESSED (the duplicate delivery they are); an unknown id is UNKNOWN_ORDER.
    With a `catalogue`, orders for movies it does not know are rejected MOVIE_NOT_FOUND, and
    its InventoryUnavailable propagates, with nothing written; without one, no movie is checked.
    """
    # An array literal ('{id,id}'): PostgreSQL reads it as the statement's uuid[] (a Python list
    # would be sent as text[], which does not cast to uuid[]). The ids are parsed UUIDs.
    ids = "{" + ",".join(dict.fromkeys(order_ids)) + "}"
    missing = _unknown_movies(db, ids, catalogue) if catalogue is not None else set()
    unknown_movies = "{" + ",".join(str(movie_id) for movie_id in sorted(missing)) + "}"
    with db.statement() as cur:
        PROCESS.execute(cur, (ids, ALREADY_PURCHASED, unknown_movies, MOVIE_NOT_FOUND))
        rows = {row["id"]: row for row in cur.fetchall()}
    outcomes, seen = [], set()
    for order_id in order_ids:
        row = rows.get(order_id)
        if row is None:
            outcomes.append(Outcome.UNKNOWN_ORDER)
        elif row["after"] is None or order_id in seen:
            outcomes.append(Outcome.ALREADY_PROCESSED)
        else:
            outcomes.append(Outcome(row["after"]))
        seen.add(order_id)
    return outcomes


def _unknown_movies(db: Database, ids: str, catalogue: Catalogue) -> set[int]:
    """The movies of the still pending orders among `ids` that `catalogue` does not know.
    Read outside the batch's transaction: no order row stays locked while inventory answers."""
    with db.statement() as cur:
        cur.execute(
            "SELECT DISTINCT movie_id FROM orders WHERE id = ANY(%s::uuid[]) AND status = 'pending'", (ids,)
        )
        movies = [row["movie_id"] for row in cur.fetchall()]
    return catalogue.missing(movies)
