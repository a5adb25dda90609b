"""PostgreSQL access: a per-process connection pool that survives forks and server restarts.

The pool is created lazily on first use in each process (never at import, never shared across
a fork) and keeps idle connections for reuse. A connection that broke (PostgreSQL restarted,
backend killed) is discarded and replaced, so a service recovers without a restart; connection
errors surface as `DatabaseUnavailable` (a 503 JSON answer in the HTTP services).

(psycopg2.pool is not used: it keeps at most `minconn` idle connections and opens `minconn`
eagerly, so it either reconnects on every request or connects at start, when the DB may be down.)
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg2
import psycopg2.extensions
import psycopg2.extras

from common.errors import DatabaseUnavailable

log = logging.getLogger("common.db")

CONNECT_TIMEOUT_SECONDS = 3
CHECKOUT_TIMEOUT_SECONDS = 5
# Errors that mean the connection (not the statement) is unusable.
CONNECTION_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError)


class Connection(psycopg2.extensions.connection):
    """A connection that remembers the statements it has prepared (they last for its session)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
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
        conn = cur.connection
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


def connect(dsn: str) -> Connection:
    """A new connection (for the pool, or for a caller that must own one, e.g. to LISTEN);
    DatabaseUnavailable when the server cannot be reached."""
    # Sent in the startup packet (no extra round trip), after any options the DSN carries.
    options = " ".join(filter(None, (psycopg2.extensions.parse_dsn(dsn).get("options"), SESSION_OPTIONS)))
    try:
        return psycopg2.connect(
            dsn, connect_timeout=CONNECT_TIMEOUT_SECONDS, options=options, connection_factory=Connection
        )
    except CONNECTION_ERRORS as exc:
        log.warning("database connect failed", extra={"reason": str(exc).strip()})
        raise DatabaseUnavailable() from exc


def close_quietly(conn: Connection) -> None:
    """Close a connection that may already be broken."""
    try:
        conn.close()
    except CONNECTION_ERRORS:
        pass


class _Pool:
    """At most `size` connections of one process; idle ones reused last-in first-out."""

    def __init__(self, dsn: str, size: int) -> None:
        self.dsn = dsn
        self.size = size
        self.idle: list[Connection] = []
        self.open = 0
        self.available = threading.Condition()

    def get(self) -> Connection:
        with self.available:
            while True:
                while self.idle:
                    conn = self.idle.pop()
                    if _alive(conn):
                        return conn
                    self._forget(conn)  # stale after a server restart: drop it, try the next
                if self.open < self.size:
                    self.open += 1
                    break
                if not self.available.wait(CHECKOUT_TIMEOUT_SECONDS):
                    raise DatabaseUnavailable("database connection pool exhausted, retry later")
        try:  # connect outside the lock: a slow server must not block the other threads
            return connect(self.dsn)
        except DatabaseUnavailable:
            with self.available:
                self.open -= 1
                self.available.notify()
            raise

    def put(self, conn: Connection, *, discard: bool) -> None:
        with self.available:
            if discard or conn.closed:
                self._forget(conn)
            else:
                self.idle.append(conn)
            self.available.notify()

    def _forget(self, conn: Connection) -> None:
        self.open -= 1
        close_quietly(conn)

    def close_idle(self) -> None:
        with self.available:
            while self.idle:
                self._forget(self.idle.pop())


class Database:
    def __init__(self, dsn: str, *, max_connections: int = 8) -> None:
        self.dsn = dsn
        self.max_connections = max_connections
        self._pool: _Pool | None = None
        self._pool_pid: int | None = None
        self._lock = threading.Lock()

    def _get_pool(self) -> _Pool:
        pid = os.getpid()
        if self._pool is None or self._pool_pid != pid:
            with self._lock:
                if self._pool is None or self._pool_pid != pid:
                    # After a fork the parent's sockets are not ours: start a fresh pool.
                    self._pool = _Pool(self.dsn, self.max_connections)
                    self._pool_pid = pid
        return self._pool

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A pooled connection for callers that manage transactions themselves."""
        pool = self._get_pool()
        conn = pool.get()
        broken = False
        try:
            yield conn
        except CONNECTION_ERRORS as exc:
            broken = True
            log.warning("database connection lost", extra={"reason": str(exc).strip()})
            raise DatabaseUnavailable() from exc
        except BaseException:
            broken = not _rollback(conn)
            raise
        finally:
            pool.put(conn, discard=broken)

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
        """Close this process's idle connections (e.g. at shutdown or in tests)."""
        with self._lock:
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.close_idle()
            self._pool = None
            self._pool_pid = None


def _alive(conn: Connection) -> bool:
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


def _rollback(conn: Connection) -> bool:
    try:
        conn.rollback()
        return True
    except CONNECTION_ERRORS:
        return False
