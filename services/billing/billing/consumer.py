"""The billing queue consumer: acks only after the database commit.

Deliveries already waiting in pika's buffer when one arrives are taken with it, up to BATCH,
and their orders processed in ONE statement (billing.processing). What happens to a delivery:
- processed (completed, rejected, or already processed earlier): ack, together with the
  deliveries processed just before it (one basic.ack multiple per batch);
- poison (not parseable, unknown order): reject without requeue, so the queue dead-letters it
  to `<q>.dlq` at once and the orders behind it are not held up;
- processing failed (any other error): a failed batch is split and each delivery processed on
  its own, so only the failing one is retried: republished to `<q>.retry` with the retry count
  in a header (confirmed), then acked; it comes back after the retry TTL. After
  WORKER_MAX_RETRIES retries: reject, i.e. `<q>.dlq`;
- PostgreSQL unreachable, or inventory unable to say whether a movie exists: no retry is spent
  and no order is decided. The AMQP connection is closed, which requeues this and every
  prefetched message, and consuming resumes once that dependency answers again.
"""

from __future__ import annotations

import contextlib
import logging
import threading

from common.db import Database
from common.errors import DatabaseUnavailable

from billing import amqp, worker_metrics
from billing.backoff import Backoff
from billing.movies import Catalogue, InventoryUnavailable
from billing.processing import Outcome, PoisonMessage, parse_order_id, process_orders
from billing.topology import Topology

log = logging.getLogger("billing.consumer")

# How often the consume loop wakes up with nothing delivered, to notice a stop request.
IDLE_WAKEUP_SECONDS = 0.5
# At most this many deliveries are processed in one statement and acked with one basic.ack
# (multiple): under load the relay publishes in bursts, and one statement, commit and ack per
# burst cost less than one per order. A crash before the ack only redelivers orders already
# committed, which processing recognises.
BATCH = 10


