"""`python -m inventory.migrate`: bring the inventory schema up to date (idempotent)."""

from common import migrations

from inventory.schema import MIGRATIONS

if __name__ == "__main__":
    migrations.main("inventory", MIGRATIONS)
