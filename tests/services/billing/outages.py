"""Stop and start the machine's real PostgreSQL and RabbitMQ for the disruptive tests (marked
`server_control` too: tests/servercontrol.py runs the commands and checks that they control the
servers these tests talk to).

Every helper restores the service in a `finally` and waits until it answers again, so a failing
test never leaves the machine without its database or broker.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import pika
import psycopg2
import servicekit
from servercontrol import check, pg_ctl


def _wait(what: str, probe, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe()
            return
        except Exception as exc:  # noqa: BLE001 - anything means "not back yet"
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not come back within {timeout}s: {exc}") from exc
            time.sleep(0.2)


def wait_postgres() -> None:
    _wait("PostgreSQL", lambda: psycopg2.connect(servicekit.PG_ADMIN_URL, connect_timeout=2).close())


def wait_rabbitmq() -> None:
    _wait("RabbitMQ", lambda: pika.BlockingConnection(pika.URLParameters(servicekit.AMQP_URL)).close())


def restart_postgres() -> None:
    try:
        pg_ctl("restart")
    finally:
        with contextlib.suppress(RuntimeError):  # already running if restart worked
            pg_ctl("start")
        wait_postgres()


@contextlib.contextmanager
def postgres_stopped() -> Iterator[None]:
    pg_ctl("stop")
    try:
        yield
    finally:
        with contextlib.suppress(RuntimeError):
            pg_ctl("start")
        wait_postgres()


@contextlib.contextmanager
def rabbitmq_stopped() -> Iterator[None]:
    """The broker application stopped (the Erlang node stays up, so start_app is quick)."""
    check("rabbitmqctl", "stop_app")
    try:
        yield
    finally:
        with contextlib.suppress(RuntimeError):  # wait_rabbitmq names the failure if it stays down
            check("rabbitmqctl", "start_app")
        wait_rabbitmq()
