"""Helpers for the billing tests: the broker seen from outside, database queries, polling, metrics."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import pika
import pika.exceptions
import psycopg2
import psycopg2.extensions
import requests
import servicekit
from billing.topology import Topology
from prometheus_client.parser import text_string_to_metric_families

T = TypeVar("T")


@dataclass(frozen=True)
class BillingWorld:
    """A billing database and queue that only the billing tests use, and the inventory their
    workers ask about movies (a StandInInventory)."""

    database_url: str
    queue: str
    inventory_url: str

    @property
    def topology(self) -> Topology:
        return Topology(self.queue)

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "AMQP_URL": servicekit.AMQP_URL,
            "BILLING_QUEUE": self.queue,
            "INVENTORY_URL": self.inventory_url,
            **extra,
        }

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return servicekit.query(self.database_url, sql, params)

    def scalar(self, sql: str, params: tuple = ()):
        return self.query(sql, params)[0][0]

    def commit_orders(self, count: int, user_id: int) -> list[str]:
        """`count` pending orders (movies 1..count) with their outbox rows, as the API commits them."""
        rows = self.query(
            """
            WITH o AS (INSERT INTO orders (user_id, movie_id, price)
                       SELECT %s, m, 1 FROM generate_series(1, %s) AS m RETURNING id)
            INSERT INTO outbox (order_id) SELECT id FROM o RETURNING order_id::text
            """,
            (user_id, count),
        )
        return [row[0] for row in rows]

    def listen(self, channel: str) -> psycopg2.extensions.connection:
        """A connection LISTENing on `channel` (poll() it, read .notifies; close it after)."""
        conn = psycopg2.connect(self.database_url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f"LISTEN {channel}")
        return conn


def wait_until(what: str, probe: Callable[[], T], timeout: float = 30, interval: float = 0.1) -> T:
    """Poll `probe` until it returns something truthy; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class StandInInventory:
    """A stand-in for inventory (not the real service): every movie exists. The billing tests
    order movies 1..N that no inventory holds; the worker's movie check itself is tested
    against the real inventory in test_billing_movie_check.py."""

    def __init__(self) -> None:
        class AlwaysFound(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                body = b'{"status": "ok"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), AlwaysFound)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Broker:
    """A test-side AMQP connection to inspect and feed the billing queues."""

    def __init__(self, topology: Topology) -> None:
        self.topology = topology
        self.connection = pika.BlockingConnection(pika.URLParameters(servicekit.AMQP_URL))
        self.channel = self.connection.channel()
        topology.declare(self.channel)

    def counts(self, queue: str) -> tuple[int, int]:
        """(ready messages, consumers) of a queue."""
        ok = self.channel.queue_declare(queue=queue, passive=True).method
        return ok.message_count, ok.consumer_count

    def purge_all(self) -> None:
        for name, _ in self.topology.declarations():
            self.channel.queue_purge(name)

    def publish(self, queue: str, body: bytes) -> None:
        self.channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))

    def take_all(self, queue: str) -> list[tuple[pika.BasicProperties, bytes]]:
        """Remove and return every message now in `queue`."""
        taken = []
        while True:
            method, properties, body = self.channel.basic_get(queue, auto_ack=True)
            if method is None:
                return taken
            taken.append((properties, body))

    def close(self) -> None:
        with contextlib.suppress(pika.exceptions.AMQPError):  # a disruptive test may have killed it
            if self.connection.is_open:
                self.connection.close()


def metric(base_url: str, name: str, **labels: str) -> float:
    """One sample's value from a /metrics page (0 when the series does not exist yet)."""
    text = requests.get(f"{base_url}/metrics", timeout=5).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


def post_order(
    base_url: str,
    user_id: int,
    movie_id: int,
    price: str = "4.99",
    key: str | None = None,
    session: requests.Session | None = None,
) -> requests.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return (session or requests).post(
        f"{base_url}/orders",
        json={"user_id": user_id, "movie_id": movie_id, "price": price},
        headers=headers,
        timeout=10,
    )


def status_counts(world: BillingWorld, order_ids: list[str]) -> dict[str, int]:
    rows = world.query(
        "SELECT status, count(*) FROM orders WHERE id = ANY(%s::uuid[]) GROUP BY status", (order_ids,)
    )
    return dict(rows)


@contextlib.contextmanager
def payments_trigger(world: BillingWorld, movie_id: int, body: str) -> Iterator[None]:
    """A BEFORE INSERT trigger on the ledger for one movie id: how a test makes processing fail or stall.

    It runs inside the worker's real transaction; nothing in the worker is replaced.
    """
    name = f"test_trigger_{movie_id}"
    world.query(
        f"""
        CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body}; RETURN NEW; END $$;
        CREATE TRIGGER {name} BEFORE INSERT ON payments FOR EACH ROW
            WHEN (NEW.movie_id = {movie_id}) EXECUTE FUNCTION {name}();
        """
    )
    try:
        yield
    finally:
        world.query(f"DROP TRIGGER {name} ON payments; DROP FUNCTION {name}();")


class CuttableRelay:
    """Relays TCP connections from a local port to RabbitMQ until cut(): then the broker's end of
    every connection vanishes and new connections are refused, as when RabbitMQ dies."""

    def __init__(self) -> None:
        parts = urlsplit(servicekit.AMQP_URL)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 5672)
        self.listener = socket.create_server(("127.0.0.1", 0))
        credentials = parts.netloc.rpartition("@")[0]
        port = self.listener.getsockname()[1]
        self.amqp_url = urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{port}"))
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def __enter__(self) -> CuttableRelay:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.cut()

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
