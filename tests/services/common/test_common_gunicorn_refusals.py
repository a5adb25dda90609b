"""gunicorn's own refusals (common.gunicorn_worker) under real gunicorn: a request line or headers
past gunicorn's limits answer the JSON error contract, and the server goes on serving."""

from __future__ import annotations

import json
import socket
from urllib.parse import urlsplit

import pytest
import requests

# gunicorn's defaults: limit_request_line 4094, limit_request_field_size 8190, limit_request_fields 100.
LONG_PATH = "/movies?title=" + "x" * 5000
REFUSED = [
    pytest.param(
        f"GET {LONG_PATH} HTTP/1.1\r\nHost: t\r\n\r\n", 414, "Request-URI Too Long", id="request-line"
    ),
    pytest.param(
        "GET /movies HTTP/1.1\r\nHost: t\r\nX-Big: " + "y" * 9000 + "\r\n\r\n",
        431,
        "Request Header Fields Too Large",
        id="one-header-too-large",
    ),
    pytest.param(
        "GET /movies HTTP/1.1\r\nHost: t\r\n" + "".join(f"X-N{n}: 1\r\n" for n in range(150)) + "\r\n",
        431,
        "Request Header Fields Too Large",
        id="too-many-headers",
    ),
]


def exchange(url: str, raw: str) -> tuple[str, dict[str, str], bytes]:
    """Send `raw` as it is; return the status line, headers and body of the answer."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(raw.encode("latin-1"))
        answer = b""
        while chunk := sock.recv(65536):  # gunicorn closes the connection after a refusal
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (h.partition(":") for h in header_lines)}
    return status_line, headers, body


@pytest.mark.parametrize(("raw", "status", "reason"), REFUSED)
def test_a_refusal_by_gunicorn_answers_the_json_error_contract(
    inventory_service, raw: str, status: int, reason: str
) -> None:
    status_line, headers, body = exchange(inventory_service.url, raw)
    assert status_line == f"HTTP/1.1 {status} {reason}"
    assert headers["content-type"] == "application/json"
    assert int(headers["content-length"]) == len(body)
    document = json.loads(body)
    assert set(document) == {"error", "message", "request_id"}
    assert document["error"] == reason and document["message"]
    assert document["request_id"] == headers["x-request-id"] and len(document["request_id"]) == 32
    assert requests.get(f"{inventory_service.url}/movies?limit=1", timeout=5).status_code == 200


def test_other_malformed_requests_keep_gunicorn_s_own_answer(inventory_service) -> None:
    """Only the two refusals above are ours; a bad request line stays gunicorn's 400."""
    status_line, _, _ = exchange(inventory_service.url, "NOT A REQUEST\r\n\r\n")
    assert status_line.startswith("HTTP/1.1 400 ")
