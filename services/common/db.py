"""PostgreSQL access: a per-process connection pool that survives forks and server restarts.

The pool is created lazily on first use in each process (never at import, never shared across
a fork). A connection that broke (PostgreSQL restarted, backend killed) is discarded and
replaced, so a service recovers without a restart; connection errors surface as
`DatabaseUnavailable` (a 503 JSON answer in the HTTP services).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import psycopg2.extras
import psycopg2.pool

from common.errors import DatabaseUnavailable

log = logging.getLogger("common.db")

CONNECT_TIMEOUT_SECONDS = 3
# Errors that mean the connection (not the statement) is unusable.
CONNECTION_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError)


class Database:
    def __init__(self, dsn: str, *, max_connections: int = 8) -> None:
        self.dsn = dsn
        self.max_connections = max_connections
        self._pool: psycopg2.pool.ThreadedConnectionPool | None = None
        self._pool_pid: int | None = None
        self._lock = threading.Lock()

    def _get_pool(self) -> psycopg2.pool.ThreadedConnectionPool:
        pid = os.getpid()
        if self._pool is None or self._pool_pid != pid:
            with self._lock:
                if self._pool is None or self._pool_pid != pid:
                    # After a fork the parent's sockets are not ours: start a fresh pool.
                    self._pool = psycopg2.pool.ThreadedConnectionPool(
                        0, self.max_connections, self.dsn, connect_timeout=CONNECT_TIMEOUT_SECONDS
                    )
                    self._pool_pid = pid
        return self._pool

    def _checkout(self) -> psycopg2.extensions.connection:
        pool = self._get_pool()
        for _ in range(self.max_connections + 1):
            try:
                conn = pool.getconn()
            except psycopg2.pool.PoolError as exc:
                raise DatabaseUnavailable("database connection pool exhausted, retry later") from exc
            except CONNECTION_ERRORS as exc:
                log.warning("database connect failed", extra={"reason": str(exc).strip()})
                raise DatabaseUnavailable() from exc
            if _alive(conn):
                return conn
            pool.putconn(conn, close=True)  # stale after a server restart: drop, take another
        raise DatabaseUnavailable()

    @contextmanager
    def transaction(self) -> Iterator[psycopg2.extras.RealDictCursor]:
        """A cursor (rows as dicts) inside one transaction: commit on success, rollback on error."""
        conn = self._checkout()
        broken = False
        try:
            with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                yield cur
            conn.commit()
        except CONNECTION_ERRORS as exc:
            broken = True
            log.warning("database connection lost", extra={"reason": str(exc).strip()})
            raise DatabaseUnavailable() from exc
        except BaseException:
            broken = not _rollback(conn)
            raise
        finally:
            self._get_pool().putconn(conn, close=broken or bool(conn.closed))

    def ping(self) -> None:
        """Raise DatabaseUnavailable unless a round trip to the server works (for /ready)."""
        with self.transaction() as cur:
            cur.execute("SELECT 1")

    def close(self) -> None:
        with self._lock:
            if self._pool is not None and self._pool_pid == os.getpid():
                self._pool.closeall()
            self._pool = None
            self._pool_pid = None


def _alive(conn: psycopg2.extensions.connection) -> bool:
    """Cheap liveness check without a round trip: poll() reads a pending EOF/termination."""
    if conn.closed:
        return False
    try:
        conn.poll()
    except CONNECTION_ERRORS:
        return False
    return True


def _rollback(conn: psycopg2.extensions.connection) -> bool:
    try:
        conn.rollback()
        return True
    except CONNECTION_ERRORS:
        return False
