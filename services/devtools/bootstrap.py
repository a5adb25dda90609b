"""`python -m devtools.bootstrap` (run by `make dev`): create the local roles and databases,
migrate them and seed the sample movies, each step with the same command a cluster runs."""

from __future__ import annotations

import os
import subprocess
import sys

from devtools import local, seed_movies

MIGRATIONS = {"inventory": "inventory.migrate", "billing": "billing.migrate"}


def run(args: list[str], env: dict[str, str], cwd: os.PathLike) -> None:
    done = subprocess.run(args, env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"bootstrap: {' '.join(args)} failed: {done.stderr.strip()}", file=sys.stderr)
        raise SystemExit(1)


def main() -> None:
    for service, database in local.DATABASES.items():
        url = local.database_url(database)
        run(
            [sys.executable, "-m", "common.provision"],
            {"ADMIN_DATABASE_URL": local.PG_ADMIN_URL, "APP_DATABASE_URL": url},
            local.SERVICES_DIR,
        )
        run([sys.executable, "-m", MIGRATIONS[service]], {"DATABASE_URL": url}, local.SERVICES_DIR / service)
        print(f"bootstrap: database {database} ready and migrated")
    added = seed_movies.seed(local.database_url(local.DATABASES["inventory"]))
    print(f"bootstrap: {added} sample movies added ({len(seed_movies.MOVIES) - added} already there)")


if __name__ == "__main__":
    main()
