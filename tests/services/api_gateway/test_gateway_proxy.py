"""The gateway's proxying: request ids, hop-by-hop headers, 502/504, body limit, readiness."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
import servicekit
from recording_upstream import Script

HOP_BY_HOP = [
    "connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authorization",
]


@pytest.fixture(autouse=True)
def reset_recorder(recorder):
    recorder.script = Script()
    recorder.received.clear()


def test_request_id_is_generated_and_sent_upstream(gateway_to_recorder, recorder) -> None:
    response = requests.get(f"{gateway_to_recorder.url}/api/movies", timeout=5)
    assert response.status_code == 200
    generated = response.headers["X-Request-ID"]
    assert len(generated) == 32
    assert recorder.last_headers()["x-request-id"] == generated


def test_client_request_id_passes_through(gateway_to_recorder, recorder) -> None:
    sent = f"client-{uuid.uuid4()}"
    response = requests.get(
        f"{gateway_to_recorder.url}/api/movies", headers={"X-Request-ID": sent}, timeout=5
    )
    assert response.headers["X-Request-ID"] == sent
    assert recorder.last_headers()["x-request-id"] == sent


def test_insane_client_request_id_is_replaced(gateway_to_recorder, recorder) -> None:
    response = requests.get(
        f"{gateway_to_recorder.url}/api/movies", headers={"X-Request-ID": "bad id\twith junk" * 20}, timeout=5
    )
    assert response.headers["X-Request-ID"] != "bad id\twith junk" * 20
    assert recorder.last_headers()["x-request-id"] == response.headers["X-Request-ID"]


def test_hop_by_hop_headers_are_not_forwarded_upstream(gateway_to_recorder, recorder) -> None:
    requests.get(
        f"{gateway_to_recorder.url}/api/movies",
        headers={
            "Connection": "keep-alive, X-Secret-Hop",
            "Keep-Alive": "timeout=5",
            "TE": "trailers",
            "Trailer": "X-Checksum",
            "Upgrade": "websocket",
            "Proxy-Authorization": "Basic c2VjcmV0",
            "X-Secret-Hop": "named in Connection",
            "X-End-To-End": "kept",
        },
        timeout=5,
    )
    received = recorder.last_headers()
    assert received["x-end-to-end"] == "kept"
    for name in [*HOP_BY_HOP, "x-secret-hop"]:
        assert name not in received, name


def test_hop_by_hop_headers_are_not_returned_to_the_client(gateway_to_recorder, recorder) -> None:
    recorder.script = Script(
        headers=[
            ("Connection", "X-Upstream-Hop"),
            ("X-Upstream-Hop", "secret"),
            ("Proxy-Authenticate", "Basic"),
            ("Upgrade", "h2c"),
            ("X-Upstream-Kept", "yes"),
        ]
    )
    response = requests.get(f"{gateway_to_recorder.url}/api/movies", timeout=5)
    assert response.headers["X-Upstream-Kept"] == "yes"
    for name in ("X-Upstream-Hop", "Proxy-Authenticate", "Upgrade"):
        assert name not in response.headers, name


def test_location_is_rewritten_to_the_public_path(gateway_to_recorder, recorder) -> None:
    recorder.script = Script(status=201, headers=[("Location", "/movies/7")])
    response = requests.post(
        f"{gateway_to_recorder.url}/api/movies", json={"title": "t", "director": "d"}, timeout=5
    )
    assert response.status_code == 201
    assert response.headers["Location"] == "/api/movies/7"
    assert json.loads(recorder.received[-1].body) == {"title": "t", "director": "d"}


def test_slow_upstream_gives_504(gateway_to_recorder, recorder) -> None:
    recorder.script = Script(delay=1.5)
    response = requests.get(f"{gateway_to_recorder.url}/api/movies/1", timeout=5)
    assert response.status_code == 504
    assert response.json()["message"] == "inventory did not answer in time"
    assert len(recorder.received) == 1  # a GET that timed out is not retried behind the client's back


def test_oversized_body_is_413_and_never_forwarded(gateway_to_recorder, recorder) -> None:
    response = requests.post(
        f"{gateway_to_recorder.url}/api/movies",
        data=json.dumps({"title": "x" * 4000, "director": "d"}),
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert response.status_code == 413
    assert response.json()["error"] == "Request Entity Too Large"
    assert recorder.received == []


def test_down_upstream_gives_502_and_not_ready(start_service, recorder) -> None:
    closed = f"http://127.0.0.1:{servicekit.free_port()}"
    gateway = start_service("api-gateway", {"INVENTORY_URL": closed, "BILLING_URL": recorder.url})
    response = requests.get(f"{gateway.url}/api/movies", timeout=5)
    assert response.status_code == 502
    assert response.json()["message"] == "inventory is unavailable"
    ready = requests.get(f"{gateway.url}/ready", timeout=5)
    assert ready.status_code == 503
    assert ready.json()["failing"] == ["inventory"]
    assert requests.get(f"{gateway.url}/health", timeout=5).status_code == 200


def test_ready_when_both_upstreams_answer(gateway_to_recorder) -> None:
    response = requests.get(f"{gateway_to_recorder.url}/ready", timeout=5)
    assert response.status_code == 200
    assert response.json()["checks"] == {"inventory": "ok", "billing": "ok"}


def test_an_upstream_base_url_with_a_path_keeps_it(start_service, recorder) -> None:
    """INVENTORY_URL/BILLING_URL may name a path below a host (e.g. behind another proxy)."""
    gateway = start_service(
        "api-gateway", {"INVENTORY_URL": f"{recorder.url}/inv/", "BILLING_URL": f"{recorder.url}/bill"}
    )
    assert requests.get(f"{gateway.url}/api/movies", params={"title": "a b"}, timeout=5).status_code == 200
    assert requests.get(f"{gateway.url}/api/orders", params={"user_id": 3}, timeout=5).status_code == 200
    assert [r.path for r in recorder.received] == ["/inv/movies?title=a+b", "/bill/orders?user_id=3"]
