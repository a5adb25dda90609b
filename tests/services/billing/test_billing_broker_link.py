"""The billing API's broker check (billing.amqp.BrokerLink) against the real RabbitMQ, reached
through a TCP relay the test cuts: the broker's end of every connection vanishes and new
connections are refused, as when RabbitMQ dies. No server control is needed."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest
from billing.amqp import TRUST_SECONDS, BrokerLink, BrokerUnavailable
from billingkit import BillingWorld
from servicekit import AMQP_URL


class CuttableRelay:
    """Relays TCP connections from a local port to RabbitMQ until cut()."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:  # cut
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            sock.close()

    def cut(self) -> None:
        for sock in [self.listener, *self.sockets]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        # Only now: a close while accept() blocks would leave the port accepting (Linux keeps
        # the file open for the blocked call); the shutdown above has woken it.
        self.listener.close()


@pytest.fixture
def relay() -> Iterator[CuttableRelay]:
    parts = urlsplit(AMQP_URL)
    cuttable = CuttableRelay((parts.hostname or "127.0.0.1", parts.port or 5672))
    yield cuttable
    cuttable.cut()


@pytest.fixture
def link(relay: CuttableRelay, billing_world: BillingWorld) -> Iterator[BrokerLink]:
    parts = urlsplit(AMQP_URL)
    credentials = parts.netloc.rpartition("@")[0]
    url = urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{relay.port}"))
    broker_link = BrokerLink(url, billing_world.topology)
    yield broker_link
    broker_link.close()


def test_the_readiness_check_notices_a_dead_broker_at_once(link: BrokerLink, relay: CuttableRelay) -> None:
    link.ensure_connected()
    relay.cut()
    with pytest.raises(BrokerUnavailable, match="cannot reach RabbitMQ"):
        link.ensure_connected()


def test_the_order_path_trusts_a_fresh_proof_then_probes_again(
    link: BrokerLink, relay: CuttableRelay
) -> None:
    link.ensure_connected(TRUST_SECONDS)
    relay.cut()
    # Within the window no probe is made: an order here is accepted and waits in the outbox.
    link.ensure_connected(TRUST_SECONDS)
    time.sleep(TRUST_SECONDS)
    with pytest.raises(BrokerUnavailable, match="cannot reach RabbitMQ"):
        link.ensure_connected(TRUST_SECONDS)


def test_a_trusted_check_does_not_renew_the_trust(link: BrokerLink, relay: CuttableRelay) -> None:
    """Checks more often than the window must still probe once per window (orders keep coming
    while the broker is down: they must start being refused)."""
    link.ensure_connected()
    deadline = time.monotonic() + TRUST_SECONDS * 0.9
    while time.monotonic() < deadline:
        link.ensure_connected(TRUST_SECONDS)
        time.sleep(TRUST_SECONDS / 10)
    relay.cut()
    time.sleep(TRUST_SECONDS * 0.2)
    with pytest.raises(BrokerUnavailable):
        link.ensure_connected(TRUST_SECONDS)
