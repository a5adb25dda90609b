"""Shared runtime behaviour under real gunicorn and PostgreSQL: metrics across workers, pool recovery."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg2
import pytest
import requests
import servicekit
from common.db import Database, connect
from common.errors import DatabaseUnavailable


def metric_value(text: str, name: str, labels: str) -> float:
    match = re.search(rf"^{re.escape(name)}\{{{re.escape(labels)}\}} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{{{labels}}} not in /metrics"
    return float(match.group(1))


def terminate_backends(role: str) -> int:
    """Kill every server process of `role` (as a PostgreSQL restart does) and wait until gone."""
    conn = psycopg2.connect(servicekit.PG_ADMIN_URL)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = %s", (role,)
            )
            killed = cur.fetchone()[0]
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE usename = %s", (role,))
                if cur.fetchone()[0] == 0:
                    break
                time.sleep(0.05)
        time.sleep(0.5)  # a backend leaves pg_stat_activity a moment before its socket closes
        return killed
    finally:
        conn.close()


def test_request_counts_are_exact_across_gunicorn_workers(start_service, inventory_db) -> None:
    inventory = start_service("inventory", {"DATABASE_URL": inventory_db, "GUNICORN_WORKERS": "4"})
    requests_sent = 300

    def hit(_: int) -> int:
        return requests.get(f"{inventory.url}/movies/2147483000", timeout=10).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(hit, range(requests_sent)))
    assert statuses == [404] * requests_sent
    # Whichever worker answers the scrape, the figure is the sum over all four.
    for _ in range(4):
        text = requests.get(f"{inventory.url}/metrics", timeout=10).text
        labels = 'method="GET",route="/movies/<movie_id>",status="404"'
        assert metric_value(text, "http_requests_total", labels) == requests_sent
        assert metric_value(text, "http_request_duration_seconds_count", labels) == requests_sent


def test_pool_replaces_connections_the_server_killed(inventory_db) -> None:
    db = Database(inventory_db)
    try:
        db.ping()
        role = inventory_db.rsplit("/", 1)[1]
        assert terminate_backends(role) >= 1
        db.ping()  # the dead pooled connection is noticed and replaced, no error
        with db.transaction() as cur:
            cur.execute("SELECT count(*) AS n FROM movies")
            assert cur.fetchone()["n"] >= 0
    finally:
        db.close()


def test_service_recovers_after_its_connections_are_killed(inventory_service, inventory_db) -> None:
    url = f"{inventory_service.url}/movies"
    assert all(requests.get(url, timeout=5).status_code == 200 for _ in range(10))
    assert terminate_backends(inventory_db.rsplit("/", 1)[1]) >= 1
    assert [requests.get(url, timeout=5).status_code for _ in range(10)] == [200] * 10


def test_unreachable_database_is_503_json_and_not_ready(start_service) -> None:
    closed = f"postgresql://nobody@127.0.0.1:{servicekit.free_port()}/none"
    with pytest.raises(DatabaseUnavailable):
        Database(closed).ping()
    inventory = start_service("inventory", {"DATABASE_URL": closed})
    response = requests.get(f"{inventory.url}/movies", timeout=10)
    assert response.status_code == 503
    assert response.json()["message"] == "database unavailable, retry later"
    ready = requests.get(f"{inventory.url}/ready", timeout=10)
    assert ready.status_code == 503 and ready.json()["failing"] == ["database"]


def test_connections_plan_prepared_statements_once_and_keep_the_dsn_options(inventory_db) -> None:
    separator = "&" if "?" in inventory_db else "?"
    with_options = f"{inventory_db}{separator}options=-c%20statement_timeout%3D4321"
    for dsn, timeout in ((inventory_db, "0"), (with_options, "4321ms")):
        conn = connect(dsn)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT current_setting('plan_cache_mode'), current_setting('statement_timeout')")
                plan_cache_mode, statement_timeout = cur.fetchone()
        finally:
            conn.close()
        assert (plan_cache_mode, statement_timeout) == ("force_generic_plan", timeout)
