"""Ordered, idempotent schema migrations, applied under a PostgreSQL advisory lock.

A service lists `(version, sql)` pairs; `apply` runs the ones missing from `schema_migrations`,
each in its own transaction, while holding a session advisory lock so two concurrent runs
(e.g. two Job pods) never apply the same step twice. Run by `python -m <service>.migrate`.
"""

from __future__ import annotations

import logging
import sys
import zlib
from collections.abc import Sequence

import psycopg2

from common import config, jsonlog

log = logging.getLogger("common.migrations")

Migration = tuple[int, str]

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


def _check_order(migrations: Sequence[Migration]) -> None:
    versions = [version for version, _ in migrations]
    if versions != sorted(set(versions)) or any(v < 1 for v in versions):
        raise ValueError(f"migration versions must be unique, positive and ascending: {versions}")


def apply(dsn: str, migrations: Sequence[Migration], lock_name: str) -> list[int]:
    """Apply the missing migrations; return the versions applied now (empty when current)."""
    _check_order(migrations)
    lock_key = zlib.crc32(lock_name.encode())  # stable across processes and Python versions
    conn = psycopg2.connect(dsn, connect_timeout=10)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (lock_key,))
        try:
            conn.autocommit = False
            with conn, conn.cursor() as cur:
                cur.execute(_CREATE_TABLE)
            with conn, conn.cursor() as cur:
                cur.execute("SELECT version FROM schema_migrations")
                done = {row[0] for row in cur.fetchall()}
            applied = []
            for version, sql in migrations:
                if version in done:
                    continue
                with conn, conn.cursor() as cur:  # one transaction per step: all or nothing
                    cur.execute(sql)
                    cur.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
                applied.append(version)
                log.info("migration applied", extra={"version": version})
            return applied
        finally:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", (lock_key,))
    finally:
        conn.close()


def main(service: str, migrations: Sequence[Migration]) -> None:
    """CLI body of `python -m <service>.migrate`: env DATABASE_URL (+ PGPASSWORD)."""
    values = config.load_or_exit((config.DATABASE_URL, config.LOG_LEVEL))
    jsonlog.configure(f"{service}-migrate", values["LOG_LEVEL"])
    try:
        applied = apply(values["DATABASE_URL"], migrations, lock_name=f"{service}-migrations")
    except psycopg2.Error as exc:
        print(f"migration error: {str(exc).strip().splitlines()[0]}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    latest = migrations[-1][0] if migrations else 0
    log.info("schema is current", extra={"applied": applied, "version": latest})
