"""The outbox relay's publisher: order messages on pika's BlockingConnection, each one confirmed.

The channel is in confirm mode (`confirm_delivery()`), and every message is persistent and
mandatory: `basic_publish` returns once RabbitMQ has acked the message, and raises when the broker
nacks it or returns it unroutable. One thread at a time (the relay's).
"""

from __future__ import annotations

from collections.abc import Sequence

import pika.exceptions

from billing.amqp import (
    BLOCKED_TIMEOUT_SECONDS,
    BROKER_ERRORS,
    BrokerUnavailable,
    close_quietly,
    open_channel,
    order_message,
    publish_confirmed,
)
from billing.topology import Topology

# A broker that blocks publishers (a memory or disk alarm) confirms nothing; pika closes the
# connection after this long blocked, which fails the batch. The rows stay in the outbox.
CONFIRM_TIMEOUT_SECONDS = BLOCKED_TIMEOUT_SECONDS


def refusal(error: BaseException) -> str:
    """Why a publish was not confirmed, for the log and BrokerUnavailable."""
    if isinstance(error, pika.exceptions.UnroutableError):
        return "unroutable (no queue took it)"
    if isinstance(error, pika.exceptions.NackError):
        return "nacked by the broker"
    return f"{type(error).__name__}: {error}"


class BatchPublisher:
    def __init__(self, url: str, topology: Topology) -> None:
        self._url = url
        self._topology = topology
        self._connection: pika.BlockingConnection | None = None
        self._channel = None

    def _ensure_open(self) -> None:
        if self._connection is not None and self._connection.is_open and self._channel.is_open:
            return
        self.close()
        try:
            self._connection, self._channel = open_channel(self._url, self._topology)
        except BROKER_ERRORS as exc:
            raise BrokerUnavailable(f"cannot reach RabbitMQ: {type(exc).__name__}: {exc}") from exc

    def publish_orders(self, order_ids: Sequence[str]) -> list[str]:
        """Publish one message per order, in order; return the order ids RabbitMQ confirmed.

        Raises BrokerUnavailable at the first message refused (nacked, returned unroutable) or
        lost with the connection; its `confirmed` lists the order ids confirmed before it. The
        connection is then closed, and the next call opens (and declares) anew.
        """
        self._ensure_open()
        confirmed: list[str] = []
        try:
            for order_id in order_ids:
                body = order_message(order_id)
                publish_confirmed(self._channel, self._topology.queue, body, message_id=order_id)
                confirmed.append(order_id)
        except BROKER_ERRORS as exc:
            self.close()
            raise BrokerUnavailable(f"publish not confirmed: {refusal(exc)}", confirmed=confirmed) from exc
        return confirmed

    def keep_alive(self) -> None:
        """Let pika answer heartbeats and notice a closed connection (the relay calls this
        whenever it wakes without work, so an idle connection is not dropped by the broker)."""
        if self._connection is None:
            return
        try:
            self._connection.process_data_events(time_limit=0)
        except BROKER_ERRORS:
            self.close()

    def close(self) -> None:
        close_quietly(self._connection)
        self._connection = self._channel = None
