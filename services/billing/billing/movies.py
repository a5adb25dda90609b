"""The worker's question to inventory: which of these movies do not exist?

Asked by the worker, not by the API, so that accepting an order (202) never waits for inventory
and never fails because inventory is down. `GET <inventory>/movies/<id>`: 200 means the movie
exists, 404 that it does not (the order is then rejected). Any other answer, a timeout or a
refused connection means inventory cannot tell now: InventoryUnavailable, and the consumer puts
the orders back on the queue untouched, as for a PostgreSQL outage.

A movie inventory confirmed is trusted for KNOWN_SECONDS: under load nearly every order names a
movie some recent order named, so the worker asks inventory a few times a minute per movie, not
once per order (docs/benchmarks.md measured the per-order question at about a third of the POST
path's CPU). The price: an order for a movie deleted within that minute is still charged. A 404
is never cached, so a movie created a moment ago is found at once.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

# Seconds for one connect or one answer; the batch waits at most this long per movie.
TIMEOUT_SECONDS = 2.0
# How long a movie inventory said exists is taken to exist without asking again.
KNOWN_SECONDS = 60.0


class InventoryUnavailable(Exception):
    """Inventory did not say whether a movie exists."""


class Catalogue:
    def __init__(
        self,
        inventory_url: str,
        timeout: float = TIMEOUT_SECONDS,
        known_seconds: float = KNOWN_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        url = urlsplit(inventory_url)
        self._host = url.hostname or "localhost"
        self._port = url.port or (443 if url.scheme == "https" else 80)
        self._https = url.scheme == "https"
        self._prefix = url.path.rstrip("/")
        self._timeout = timeout
        self._known_seconds = known_seconds
        self._clock = clock
        self._known_until: dict[int, float] = {}  # movie id -> until when it is taken to exist

    def missing(self, movie_ids: Iterable[int]) -> set[int]:
        """The ids among `movie_ids` that inventory does not know; InventoryUnavailable when it
        cannot answer. One connection per call, kept alive across its movies."""
        now = self._clock()
        wanted = sorted(m for m in set(movie_ids) if self._known_until.get(m, 0.0) <= now)
        if not wanted:
            return set()
        conn = self._connect()
        try:
            missing = {movie_id for movie_id in wanted if self._status(conn, f"/movies/{movie_id}") == 404}
        finally:
            conn.close()
        for movie_id in set(wanted) - missing:
            self._known_until[movie_id] = now + self._known_seconds
        return missing

    def ping(self) -> None:
        """InventoryUnavailable unless inventory's /health answers 200."""
        conn = self._connect()
        try:
            self._status(conn, "/health")
        finally:
            conn.close()

    def _connect(self) -> http.client.HTTPConnection:
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return kind(self._host, self._port, timeout=self._timeout)

    def _status(self, conn: http.client.HTTPConnection, path: str) -> int:
        try:
            conn.request("GET", self._prefix + path, headers={"Accept": "application/json"})
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise InventoryUnavailable(f"inventory: {type(exc).__name__}: {exc}") from exc
        if response.status == 404 and _is_unknown_route(body):
            # A wrong INVENTORY_URL must not reject every order as "movie not found".
            raise InventoryUnavailable(f"inventory has no route GET {self._prefix + path}")
        if response.status not in (200, 404) or (path == "/health" and response.status != 200):
            raise InventoryUnavailable(f"inventory answered {response.status} to GET {path}")
        return response.status


def _is_unknown_route(body: bytes) -> bool:
    """common.web's 404 for a path no route matches (a missing movie's 404 names the movie)."""
    try:
        return json.loads(body).get("message") == "no such route"
    except (ValueError, AttributeError):
        return True  # not our services' JSON error: not an answer about the movie either
