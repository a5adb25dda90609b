"""The gateway's HTTP client (api_gateway.upstream, urllib3) on real sockets.

The upstream is the recording stand-in, because only a scripted upstream can close a kept-alive
connection, answer in chunks or answer garbage on demand. The last two are also checked
through the real gateway under gunicorn.
"""

from __future__ import annotations

import pytest
import requests
import servicekit
from api_gateway.upstream import Timeout, Upstreams
from common.errors import ApiError
from recording_upstream import Script


@pytest.fixture(autouse=True)
def reset_recorder(recorder):
    recorder.script = Script()
    recorder.received.clear()


@pytest.fixture
def upstreams(recorder) -> Upstreams:
    return Upstreams({"inventory": recorder.url}, connect_timeout=1, read_timeout=2)


def test_connections_are_kept_alive_and_reused(upstreams, recorder) -> None:
    for _ in range(3):
        assert upstreams.request("inventory", "GET", "/movies", {}).status == 200
    assert len({r.peer_port for r in recorder.received}) == 1
    assert recorder.last_headers()["host"] == recorder.url.removeprefix("http://")


def test_a_connection_the_upstream_closed_while_idle_is_replaced(upstreams, recorder) -> None:
    recorder.script = Script(close_after=True)  # closes without a `Connection: close` header
    assert upstreams.request("inventory", "GET", "/movies", {}).status == 200
    assert recorder.wait_closed(recorder.received[0].peer_port, 5)  # the pooled one is now closed
    recorder.script = Script()
    answer = upstreams.request("inventory", "GET", "/movies", {})
    assert answer.status == 200
    first, second = (r.peer_port for r in recorder.received)
    assert first != second


def test_a_failed_exchange_is_not_pooled(upstreams, recorder) -> None:
    recorder.script = Script(raw=b"NOT HTTP AT ALL\r\n\r\n")
    with pytest.raises(ApiError) as failed:
        upstreams.request("inventory", "GET", "/movies", {})
    assert (failed.value.status, failed.value.message) == (502, "inventory failed to answer")
    recorder.script = Script()
    assert upstreams.request("inventory", "GET", "/movies", {}).status == 200


def test_a_post_body_and_its_length_are_sent(upstreams, recorder) -> None:
    answer = upstreams.request(
        "inventory", "POST", "/movies", {"Content-Type": "application/json"}, b'{"a": 1}'
    )
    assert answer.status == 200
    assert recorder.received[-1].body == b'{"a": 1}'
    assert recorder.last_headers()["content-length"] == "8"


def test_a_slow_answer_is_504_not_resent_and_its_connection_not_reused(upstreams, recorder) -> None:
    recorder.script = Script(delay=0.6, body=b'"late"')
    with pytest.raises(ApiError) as failed:
        upstreams.request("inventory", "GET", "/movies", {}, timeout=Timeout(connect=1, read=0.2))
    assert (failed.value.status, failed.value.message) == (504, "inventory did not answer in time")
    assert len(recorder.received) == 1
    # The late answer still arrives on that connection; a reused one would hand it to the next request.
    recorder.script = Script(body=b'"fresh"')
    assert upstreams.request("inventory", "GET", "/movies", {}).body == b'"fresh"'


def test_a_refused_connect_is_502_unavailable(recorder) -> None:
    closed = Upstreams({"billing": f"http://127.0.0.1:{servicekit.free_port()}"}, 1, 2)
    with pytest.raises(ApiError) as failed:
        closed.request("billing", "POST", "/orders", {}, b"{}")
    assert (failed.value.status, failed.value.message) == (502, "billing is unavailable")


def test_a_post_whose_answer_is_cut_short_is_not_resent(upstreams, recorder) -> None:
    recorder.script = Script(raw=b"")  # reads the request, then closes without answering
    with pytest.raises(ApiError) as failed:
        upstreams.request("inventory", "POST", "/movies", {}, b'{"a": 1}')
    assert (failed.value.status, failed.value.message) == (502, "inventory failed to answer")
    assert len(recorder.received) == 1


def test_a_base_url_path_prefixes_every_request(recorder) -> None:
    below = Upstreams({"inventory": f"{recorder.url}/inventory/"}, 1, 2)
    assert below.request("inventory", "GET", "/movies?limit=1", {}).status == 200
    assert recorder.received[-1].path == "/inventory/movies?limit=1"


def test_a_chunked_answer_is_relayed_whole_through_the_gateway(gateway_to_recorder, recorder) -> None:
    body = b'{"items": [], "limit": 20, "offset": 0}'
    recorder.script = Script(body=body, chunked=True)
    response = requests.get(f"{gateway_to_recorder.url}/api/movies", timeout=5)
    assert response.status_code == 200
    assert response.content == body
    assert response.headers["Content-Length"] == str(len(body))
    assert "Transfer-Encoding" not in response.headers


def test_a_garbage_answer_is_502_through_the_gateway(gateway_to_recorder, recorder) -> None:
    recorder.script = Script(raw=b"HTTP/1.1 banana\r\n\r\n")
    response = requests.get(f"{gateway_to_recorder.url}/api/movies", timeout=5)
    assert response.status_code == 502
    assert response.json()["message"] == "inventory failed to answer"


def test_a_head_answer_keeps_the_length_a_get_would_have(gateway_to_recorder, recorder) -> None:
    recorder.script = Script(body=b'{"items": []}')
    response = requests.head(f"{gateway_to_recorder.url}/api/movies", timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Length"] == "13"
    assert recorder.received[-1].method == "HEAD"
