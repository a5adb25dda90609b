"""billing.movies.Catalogue trusts a movie inventory confirmed for KNOWN_SECONDS, never a 404.
Inventory here is a stand-in HTTP server that counts the questions (movie 1 exists, 2 does not)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from billing.movies import Catalogue


class InventoryStandIn(BaseHTTPRequestHandler):
    asked: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        InventoryStandIn.asked.append(self.path)
        found = self.path == "/movies/1"
        body = json.dumps({"id": 1} if found else {"error": "not_found", "message": "movie 2 not found"})
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def inventory() -> Iterator[str]:
    InventoryStandIn.asked = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), InventoryStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_known_movie_is_not_asked_again_until_its_time_is_up(inventory: str) -> None:
    now = [1000.0]
    catalogue = Catalogue(inventory, known_seconds=60, clock=lambda: now[0])
    assert catalogue.missing([1, 2]) == {2}
    assert InventoryStandIn.asked == ["/movies/1", "/movies/2"]
    now[0] += 59
    assert catalogue.missing([1, 2, 1]) == {2}  # only the unknown one is asked again
    assert InventoryStandIn.asked[2:] == ["/movies/2"]
    now[0] += 2  # 61 s after the first answer
    assert catalogue.missing([1]) == set()
    assert InventoryStandIn.asked[3:] == ["/movies/1"]


def test_without_a_window_every_batch_asks(inventory: str) -> None:
    catalogue = Catalogue(inventory, known_seconds=0)
    catalogue.missing([1])
    catalogue.missing([1])
    assert InventoryStandIn.asked == ["/movies/1", "/movies/1"]