class Consumer:
    def __init__(
        self,
        amqp_url: str,
        topology: Topology,
        db: Database,
        catalogue: Catalogue | None = None,
        *,
        prefetch: int,
        max_retries: int,
        stop: threading.Event,
    ):
        self._amqp_url = amqp_url
        self._topology = topology
        self._db = db
        self._catalogue = catalogue
        self._prefetch = prefetch
        self._max_retries = max_retries
        self._stop = stop
        self.consuming = threading.Event()  # read by /ready
        self._unacked_tag: int | None = None  # the newest processed delivery not acked yet
        self._unacked_count = 0

    def run(self) -> None:
        """Consume until `stop` is set, reconnecting with backoff when RabbitMQ or PostgreSQL fails."""
        backoff = Backoff()
        while not self._stop.is_set():
            connection = None
            try:
                connection, channel = amqp.open_channel(self._amqp_url, self._topology)
                channel.basic_qos(prefetch_count=self._prefetch)
                self._set_up(True)
                log.info("consuming", extra={"queue": self._topology.queue, "prefetch": self._prefetch})
                backoff.reset()
                self._consume(channel)
                self._flush_acks(channel)
                channel.cancel()  # stopping: prefetched, unhandled messages go back to the queue
            except amqp.BROKER_ERRORS as exc:
                self._pause(backoff, "RabbitMQ unavailable", exc)
            except DatabaseUnavailable as exc:
                self._set_up(False)
                amqp.close_quietly(connection)  # requeues the current and prefetched messages
                connection = None
                self._wait_for(backoff, "PostgreSQL", self._db.ping, DatabaseUnavailable, exc)
            except InventoryUnavailable as exc:
                self._set_up(False)
                amqp.close_quietly(connection)  # as above: the orders wait on the queue, undecided
                connection = None
                self._wait_for(backoff, "inventory", self._ping_inventory, InventoryUnavailable, exc)
            finally:
                self._set_up(False)
                amqp.close_quietly(connection)
        log.info("consumer stopped")

    def _consume(self, channel) -> None:
        self._unacked_tag, self._unacked_count = None, 0  # delivery tags belong to one channel
        deliveries = channel.consume(self._topology.queue, inactivity_timeout=IDLE_WAKEUP_SECONDS)
        for delivery in deliveries:
            if self._stop.is_set():
                return
            if delivery[0] is None:  # nothing arrived within IDLE_WAKEUP_SECONDS
                continue
            batch = [delivery]
            while len(batch) < BATCH and channel.get_waiting_message_count():
                batch.append(next(deliveries))  # already buffered: no waiting
            try:
                self.handle(channel, batch)
            except (DatabaseUnavailable, InventoryUnavailable):
                with contextlib.suppress(*amqp.BROKER_ERRORS):
                    self._flush_acks(channel)  # what was committed before the outage stays done
                raise
            if self._unacked_count >= BATCH or channel.get_waiting_message_count() == 0:
                self._flush_acks(channel)

    def _ack(self, tag: int) -> None:
        """Count a committed delivery as done; _consume acks it with the ones before it."""
        self._unacked_tag = tag
        self._unacked_count += 1

    def _flush_acks(self, channel) -> None:
        if self._unacked_tag is not None:
            channel.basic_ack(self._unacked_tag, multiple=True)
            self._unacked_tag, self._unacked_count = None, 0

    def handle(self, channel, deliveries: list[tuple]) -> None:
        """Decide the fate of (method, properties, body) deliveries (see the module docstring);
        DatabaseUnavailable and InventoryUnavailable propagate."""
        parsed = []
        for method, properties, body in deliveries:
            try:
                parsed.append((method, properties, body, parse_order_id(body)))
            except PoisonMessage as exc:
                self._dead_letter(channel, method.delivery_tag, str(exc), None)
        if not parsed:
            return
        try:
            outcomes = process_orders(self._db, [order_id for *_, order_id in parsed], self._catalogue)
        except (DatabaseUnavailable, InventoryUnavailable):
            raise
        except Exception as exc:  # noqa: BLE001 - any processing failure is retried, then dead-lettered
            if len(parsed) > 1:  # which order failed is unknown: each goes again on its own
                for method, properties, body, _ in parsed:
                    self.handle(channel, [(method, properties, body)])
                return
            method, properties, body, order_id = parsed[0]
            self._retry_or_dead_letter(channel, method.delivery_tag, properties, body, order_id, exc)
            return
        for (method, _, _, order_id), outcome in zip(parsed, outcomes, strict=True):
            if outcome is Outcome.UNKNOWN_ORDER:
                self._dead_letter(channel, method.delivery_tag, "unknown order", order_id)
                continue
            if outcome in (Outcome.COMPLETED, Outcome.REJECTED):
                worker_metrics.orders_processed_total.labels(outcome.value).inc()
            self._ack(method.delivery_tag)
            log.info("order processed", extra={"order_id": order_id, "outcome": outcome.value})

    def _retry_or_dead_letter(self, channel, tag, properties, body, order_id, error: Exception) -> None:
        worker_metrics.orders_failed_total.inc()
        headers = dict(properties.headers or {})
        retries = int(headers.get(amqp.RETRY_COUNT_HEADER, 0))
        if retries >= self._max_retries:
            self._dead_letter(
                channel, tag, f"failed after {retries} retries: {type(error).__name__}", order_id
            )
            return
        headers[amqp.RETRY_COUNT_HEADER] = retries + 1
        # Publish the copy (confirmed) before acking the original: a crash in between only duplicates.
        amqp.publish_confirmed(
            channel, self._topology.retry_queue, body, message_id=properties.message_id, headers=headers
        )
        channel.basic_ack(tag)
        log.warning(
            "order processing failed, will retry",
            exc_info=error,
            extra={"order_id": order_id, "retry": retries + 1, "max_retries": self._max_retries},
        )

    def _dead_letter(self, channel, tag, reason: str, order_id: str | None) -> None:
        channel.basic_reject(tag, requeue=False)  # the queue's dead-letter arguments route it to <q>.dlq
        worker_metrics.orders_dead_lettered_total.inc()
        log.error(
            "message dead-lettered",
            extra={
                "order_id": order_id,
                "reason": reason,
                "dead_letter_queue": self._topology.dead_letter_queue,
            },
        )

    def _pause(self, backoff: Backoff, what: str, error: BaseException) -> None:
        self._set_up(False)
        delay = backoff.next_delay()
        log.warning(
            f"{what}, reconnecting",
            extra={"reason": f"{type(error).__name__}: {error!r}", "retry_in": round(delay, 2)},
        )
        self._stop.wait(delay)

    def _wait_for(
        self, backoff: Backoff, name: str, ping, unavailable: type[Exception], error: Exception
    ) -> None:
        while not self._stop.is_set():
            self._pause(backoff, f"{name} unavailable", error)
            try:
                ping()
            except unavailable as exc:
                error = exc
                continue
            log.info(f"{name} is back")
            return

    def _ping_inventory(self) -> None:
        if self._catalogue is not None:  # without one, nothing raised InventoryUnavailable
            self._catalogue.ping()

    def _set_up(self, up: bool) -> None:
        if up:
            self.consuming.set()
        else:
            self.consuming.clear()
        worker_metrics.billing_consumer_up.set(1 if up else 0)
