"""Billing's code holds docs/contract.md's queue topology and its README's settings table."""

from __future__ import annotations

import json
import re

import pika
import pytest
import servicekit
from billing import config
from billing.topology import Topology

CONTRACT = servicekit.ROOT / "docs" / "contract.md"
README = servicekit.SERVICES / "billing" / "README.md"


def table_rows(text: str, header_start: str) -> list[list[str]]:
    """The cells of the markdown table whose header row starts with `header_start`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def contract_arguments(cell: str, queue: str) -> dict:
    """`x-a: "v"`, `x-b: 5000` (or `none`) as a dict, with <q> replaced by the queue name."""
    if cell == "none":
        return {}
    pairs = re.findall(r"`([a-z-]+): ([^`]+)`", cell)
    assert pairs, f"unparsable contract cell {cell!r}"
    return {key: json.loads(value.replace("<q>", queue)) for key, value in pairs}


def test_declared_topology_is_the_contracts() -> None:
    queue = "billing_queue"
    rows = table_rows(CONTRACT.read_text(), "| queue | durable | arguments |")
    expected = [
        (name.strip("`").replace("<q>", queue), contract_arguments(args, queue))
        for name, durable, args in rows
        if durable == "yes"
    ]
    assert len(expected) == len(rows) == 3
    assert Topology(queue).declarations() == expected


def test_declaring_twice_on_the_broker_is_idempotent(billing_world) -> None:
    """The broker accepts our declarations again (a mismatch would close the channel)."""
    connection = pika.BlockingConnection(pika.URLParameters(servicekit.AMQP_URL))
    try:
        channel = connection.channel()
        billing_world.topology.declare(channel)
        billing_world.topology.declare(channel)
        assert channel.is_open
        with pytest.raises(pika.exceptions.ChannelClosedByBroker, match="PRECONDITION_FAILED"):
            channel.queue_declare(billing_world.queue, durable=True)  # without the contract's arguments
    finally:
        connection.close()


def test_readme_settings_table_matches_the_code() -> None:
    rows = table_rows(README.read_text(), "| variable | billing | billing-worker |")  # generated
    documented = {row[0].strip("`"): row for row in rows}
    api = {s.name: s for s in config.API_SETTINGS}
    worker = {s.name: s for s in config.WORKER_SETTINGS}
    assert set(documented) == set(api) | set(worker)
    for name, (_, in_api, in_worker, required, default, _meaning) in documented.items():
        assert (in_api == "yes", in_worker == "yes") == (name in api, name in worker), name
        setting = api.get(name) or worker[name]
        assert (required == "yes") == setting.required, name
        if setting.default is not None and name != "GUNICORN_WORKERS":
            assert default == f"`{setting.default}`", name
