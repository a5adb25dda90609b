"""`python -m common.provision` and the migration runner, against the real PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import uuid

import psycopg2
import pytest
import servicekit
from inventory.schema import MIGRATIONS


def provision(env: dict) -> subprocess.CompletedProcess[str]:
    return servicekit.run_cli([sys.executable, "-m", "common.provision"], env)


@pytest.fixture
def scratch_name(run_id: str):
    name = f"scratch_t{run_id}_{uuid.uuid4().hex[:6]}"
    yield name
    servicekit.drop_database(name)


def test_provision_creates_then_changes_nothing_and_sets_password(scratch_name: str) -> None:
    env = {"ADMIN_DATABASE_URL": servicekit.PG_ADMIN_URL, "APP_DATABASE_URL": servicekit.pg_url(scratch_name)}
    first = provision(env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip() == f"created role {scratch_name}; created database {scratch_name}"
    again = provision(env)
    assert again.returncode == 0
    assert again.stdout.strip() == f"role {scratch_name} and database {scratch_name} already exist"
    with_password = provision({**env, "APP_DB_PASSWORD": "s3cret-for-test"})
    assert with_password.stdout.strip() == f"set password of role {scratch_name}"
    stored = servicekit.query(
        servicekit.PG_ADMIN_URL,
        "SELECT rolpassword IS NOT NULL FROM pg_authid WHERE rolname = %s",
        (scratch_name,),
    )
    assert stored == [(True,)]
    owner = servicekit.query(
        servicekit.PG_ADMIN_URL,
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
        (scratch_name,),
    )
    assert owner == [(scratch_name,)]
    assert "s3cret" not in with_password.stdout + with_password.stderr


@pytest.mark.parametrize(
    ("env", "code", "line"),
    [
        (
            {"ADMIN_DATABASE_URL": servicekit.PG_ADMIN_URL},
            2,
            "config error: APP_DATABASE_URL: is required but not set",
        ),
        (
            {"ADMIN_DATABASE_URL": servicekit.PG_ADMIN_URL, "APP_DATABASE_URL": "postgresql://127.0.0.1/db"},
            2,
            "config error: APP_DATABASE_URL: must name the role as the URL's user",
        ),
        (
            {
                "ADMIN_DATABASE_URL": servicekit.PG_ADMIN_URL,
                "APP_DATABASE_URL": "postgresql://role@127.0.0.1/",
            },
            2,
            "config error: APP_DATABASE_URL: must name the database as the URL's path",
        ),
        (
            {
                "ADMIN_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/postgres",
                "APP_DATABASE_URL": "postgresql://r@h/d",
            },
            1,
            "provision error: connection to server at",
        ),
    ],
)
def test_provision_errors_are_one_line(env: dict, code: int, line: str) -> None:
    done = provision(env)
    assert done.returncode == code
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith(line), done.stderr


def test_concurrent_migrations_apply_each_step_once(scratch_name: str) -> None:
    env = {"ADMIN_DATABASE_URL": servicekit.PG_ADMIN_URL, "APP_DATABASE_URL": servicekit.pg_url(scratch_name)}
    assert provision(env).returncode == 0
    url = servicekit.pg_url(scratch_name)
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "inventory.migrate"],
            cwd=servicekit.SERVICES / "inventory",
            env=servicekit.base_env({"DATABASE_URL": url}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [run.communicate(timeout=60) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], outputs
    applied = [out for out, _ in outputs if '"message": "migration applied"' in out]
    assert len(applied) == 1, "exactly one run applies the steps; the others wait for the lock"
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT version FROM schema_migrations ORDER BY version")
            assert [row[0] for row in cur.fetchall()] == [version for version, _ in MIGRATIONS]
    finally:
        conn.close()
