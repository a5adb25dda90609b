"""The billing API's broker check (billing.amqp.BrokerLink) against the real RabbitMQ, reached
through a TCP relay the test cuts: the broker's end of every connection vanishes and new
connections are refused, as when RabbitMQ dies. No server control is needed."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from billing.amqp import TRUST_SECONDS, BrokerLink, BrokerUnavailable
from billingkit import BillingWorld, CuttableRelay


@pytest.fixture
def relay() -> Iterator[CuttableRelay]:
    with CuttableRelay() as cuttable:
        yield cuttable


@pytest.fixture
def link(relay: CuttableRelay, billing_world: BillingWorld) -> Iterator[BrokerLink]:
    broker_link = BrokerLink(relay.amqp_url, billing_world.topology)
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
