"""AMQP plumbing shared by the worker and its outbox relay (the API never talks to the broker).

pika's BlockingConnection is not thread-safe: every thread owns its own connection. Publishing
always uses publisher confirms and `mandatory`, so "published" means the broker has the message
on a durable queue (or basic_publish raised).
"""

from __future__ import annotations

import json
import logging
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
