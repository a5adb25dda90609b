"""`make dev`'s seed step: about 20 movies, inserted once however often it runs."""

from __future__ import annotations

import servicekit

from devtools import seed_movies


def test_seed_inserts_the_sample_movies_once(inventory_db) -> None:
    count = "SELECT count(*) FROM movies WHERE director = %s AND title = %s"
    title, director = seed_movies.MOVIES[0]
    before = servicekit.query(inventory_db, count, (director, title))[0][0]
    first = seed_movies.seed(inventory_db)
    second = seed_movies.seed(inventory_db)
    assert 15 <= len(seed_movies.MOVIES) <= 25
    assert first == len(seed_movies.MOVIES) - before
    assert second == 0
    assert servicekit.query(inventory_db, count, (director, title))[0][0] == 1
