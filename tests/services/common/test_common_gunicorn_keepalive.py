"""Connections stay open between requests (common.gunicorn_base: gthread, keepalive), under real
gunicorn: the ALB and the gateway's pools reuse them instead of connecting per request."""

from __future__ import annotations

import http.client
import time
from urllib.parse import urlsplit

GUNICORN_DEFAULT_KEEPALIVE_SECONDS = 2


def test_an_idle_connection_carries_the_next_request(inventory_service) -> None:
    parts = urlsplit(inventory_service.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        for pause in (0, GUNICORN_DEFAULT_KEEPALIVE_SECONDS + 1):  # idle past gunicorn's default
            time.sleep(pause)
            connection.request("GET", "/health")
            response = connection.getresponse()
            response.read()
            assert response.status == 200
            assert response.getheader("Connection", "").lower() != "close"
            if pause == 0:
                first_socket = connection.sock
        # http.client reconnects only when it closed the socket itself: the same one carried both.
        assert connection.sock is first_socket
    finally:
        connection.close()
