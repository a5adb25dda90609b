"""Sample movies for local development, inserted once (re-running adds nothing)."""

from __future__ import annotations

import psycopg2

MOVIES = [
    ("Metropolis", "Fritz Lang"),
    ("M", "Fritz Lang"),
    ("Casablanca", "Michael Curtiz"),
    ("Rashomon", "Akira Kurosawa"),
    ("Seven Samurai", "Akira Kurosawa"),
    ("Vertigo", "Alfred Hitchcock"),
    ("Psycho", "Alfred Hitchcock"),
    ("La Dolce Vita", "Federico Fellini"),
    ("8½", "Federico Fellini"),
    ("2001: A Space Odyssey", "Stanley Kubrick"),
    ("The Godfather", "Francis Ford Coppola"),
    ("Solaris", "Andrei Tarkovsky"),
    ("Stalker", "Andrei Tarkovsky"),
    ("Alien", "Ridley Scott"),
    ("Blade Runner", "Ridley Scott"),
    ("Paris, Texas", "Wim Wenders"),
    ("Spirited Away", "Hayao Miyazaki"),
    ("In the Mood for Love", "Wong Kar-wai"),
    ("Amélie", "Jean-Pierre Jeunet"),
    ("Parasite", "Bong Joon-ho"),
]

_INSERT_MISSING = """
INSERT INTO movies (title, director)
SELECT %(title)s, %(director)s
WHERE NOT EXISTS (SELECT 1 FROM movies WHERE title = %(title)s AND director = %(director)s)
"""


def seed(database_url: str) -> int:
    """Insert the sample movies that are not there yet; return how many were inserted."""
    conn = psycopg2.connect(database_url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("LOCK TABLE movies IN SHARE ROW EXCLUSIVE MODE")  # two seeds at once stay single
            inserted = 0
            for title, director in MOVIES:
                cur.execute(_INSERT_MISSING, {"title": title, "director": director})
                inserted += cur.rowcount
        return inserted
    finally:
        conn.close()
