"""The outbox relay: publishes orders whose message the API could not get confirmed.

The API deletes an order's outbox row once the broker confirmed its message, so a row older
than MIN_AGE_SECONDS means the API crashed, or the broker failed, between commit and confirm.
Rows are claimed with FOR UPDATE SKIP LOCKED, so any number of relays (one per worker
replica) share the work without publishing the same row concurrently. A row is deleted only
after its publish was confirmed: a crash in between publishes it again, and the worker's
idempotent processing absorbs that duplicate (at-least-once delivery, exactly-once effect).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from common.db import Database
from common.errors import DatabaseUnavailable

from billing import metrics
from billing.amqp import BrokerUnavailable, Publisher
from billing.backoff import Backoff

log = logging.getLogger("billing.outbox_relay")

# Longer than the API ever takes between its commit and its own publish, so the relay rarely
# races it (a race only costs a duplicate message, which the worker ignores).
MIN_AGE_SECONDS = 3.0
INTERVAL_SECONDS = 1.0
BATCH_SIZE = 200

CLAIM_SQL = """
    SELECT id, order_id FROM outbox
    WHERE created_at < now() - make_interval(secs => %s)
    ORDER BY created_at, id LIMIT %s
    FOR UPDATE SKIP LOCKED
"""


def relay_once(
    db: Database,
    publish: Callable[[str], None],
    min_age_seconds: float = MIN_AGE_SECONDS,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Publish one batch of stale outbox rows; return how many were published.

    Raises BrokerUnavailable after committing the rows published before the broker failed.
    """
    failure: BrokerUnavailable | None = None
    with db.transaction() as cur:
        cur.execute(CLAIM_SQL, (min_age_seconds, batch_size))
        published = []
        for row in cur.fetchall():
            try:
                publish(str(row["order_id"]))
            except BrokerUnavailable as exc:
                failure = exc
                break
            published.append(row["id"])
        if published:
            cur.execute("DELETE FROM outbox WHERE id = ANY(%s)", (published,))
    metrics.orders_published_total.inc(len(published))
    if published:
        log.info("outbox relay published orders", extra={"count": len(published)})
    if failure is not None:
        raise failure
    return len(published)


class OutboxRelay(threading.Thread):
    """Runs relay_once every INTERVAL_SECONDS until `stop` is set; backs off while a dependency is down."""

    def __init__(self, db: Database, publisher: Publisher, stop: threading.Event):
        super().__init__(name="outbox-relay", daemon=True)
        self._db = db
        self._publisher = publisher
        self._stop_event = stop

    def run(self) -> None:
        backoff = Backoff()
        while not self._stop_event.is_set():
            try:
                while relay_once(self._db, self._publisher.publish_order) == BATCH_SIZE:
                    if self._stop_event.is_set():
                        break
                backoff.reset()
                self._stop_event.wait(INTERVAL_SECONDS)
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
        self._publisher.close()
