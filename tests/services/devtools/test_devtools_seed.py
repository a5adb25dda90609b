"""`make dev`'s seed step: about 20 movies, inserted once however often it runs."""

from __future__ import annotations

import servicekit
from devtools import seed_movies


def seed_rows(database_url: str) -> list[int]:
    """How many rows each sample movie has, in MOVIES order."""
    return [
        servicekit.query(
            database_url, "SELECT count(*) FROM movies WHERE title = %s AND director = %s", movie
        )[0][0]
        for movie in seed_movies.MOVIES
    ]


def test_seed_inserts_the_sample_movies_once(inventory_db) -> None:
    already = sum(1 for n in seed_rows(inventory_db) if n)  # other tests may have added e.g. Alien
    first = seed_movies.seed(inventory_db)
    second = seed_movies.seed(inventory_db)
    assert 15 <= len(seed_movies.MOVIES) <= 25
    assert first == len(seed_movies.MOVIES) - already
    assert second == 0
    assert all(n >= 1 for n in seed_rows(inventory_db))
