"""Inventory's schema: migrations are idempotent and title search uses the trigram index."""

from __future__ import annotations

import sys

import psycopg2
import servicekit
from inventory import movies

INVENTORY = servicekit.SERVICES / "inventory"


def test_migrate_again_applies_nothing_and_exits_0(inventory_db: str) -> None:
    again = servicekit.run_cli(
        [sys.executable, "-m", "inventory.migrate"], {"DATABASE_URL": inventory_db}, cwd=INVENTORY
    )
    assert again.returncode == 0, again.stderr
    assert '"applied": []' in again.stdout
    versions = servicekit.query(inventory_db, "SELECT version FROM schema_migrations ORDER BY version")
    assert versions == [(1,), (2,)]


def test_migrate_with_bad_database_url_fails_with_one_line() -> None:
    failed = servicekit.run_cli(
        [sys.executable, "-m", "inventory.migrate"],
        {"DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
        cwd=INVENTORY,
    )
    assert failed.returncode == 1
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("migration error:")


def test_title_search_uses_the_trigram_index() -> None:
    with servicekit.fresh_database(f"inventory_x{servicekit.RUN_ID}", "inventory.migrate") as url:
        conn = psycopg2.connect(url)
        conn.autocommit = True  # VACUUM cannot run in a transaction
        try:
            with conn.cursor() as cur:
                # Enough rows that a sequential scan is clearly the worse plan; VACUUM flushes the
                # GIN pending list so the planner sees the index as it is in steady state.
                cur.execute(
                    "INSERT INTO movies (title, director) "
                    "SELECT 'Movie number ' || n || ' ' || md5(n::text), 'D' FROM generate_series(1, 20000) n"
                )
                cur.execute("VACUUM ANALYZE movies")
                cur.execute("EXPLAIN " + movies.SEARCH_SQL, (movies.search_pattern("ABCDEF12"), 20, 0))
                plan = "\n".join(row[0] for row in cur.fetchall())
        finally:
            conn.close()
    assert "movies_title_trgm" in plan, plan
