"""`python -m billing.redrive`: pending orders whose messages the broker lost get published again."""

from __future__ import annotations

import subprocess
import sys

import servicekit
from billingkit import BillingWorld, Broker


def run_redrive(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return servicekit.run_cli(
        [sys.executable, "-m", "billing.redrive", *args], env, cwd=servicekit.SERVICES / "billing"
    )


def test_redrive_queues_only_old_pending_orders_without_an_outbox_row(
    billing_world: BillingWorld, broker: Broker
) -> None:
    rows = billing_world.query(
        """
        INSERT INTO orders (user_id, movie_id, price, status, reason, created_at, processed_at) VALUES
            (801, 1, 1, 'pending', NULL, now() - interval '20 minutes', NULL),
            (802, 1, 1, 'pending', NULL, now() - interval '1 minute', NULL),
            (803, 1, 1, 'completed', NULL, now() - interval '20 minutes', now()),
            (804, 1, 1, 'pending', NULL, now() - interval '30 minutes', NULL)
        RETURNING user_id, id::text
        """
    )
    ids = dict(rows)
    billing_world.query("INSERT INTO outbox (order_id) VALUES (%s)", (ids[804],))  # already queued

    first = run_redrive(billing_world.env(), "--older-than-minutes", "15")
    assert (first.returncode, first.stdout.strip()) == (0, "1 pending orders queued for the outbox relay")
    outbox = {row[0] for row in billing_world.query("SELECT order_id::text FROM outbox")}
    assert outbox == {ids[801], ids[804]}

    again = run_redrive(billing_world.env(), "--older-than-minutes", "15")
    assert (again.returncode, again.stdout.strip()) == (0, "0 pending orders queued for the outbox relay")


def test_redrive_bad_input_is_one_line_and_writes_nothing(
    billing_world: BillingWorld, broker: Broker
) -> None:
    for args in (["--older-than-minutes", "soon"], ["--older-than-minutes", "-1"]):
        result = run_redrive(billing_world.env(), *args)
        assert result.returncode == 2
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("redrive error:")
    missing = run_redrive({})
    assert missing.returncode == 2 and "DATABASE_URL" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    assert billing_world.scalar("SELECT count(*) FROM outbox") == 0
