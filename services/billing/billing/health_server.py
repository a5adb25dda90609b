"""The worker's tiny HTTP server: /health, /ready and /metrics on PORT (stdlib, not gunicorn)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from common import metrics, readiness
from common.readiness import ReadyCheck

log = logging.getLogger("billing.health_server")


def make_handler(service: str, ready_checks: Mapping[str, ReadyCheck]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = service
        sys_version = ""

        def do_GET(self) -> None:  # noqa: N802 - the stdlib's naming
            path = self.path.split("?", 1)[0]
            if path == "/health":
                self._json(200, {"status": "ok", "service": service})
            elif path == "/ready":
                failing = readiness.failing(ready_checks)
                if failing:
                    self._json(
                        503,
                        {
                            "error": "Service Unavailable",
                            "failing": failing,
                            "message": f"not ready: {', '.join(failing)} unavailable",
                        },
                    )
                else:
                    self._json(200, {"status": "ready", "checks": {name: "ok" for name in ready_checks}})
            elif path == "/metrics":
                body, content_type = metrics.render()
                self._send(200, body, content_type)
            else:
                self._json(404, {"error": "Not Found", "message": "no such route"})

        def _method_not_allowed(self) -> None:
            self._json(
                405,
                {"error": "Method Not Allowed", "message": f"method {self.command} not allowed"},
                {"Allow": "GET"},
            )

        do_POST = do_PUT = do_DELETE = do_PATCH = _method_not_allowed  # noqa: N815

        def _json(self, status: int, payload: dict, headers: Mapping[str, str] | None = None) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json", headers)

        def _send(
            self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - probes would flood the log
            log.debug(format, *args)

    return Handler


def start(port: int, service: str, ready_checks: Mapping[str, ReadyCheck]) -> ThreadingHTTPServer:
    """Serve in a daemon thread; call .shutdown() to stop."""
    server = ThreadingHTTPServer(("0.0.0.0", port), make_handler(service, ready_checks))  # noqa: S104 - pod port
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="health-server", daemon=True).start()
    return server
