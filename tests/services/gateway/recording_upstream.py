"""A stand-in upstream for gateway tests that a real service cannot play: it records exactly what
the gateway sent (headers, body) and answers with whatever the test asks (extra headers, delay).
Everything else in the gateway tests talks to the real inventory and billing."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Script:
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b'{"status": "ok"}'
    delay: float = 0.0


@dataclass
class Received:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


class RecordingUpstream:
    def __init__(self) -> None:
        self.script = Script()
        self.received: list[Received] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                upstream.received.append(Received(self.command, self.path, list(self.headers.items()), body))
                script = upstream.script
                if script.delay:
                    time.sleep(script.delay)
                self.send_response(script.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(script.body)))
                for name, value in script.headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(script.body)

            do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815

            def log_message(self, *_args) -> None:  # keep pytest output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> RecordingUpstream:
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def last_headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.received[-1].headers}
