"""PostgreSQL access: psycopg2's ThreadedConnectionPool, one per process, that survives restarts.

gunicorn serves each request on one thread of one worker process, so a process needs as many
connections as it has threads using the database at once: the HTTP services pass gunicorn's
thread count (common.gunicorn_base.THREADS), the billing worker its own few (consumer, relay,
health probes). The pool is opened on first use, in the process that uses it (never at import,
so never before gunicorn forks), and keeps all its `max_connections` open. A pooled connection
that broke while idle (PostgreSQL restarted, backend killed) is noticed at checkout and
replaced, so a service recovers without a restart; connection errors surface as
`DatabaseUnavailable` (a 503 JSON answer in the HTTP services).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypedDict, cast

import psycopg2
import psycopg2.extensions
import psycopg2.extras
import psycopg2.pool

from common.errors import DatabaseUnavailable

log = logging.getLogger("common.db")

CONNECT_TIMEOUT_SECONDS = 3
# Errors that mean the connection (not the statement) is unusable.
CONNECTION_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError)


class Connection(psycopg2.extensions.connection):
    """A connection that remembers the statements it has prepared (they last for its session)."""

    def __init__(self, dsn: str, async_: int = 0) -> None:
        super().__init__(dsn, async_=async_)
        self.prepared: set[str] = set()


@dataclass(frozen=True)
class PreparedStatement:
    """A statement PostgreSQL parses and plans once per connection instead of once per call.

    `sql` numbers its parameters ($1, $2, ...), whose PostgreSQL types `types` lists. For the hot
    statements only: each connection keeps the plan until it closes. (Not behind a pooler in
    transaction mode, which would hand the session's prepared statements to another client.)
    """

    name: str
    types: tuple[str, ...]
    sql: str

    def execute(self, cur: psycopg2.extensions.cursor, args: Sequence[Any]) -> None:
        # Every connection of this module is a Connection (connection_factory in connect_arguments).
        conn = cast(Connection, cur.connection)
        if self.name not in conn.prepared:
            cur.execute(f"PREPARE {self.name} ({', '.join(self.types)}) AS {self.sql}")
            conn.prepared.add(self.name)
        placeholders = ", ".join(["%s"] * len(args))
        cur.execute(f"EXECUTE {self.name} ({placeholders})", tuple(args))


# Our prepared statements are index lookups whose best plan is the same for every argument, so
# each connection plans them once (the generic plan). Left to its heuristic, PostgreSQL kept
# re-planning the worker's batch statement on every execution (its generic estimate assumes a
# longer id array than the usual one or two), which cost more than the statement itself.
SESSION_OPTIONS = "-c plan_cache_mode=force_generic_plan"


class ConnectArguments(TypedDict):
    dsn: str
    connect_timeout: int
    options: str
    connection_factory: type[Connection]


def connect_arguments(dsn: str) -> ConnectArguments:
    """psycopg2.connect's keyword arguments for `dsn`, with our session options after the DSN's own."""
    # Sent in the startup packet (no extra round trip), after any options the DSN carries.
    options = " ".join(filter(None, (psycopg2.extensions.parse_dsn(dsn).get("options"), SESSION_OPTIONS)))
    return {
        "dsn": dsn,
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "options": options,
        "connection_factory": Connection,
    }


def connect(dsn: str) -> Connection:
    """A connection of its own, outside the pool (e.g. to LISTEN); DatabaseUnavailable when the
    server cannot be reached."""
    try:
        return psycopg2.connect(**connect_arguments(dsn))
    except CONNECTION_ERRORS as exc:
        log.warning("database connect failed", extra={"reason": str(exc).strip()})
        raise DatabaseUnavailable() from exc


def close_quietly(conn: Connection) -> None:
    """Close a connection that may already be broken."""
    try:
        conn.close()
    except CONNECTION_ERRORS:
        pass


class Database:
    def __init__(self, dsn: str, *, max_connections: int = 1) -> None:
        self.dsn = dsn
        self.max_connections = max_connections
        self._pool: psycopg2.pool.ThreadedConnectionPool | None = None
        self._lock = threading.Lock()

    def _checkout(self) -> tuple[psycopg2.pool.ThreadedConnectionPool, Connection]:
        """A pooled connection that is still open (DatabaseUnavailable when none can be had)."""
        try:
            with self._lock:
                if self._pool is None:
                    # Every connection stays pooled (minconn = maxconn), so none is reopened per use.
                    self._pool = psycopg2.pool.ThreadedConnectionPool(
                        self.max_connections, self.max_connections, **connect_arguments(self.dsn)
                    )
                pool = self._pool
            while True:
                # The pool opens its connections with connect_arguments, so each is a Connection.
                conn = cast(Connection, pool.getconn())
                if alive(conn):
                    return pool, conn
                pool.putconn(conn, close=True)  # stale after a server restart: replace it
        except CONNECTION_ERRORS as exc:
            log.warning("database connect failed", extra={"reason": str(exc).strip()})
            raise DatabaseUnavailable() from exc
        except psycopg2.pool.PoolError as exc:
            raise DatabaseUnavailable("database connections exhausted, retry later") from exc

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled connection for callers that manage transactions themselves."""
        pool, conn = self._checkout()
        broken = False
        try:
            yield conn
        except CONNECTION_ERRORS as exc:
            broken = True
            log.warning("database connection lost", extra={"reason": str(exc).strip()})
            raise DatabaseUnavailable() from exc
        except BaseException:
            broken = not rolled_back(conn)
            raise
        finally:
            pool.putconn(conn, close=broken or bool(conn.closed))

    @contextmanager
    def transaction(self) -> Iterator[psycopg2.extras.RealDictCursor]:
        """A cursor (rows as dicts) inside one transaction: commit on success, rollback on error."""
        with self.connection() as conn:
            conn.autocommit = False  # client-side only: psycopg2 sends BEGIN before the first statement
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                yield cur
            conn.commit()

    @contextmanager
    def statement(self) -> Iterator[psycopg2.extras.RealDictCursor]:
        """A cursor (rows as dicts) for work that is ONE statement, which PostgreSQL runs as its own
        transaction: one round trip instead of three (BEGIN, the statement, COMMIT). Each further
        statement on the cursor would be a transaction of its own."""
        with self.connection() as conn:
            conn.autocommit = True
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                yield cur

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless a round trip to the server works (for /ready)."""
        with self.statement() as cur:
            cur.execute("SELECT 1")

    def close(self) -> None:
        """Close this process's connections (e.g. at shutdown or in tests)."""
        with self._lock:
            if self._pool is not None:
                self._pool.closeall()
            self._pool = None


def alive(conn: Connection) -> bool:
    """Cheap liveness check without a round trip: poll() reads what the server sent while idle.

    A terminated backend sends a FATAL message and then closes: the first poll() consumes the
    message, the second one meets the EOF and raises.
    """
    if conn.closed:
        return False
    try:
        conn.poll()
        conn.poll()
    except CONNECTION_ERRORS:
        return False
    return True


def rolled_back(conn: Connection) -> bool:
    try:
        conn.rollback()
        return True
    except CONNECTION_ERRORS:
        return False
