"""`python -m common.provision`: create an application's login role and database (idempotent).

Env: ADMIN_DATABASE_URL (the master user; password via PGPASSWORD), APP_DATABASE_URL (the role,
host and database to create, e.g. postgresql://inventory@host:5432/inventory), APP_DB_PASSWORD
(the role's password; omitted locally where auth is trust). Any failure prints one line and
exits non-zero.
"""

from __future__ import annotations

import sys
from urllib.parse import unquote, urlsplit

import psycopg2
from psycopg2 import sql

from common import config

SETTINGS = (
    config.Setting(
        "ADMIN_DATABASE_URL",
        True,
        None,
        config.parse_url(("postgresql", "postgres")),
        "URL of a user allowed to create roles and databases (password via PGPASSWORD)",
    ),
    config.Setting(
        "APP_DATABASE_URL",
        True,
        None,
        config.parse_url(("postgresql", "postgres")),
        "URL naming the role (user) and database to create",
    ),
    config.Setting("APP_DB_PASSWORD", False, None, str, "password to set on the role (omit for trust auth)"),
)


def role_and_database(app_url: str) -> tuple[str, str]:
    parts = urlsplit(app_url)
    role = unquote(parts.username or "")
    database = unquote(parts.path.lstrip("/"))
    if not role:
        raise config.ConfigError("APP_DATABASE_URL: must name the role as the URL's user")
    if not database:
        raise config.ConfigError("APP_DATABASE_URL: must name the database as the URL's path")
    return role, database


def provision(admin_url: str, role: str, database: str, password: str | None) -> list[str]:
    """Create what is missing; return what was done (empty when nothing was needed)."""
    done = []
    conn = psycopg2.connect(admin_url, connect_timeout=10)
    conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
                done.append(f"created role {role}")
            if password:
                cur.execute(sql.SQL("ALTER ROLE {} PASSWORD %s").format(sql.Identifier(role)), (password,))
                done.append(f"set password of role {role}")
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
            if cur.fetchone() is None:
                # A non-superuser master (RDS) must be a member of the role to give it a database.
                cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                superuser = cur.fetchone()
                if superuser is None or not superuser[0]:
                    cur.execute(sql.SQL("GRANT {} TO current_user").format(sql.Identifier(role)))
                cur.execute(
                    sql.SQL("CREATE DATABASE {} OWNER {}").format(
                        sql.Identifier(database), sql.Identifier(role)
                    )
                )
                done.append(f"created database {database}")
    finally:
        conn.close()
    return done


def main() -> None:
    values = config.load_or_exit(SETTINGS)
    try:
        role, database = role_and_database(values["APP_DATABASE_URL"])
        done = provision(values["ADMIN_DATABASE_URL"], role, database, values["APP_DB_PASSWORD"])
    except config.ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    except psycopg2.Error as exc:
        print(f"provision error: {str(exc).strip().splitlines()[0]}", file=sys.stderr, flush=True)
        raise SystemExit(1) from None
    print("; ".join(done) if done else f"role {role} and database {database} already exist")


if __name__ == "__main__":
    main()
