"""Order storage for the API: SQL for orders and the outbox (one place), returning plain dicts."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from common.db import Database, PreparedStatement

_COLUMNS = "id, user_id, movie_id, price, status, reason, created_at, processed_at"
# One round trip: the order and its outbox row (no outbox row when the key already exists).
# The outbox insert fires the NOTIFY that wakes the relay (schema migration 2).
INSERT = PreparedStatement(
    "billing_insert_order",
    ("integer", "integer", "numeric", "text"),
    f"""
    WITH o AS (
        INSERT INTO orders (user_id, movie_id, price, idempotency_key) VALUES ($1, $2, $3, $4)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING {_COLUMNS}
    ), box AS (INSERT INTO outbox (order_id) SELECT id FROM o RETURNING id, order_id)
    SELECT o.* FROM o JOIN box ON box.order_id = o.id
""",  # noqa: S608
)
BY_KEY_SQL = f"SELECT {_COLUMNS} FROM orders WHERE idempotency_key = %s"  # noqa: S608
BY_ID_SQL = f"SELECT {_COLUMNS} FROM orders WHERE id = %s"  # noqa: S608
BY_USER_SQL = f"""
    SELECT {_COLUMNS} FROM orders WHERE user_id = %s
    ORDER BY created_at DESC, id DESC LIMIT %s OFFSET %s
"""  # noqa: S608


def to_json(row: dict[str, Any]) -> dict[str, Any]:
    processed = row["processed_at"]
    return {
        "id": str(row["id"]),
        "user_id": row["user_id"],
        "movie_id": row["movie_id"],
        # At most 10 significant digits: the float's shortest repr is exactly the stored decimal.
        "price": float(row["price"]),
        "status": row["status"],
        "reason": row["reason"],
        "created_at": row["created_at"].isoformat(),
        "processed_at": processed.isoformat() if processed else None,
    }


def same_request(row: dict[str, Any], user_id: int, movie_id: int, price: Decimal) -> bool:
    """Whether a stored order is what this request body asks for (Idempotency-Key reuse check)."""
    return (row["user_id"], row["movie_id"], row["price"]) == (user_id, movie_id, price)


def create_order(
    db: Database, user_id: int, movie_id: int, price: Decimal, idempotency_key: str | None
) -> tuple[dict[str, Any], bool]:
    """Record a pending order and its outbox row in ONE statement (so one transaction).

    Returns (order row, created); created is False when the Idempotency-Key already named an
    order (that order is returned and nothing is written).
    """
    with db.statement() as cur:
        INSERT.execute(cur, (user_id, movie_id, price, idempotency_key))
        row = cur.fetchone()
        if row is None:  # lost a race with a request carrying the same key
            cur.execute(BY_KEY_SQL, (idempotency_key,))
            return cur.fetchone(), False
        return row, True


def find_by_key(db: Database, idempotency_key: str) -> dict[str, Any] | None:
    with db.statement() as cur:
        cur.execute(BY_KEY_SQL, (idempotency_key,))
        return cur.fetchone()


def get_order(db: Database, order_id: str) -> dict[str, Any] | None:
    with db.statement() as cur:
        cur.execute(BY_ID_SQL, (order_id,))
        return cur.fetchone()


def list_orders(db: Database, user_id: int, limit: int, offset: int) -> list[dict[str, Any]]:
    with db.statement() as cur:
        cur.execute(BY_USER_SQL, (user_id, limit, offset))
        return cur.fetchall()
