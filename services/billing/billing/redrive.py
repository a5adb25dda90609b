"""`python -m billing.redrive [--older-than-minutes N]`: publish pending orders once more.

For after RabbitMQ lost messages it had confirmed (a broker rebuilt without its volume): those
orders stay `pending` with no outbox row. This gives every order pending for longer than N
minutes (default 15) and not already in the outbox a new outbox row, so the relay publishes it
again; the worker ignores any order it has already processed. Orders dead-lettered after their
retries are pending too and get one more round, which is what an operator re-driving wants.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

import psycopg2
from common import config

REDRIVE_SQL = """
    INSERT INTO outbox (order_id)
    SELECT id FROM orders o
    WHERE status = 'pending' AND created_at < now() - make_interval(mins => %s)
      AND NOT EXISTS (SELECT 1 FROM outbox WHERE order_id = o.id)
    ORDER BY created_at
"""


def redrive(dsn: str, older_than_minutes: int) -> int:
    """Queue pending orders older than `older_than_minutes` for the relay; return how many."""
    conn = psycopg2.connect(dsn, connect_timeout=5)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(REDRIVE_SQL, (older_than_minutes,))
            return cur.rowcount
    finally:
        conn.close()


class _OneLineErrors(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        print(f"redrive error: {message}", file=sys.stderr, flush=True)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    parser = _OneLineErrors(prog="python -m billing.redrive", description=__doc__.splitlines()[0])
    parser.add_argument("--older-than-minutes", type=int, default=15, help="only orders pending this long")
    args = parser.parse_args(argv)
    if args.older_than_minutes < 0:
        parser.error("--older-than-minutes must be 0 or more")
    values = config.load_or_exit((config.DATABASE_URL,))
    try:
        count = redrive(values["DATABASE_URL"], args.older_than_minutes)
    except psycopg2.Error as exc:
        print(f"redrive error: {str(exc).strip().splitlines()[0]}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    print(f"{count} pending orders queued for the outbox relay")


if __name__ == "__main__":
    main()
