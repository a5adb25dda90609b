"""AMQP plumbing shared by the API (a broker check), the worker and the outbox relay.

pika's BlockingConnection is not thread-safe: every thread owns its own connection. Publishing
always uses publisher confirms and `mandatory`, so "published" means the broker has the message
on a durable queue (or basic_publish raised).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence

import pika
import pika.exceptions

from billing.topology import DEFAULT_EXCHANGE, Topology

log = logging.getLogger(__name__)
# pika logs each failed connect as several ERROR records with tracebacks; the billing code logs
# one line per event (what failed, when it retries), so pika speaks only when it is critical.
logging.getLogger("pika").setLevel(logging.CRITICAL)

# Everything pika (or the socket under it) raises when the broker is unreachable or refuses a message.
BROKER_ERRORS = (pika.exceptions.AMQPError, OSError)
HEARTBEAT_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 2.0
BLOCKED_TIMEOUT_SECONDS = 10.0
RETRY_COUNT_HEADER = "x-billing-retries"


class BrokerUnavailable(Exception):
    """RabbitMQ cannot be reached or did not confirm a message.

    `confirmed` names the order ids of a batch that were confirmed before it failed.
    """

    def __init__(self, message: str, confirmed: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.confirmed = list(confirmed)


def connection_parameters(url: str) -> pika.URLParameters:
    """Short timeouts so a dead broker turns into an error quickly instead of a hung request."""
    params = pika.URLParameters(url)
    params.heartbeat = HEARTBEAT_SECONDS
    params.socket_timeout = CONNECT_TIMEOUT_SECONDS
    params.stack_timeout = CONNECT_TIMEOUT_SECONDS * 2
    params.blocked_connection_timeout = BLOCKED_TIMEOUT_SECONDS
    params.connection_attempts = 1
    return params


def open_channel(url: str, topology: Topology) -> tuple[pika.BlockingConnection, object]:
    """A connection and a confirming channel with the billing queues declared on it."""
    connection = pika.BlockingConnection(connection_parameters(url))
    try:
        channel = connection.channel()
        channel.confirm_delivery()
        topology.declare(channel)
    except BaseException:
        close_quietly(connection)
        raise
    return connection, channel


def close_quietly(connection) -> None:
    if connection is None:
        return
    try:
        if connection.is_open:
            connection.close()
    except BROKER_ERRORS as exc:  # already dead: nothing left to close
        log.debug("closing a broken AMQP connection: %s", exc)


def order_message(order_id: str) -> bytes:
    return json.dumps({"order_id": order_id}).encode()


def order_properties(message_id: str | None, headers: dict | None = None) -> pika.BasicProperties:
    """Every billing message: persistent JSON, its order id as message id."""
    return pika.BasicProperties(
        delivery_mode=pika.DeliveryMode.Persistent,
        content_type="application/json",
        message_id=message_id,
        headers=headers,
    )


def publish_confirmed(
    channel, routing_key: str, body: bytes, *, message_id: str | None = None, headers: dict | None = None
) -> None:
    """Persistent, mandatory, confirmed publish on a blocking channel (the default exchange);
    raises on nack/unroutable."""
    channel.basic_publish(
        DEFAULT_EXCHANGE, routing_key, body, order_properties(message_id, headers), mandatory=True
    )


class BrokerLink:
    """One lazily (re)opened confirming channel per process, shared by its threads under a lock.

    The API holds one to refuse orders (503) while the broker is unreachable, and for /ready.
    (The outbox relay publishes through billing.publisher.) Made by create_app in each gunicorn
    worker (the app is not preloaded), so no connection crosses a fork.
    """

    def __init__(self, url: str, topology: Topology):
        self._url = url
        self._topology = topology
        self._lock = threading.Lock()
        self._connection: pika.BlockingConnection | None = None
        self._channel = None

    def _usable(self) -> bool:
        if self._connection is None or not (self._connection.is_open and self._channel.is_open):
            return False
        try:
            # Services heartbeats and notices a connection the broker closed while we were idle.
            self._connection.process_data_events(time_limit=0)
        except BROKER_ERRORS:
            return False
        return self._connection.is_open and self._channel.is_open

    def ensure_connected(self) -> None:
        """Raise BrokerUnavailable unless a confirming channel is open."""
        with self._lock:
            if self._usable():
                return
            close_quietly(self._connection)
            self._connection = self._channel = None
            try:
                self._connection, self._channel = open_channel(self._url, self._topology)
            except BROKER_ERRORS as exc:
                raise BrokerUnavailable(f"cannot reach RabbitMQ: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            close_quietly(self._connection)
            self._connection = self._channel = None
