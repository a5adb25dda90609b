"""Inventory's schema migrations, in order; applied by `python -m inventory.migrate`."""

MIGRATIONS = [
    (
        1,
        """
        CREATE TABLE movies (
            id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
            director text NOT NULL CHECK (length(director) BETWEEN 1 AND 200),
            created_at timestamptz NOT NULL DEFAULT now()
        )
        """,
    ),
    (
        2,
        # Case-insensitive substring search (ILIKE '%x%') can use a trigram GIN index;
        # pg_trgm is a trusted extension, so the database owner may create it.
        """
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
        CREATE INDEX movies_title_trgm ON movies USING gin (title gin_trgm_ops);
        """,
    ),
]
