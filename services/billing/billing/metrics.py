"""Billing's publishing metric, moved by the API and by the outbox relay (in the worker process).

The worker's own series are in billing.worker_metrics, so the API never exposes a consumer
gauge stuck at 0 or counters it cannot move.
"""

from prometheus_client import Counter

orders_published_total = Counter("orders_published_total", "orders published to the billing queue")
