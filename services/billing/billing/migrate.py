"""`python -m billing.migrate`: bring the billing schema up to date (idempotent)."""

from common import migrations

from billing.schema import MIGRATIONS

if __name__ == "__main__":
    migrations.main("billing", MIGRATIONS)
