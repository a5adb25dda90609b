"""`python -m billing.worker`: the billing worker process.

Main thread: the queue consumer. Beside it: the outbox relay (its own AMQP connection) and the
health/metrics HTTP server. SIGTERM/SIGINT: finish the current message, then close cleanly.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading

from common import config, jsonlog, metrics
from common.db import Database

from billing import worker_metrics
from billing.config import WORKER_SETTINGS
from billing.consumer import Consumer
from billing.health_server import start as start_health_server
from billing.movies import Catalogue
from billing.outbox_relay import OutboxRelay
from billing.publisher import BatchPublisher
from billing.topology import Topology

SERVICE = "billing-worker"
log = logging.getLogger("billing.worker")


def main() -> None:
    values = config.load_or_exit(WORKER_SETTINGS)
    jsonlog.configure(SERVICE, values["LOG_LEVEL"])
    stop = threading.Event()

    def request_stop(signum: int, _frame) -> None:
        log.info("stop requested", extra={"signal": signal.Signals(signum).name})
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    db = Database(values["DATABASE_URL"], max_connections=4)
    topology = Topology(values["BILLING_QUEUE"])
    consumer = Consumer(
        values["AMQP_URL"],
        topology,
        db,
        Catalogue(values["INVENTORY_URL"]),
        prefetch=values["WORKER_PREFETCH"],
        max_retries=values["WORKER_MAX_RETRIES"],
        stop=stop,
    )
    relay = OutboxRelay(db, BatchPublisher(values["AMQP_URL"], topology), stop)
    try:
        server = start_health_server(
            values["PORT"], SERVICE, {"rabbitmq": consumer.consuming.is_set, "database": db.ping}
        )
    except OSError as exc:  # e.g. the port is taken: one line, like a config error
        print(f"error: cannot listen on port {values['PORT']}: {exc.strerror}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    worker_metrics.billing_consumer_up.set(0)
    relay.start()
    log.info("worker started", extra={"port": values["PORT"], "queue": topology.queue})
    try:
        consumer.run()
    finally:
        stop.set()
        relay.join(timeout=10)
        server.shutdown()
        db.close()
        metrics.mark_process_dead(os.getpid())
        log.info("worker stopped")


if __name__ == "__main__":
    main()
