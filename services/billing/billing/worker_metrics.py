"""The billing worker's metrics (consumer and outbox relay): imported only by the worker process."""

from prometheus_client import Counter, Gauge

orders_processed_total = Counter(
    "orders_processed_total", "orders the worker finished, by outcome", ["outcome"]
)
orders_published_total = Counter(
    "orders_published_total", "orders the outbox relay published to the billing queue (confirmed)"
)
orders_failed_total = Counter("orders_failed_total", "order processing attempts that failed (retried)")
orders_dead_lettered_total = Counter("orders_dead_lettered_total", "orders sent to the dead-letter queue")
# livemax: correct in multiprocess mode too; a dead process's value is dropped with its file.
billing_consumer_up = Gauge(
    "billing_consumer_up", "1 while the worker is consuming the billing queue", multiprocess_mode="livemax"
)
