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
    chunked: bool = False  # send the body with Transfer-Encoding: chunked, in two chunks
    close_after: bool = False  # close the connection after answering, without saying so first
    raw: bytes | None = None  # send these bytes instead of an HTTP answer, then close


@dataclass
class Received:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    peer_port: int  # the client's port: the same port means the same connection


class RecordingUpstream:
    def __init__(self) -> None:
        self.script = Script()
        self.received: list[Received] = []
        self._closed_ports: set[int] = set()  # client ports of the connections the upstream closed
        self._closing = threading.Condition()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                upstream.received.append(
                    Received(
                        self.command, self.path, list(self.headers.items()), body, self.client_address[1]
                    )
                )
                script = upstream.script
                if script.delay:
                    time.sleep(script.delay)
                if script.raw is not None:
                    self.wfile.write(script.raw)
                    self.close_connection = True
                    return
                self.send_response(script.status)
                self.send_header("Content-Type", "application/json")
                if script.chunked:
                    self.send_header("Transfer-Encoding", "chunked")
                else:
                    self.send_header("Content-Length", str(len(script.body)))
                for name, value in script.headers:
                    self.send_header(name, value)
                self.end_headers()
                if script.chunked:
                    half = len(script.body) // 2
                    for chunk in (script.body[:half], script.body[half:], b""):
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                elif self.command != "HEAD":
                    self.wfile.write(script.body)
                self.close_connection = script.close_after

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815

            def log_message(self, *_args) -> None:  # keep pytest output clean
                pass

        class Server(ThreadingHTTPServer):
            def process_request_thread(self, request, client_address) -> None:
                try:
                    super().process_request_thread(request, client_address)  # ends by closing it
                finally:
                    with upstream._closing:
                        upstream._closed_ports.add(client_address[1])
                        upstream._closing.notify_all()

        self.server = Server(("127.0.0.1", 0), Handler)
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

    def wait_closed(self, peer_port: int, timeout: float) -> bool:
        """Wait until the upstream has closed its connection from `peer_port`."""
        with self._closing:
            return self._closing.wait_for(lambda: peer_port in self._closed_ports, timeout)

    def last_headers(self) -> dict[str, str]:
        return {name.lower(): value for name, value in self.received[-1].headers}
