"""A local HTTP server standing in for GitLab's REST API (there is no GitLab here).

It answers only the routes a test scripts, records every request python-gitlab sends, and answers
404 to anything unscripted, so a test sees exactly which calls were made, in which order, with
which headers and bodies.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TOKEN = "glpat-test-token"  # a made-up token the tests expect in every request; no real secret


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: object


@dataclass
class FakeGitLab:
    url: str = ""
    routes: dict[tuple[str, str], list[tuple[int, object, dict]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)

    def reply(
        self, method: str, path: str, body: object, status: int = 200, headers: dict | None = None
    ) -> None:
        """Queue an answer for METHOD PATH (path without the query). Queued answers are used in order;
        the last one repeats."""
        self.routes.setdefault((method, path), []).append((status, body, headers or {}))

    def calls(self, method: str | None = None) -> list[tuple[str, str]]:
        return [(r.method, r.path) for r in self.requests if method in (None, r.method)]

    def _answer(self, method: str, path: str) -> tuple[int, object, dict]:
        queue = self.routes.get((method, path))
        if not queue:
            return 404, {"message": f"404 unscripted {method} {path}"}, {}
        return queue.pop(0) if len(queue) > 1 else queue[0]


def _handler(fake: FakeGitLab):
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode()
            fake.requests.append(
                Recorded(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
            )
            status, answer, headers = fake._answer(self.command, parts.path)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value.replace("{url}", fake.url))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *args) -> None:  # keep pytest output clean
            pass

    return Handler


def start() -> tuple[FakeGitLab, ThreadingHTTPServer]:
    fake = FakeGitLab()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return fake, server
