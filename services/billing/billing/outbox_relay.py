"""The outbox relay: the only publisher of order messages.

The API commits each order with an outbox row; the row's insert fires a NOTIFY on
NOTIFY_CHANNEL (schema migration 2), which wakes the relay at once, and the relay also looks
every INTERVAL_SECONDS in case a notification was lost with its connection. Rows are claimed
with FOR UPDATE SKIP LOCKED, so any number of relays (one per worker replica) share the work
without publishing the same row concurrently. A row is deleted only after its publish was
confirmed, in the same transaction that claimed it: a crash in between publishes it again, and
the worker's idempotent processing absorbs that duplicate (at-least-once delivery,
exactly-once effect). Under load one wake-up publishes every row committed since the last,
and deletes them with one statement; nothing waits on purpose for more rows to come.
"""

from __future__ import annotations

import logging
import select
import threading
import time
from collections.abc import Callable

from common.db import CONNECTION_ERRORS, Database, close_quietly, connect
from common.errors import DatabaseUnavailable

from billing import worker_metrics
from billing.amqp import BrokerUnavailable
from billing.backoff import Backoff
from billing.publisher import BatchPublisher

log = logging.getLogger("billing.outbox_relay")

# How long the relay sleeps when no NOTIFY arrives: a notification lost with a dropped
# listening connection delays a row by at most this long.
INTERVAL_SECONDS = 1.0
# How often a waiting relay checks for a stop request.
STOP_CHECK_SECONDS = 0.5
BATCH_SIZE = 200
# The API's INSERT INTO outbox fires a statement trigger that NOTIFYs this channel (schema v2).
NOTIFY_CHANNEL = "billing_outbox"

CLAIM_SQL = """
    SELECT id, order_id FROM outbox
    ORDER BY id LIMIT %s
    FOR UPDATE SKIP LOCKED
"""


def relay_once(db: Database, publish: Callable[[list[str]], list[str]], batch_size: int = BATCH_SIZE) -> int:
    """Publish one batch of outbox rows; return how many were published.

    `publish` takes order ids and returns those the broker confirmed (BatchPublisher's
    publish_orders). Raises BrokerUnavailable after deleting the rows confirmed before the
    broker failed; the others stay for the next attempt.
    """
    failure: BrokerUnavailable | None = None
    with db.transaction() as cur:
        cur.execute(CLAIM_SQL, (batch_size,))
        rows = [(row["id"], str(row["order_id"])) for row in cur.fetchall()]
        if not rows:
            return 0
        try:
            confirmed = set(publish(list(dict.fromkeys(order_id for _, order_id in rows))))
        except BrokerUnavailable as exc:
            failure, confirmed = exc, set(exc.confirmed)
        published = [row_id for row_id, order_id in rows if order_id in confirmed]
        if published:
            cur.execute("DELETE FROM outbox WHERE id = ANY(%s)", (published,))
    worker_metrics.orders_published_total.inc(len(published))
    if failure is not None:
        raise failure
    return len(published)


class Listener:
    """A dedicated autocommit connection LISTENing on NOTIFY_CHANNEL (never pooled)."""

    def __init__(self, dsn: str):
        self._dsn = dsn
        self._conn = None

    def _connect(self):
        if self._conn is None or self._conn.closed:
            conn = connect(self._dsn)
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self._conn = conn
        return self._conn

    def listen(self) -> None:
        """Make sure the LISTEN is in place (call before draining, so no insert goes unnoticed)."""
        self._connect()

    def wait(self, timeout: float) -> bool:
        """Whether a notification arrived within `timeout` seconds; raises DatabaseUnavailable."""
        conn = self._connect()
        try:
            if not conn.notifies:
                select.select([conn], [], [], timeout)
            conn.poll()
        except CONNECTION_ERRORS as exc:
            self.close()
            raise DatabaseUnavailable() from exc
        notified = bool(conn.notifies)
        conn.notifies.clear()
        return notified

    def close(self) -> None:
        if self._conn is not None:
            close_quietly(self._conn)
        self._conn = None


class OutboxRelay(threading.Thread):
    """Publishes outbox rows as soon as a NOTIFY says some were committed (and every
    INTERVAL_SECONDS regardless) until `stop` is set; backs off while a dependency is down."""

    def __init__(self, db: Database, publisher: BatchPublisher, stop: threading.Event):
        super().__init__(name="outbox-relay", daemon=True)
        self._db = db
        self._publisher = publisher
        self._stop_event = stop
        self._listener = Listener(db.dsn)

    def run(self) -> None:
        backoff = Backoff()
        while not self._stop_event.is_set():
            try:
                self._listener.listen()
                while relay_once(self._db, self._publisher.publish_orders) == BATCH_SIZE:
                    if self._stop_event.is_set():
                        break
                backoff.reset()
                self._sleep_until_notified()
            except (BrokerUnavailable, DatabaseUnavailable) as exc:
                delay = backoff.next_delay()
                log.warning(
                    "outbox relay waiting for a dependency",
                    extra={"reason": str(exc), "retry_in": round(delay, 2)},
                )
                self._stop_event.wait(delay)
            except Exception:  # noqa: BLE001 - the relay must outlive one bad batch; logged with traceback
                log.exception("outbox relay batch failed")
                self._stop_event.wait(backoff.next_delay())
        self._listener.close()
        self._publisher.close()

    def _sleep_until_notified(self) -> None:
        """Until a NOTIFY, INTERVAL_SECONDS or a stop request, whichever comes first."""
        deadline = time.monotonic() + INTERVAL_SECONDS
        while not self._stop_event.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._listener.wait(min(remaining, STOP_CHECK_SECONDS)):
                return
            self._publisher.keep_alive()
