"""The billing API's broker check (billing.amqp.BrokerLink) against the real RabbitMQ, reached
through a TCP relay the test cuts: the broker's end of every connection vanishes and new
connections are refused, as when RabbitMQ dies. No server control is needed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from billing.amqp import BrokerLink, BrokerUnavailable
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


def test_a_dead_broker_is_noticed_by_the_next_check(link: BrokerLink, relay: CuttableRelay) -> None:
    """The order path and /ready make the same check: a probe every time, nothing trusted."""
    link.ensure_connected()
    link.ensure_connected()  # an open link is kept, not reopened
    assert len(relay.sockets) == 2  # one relayed connection: its two ends
    relay.cut()
    with pytest.raises(BrokerUnavailable, match="cannot reach RabbitMQ"):
        link.ensure_connected()
