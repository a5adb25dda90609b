"""Movie storage: SQL for the movies table (one place), returning plain dicts.

Every operation is one statement, so each runs as its own transaction (Database.statement).
"""

from __future__ import annotations

from typing import Any

from common.db import Database

_COLUMNS = "id, title, director, created_at"
# Case-insensitive substring search; served by the trigram index movies_title_trgm.
SEARCH_SQL = f"SELECT {_COLUMNS} FROM movies WHERE title ILIKE %s ORDER BY id LIMIT %s OFFSET %s"  # noqa: S608
LIST_SQL = f"SELECT {_COLUMNS} FROM movies ORDER BY id LIMIT %s OFFSET %s"  # noqa: S608


def search_pattern(term: str) -> str:
    return f"%{_escape_like(term)}%"


def _escape_like(term: str) -> str:
    """Make % and _ in a search term match themselves."""
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def to_json(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "created_at": row["created_at"].isoformat()}


def list_movies(db: Database, title: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    with db.statement() as cur:
        if title:
            cur.execute(SEARCH_SQL, (search_pattern(title), limit, offset))
        else:
            cur.execute(LIST_SQL, (limit, offset))
        return [to_json(row) for row in cur.fetchall()]


def get_movie(db: Database, movie_id: int) -> dict[str, Any] | None:
    with db.statement() as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM movies WHERE id = %s", (movie_id,))  # noqa: S608
        row = cur.fetchone()
    return to_json(row) if row else None


def create_movie(db: Database, title: str, director: str) -> dict[str, Any]:
    with db.statement() as cur:
        cur.execute(
            f"INSERT INTO movies (title, director) VALUES (%s, %s) RETURNING {_COLUMNS}",  # noqa: S608
            (title, director),
        )
        return to_json(cur.fetchone())


def update_movie(db: Database, movie_id: int, title: str, director: str) -> dict[str, Any] | None:
    with db.statement() as cur:
        cur.execute(
            f"UPDATE movies SET title = %s, director = %s WHERE id = %s RETURNING {_COLUMNS}",  # noqa: S608
            (title, director, movie_id),
        )
        row = cur.fetchone()
    return to_json(row) if row else None


def delete_movie(db: Database, movie_id: int) -> bool:
    with db.statement() as cur:
        cur.execute("DELETE FROM movies WHERE id = %s", (movie_id,))
        return cur.rowcount == 1
