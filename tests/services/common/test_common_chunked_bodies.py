"""A body sent with `Transfer-Encoding: chunked` obeys MAX_BODY_BYTES (65536) as a
Content-Length body does: 413 JSON above it and nothing written, at the gateway and at each
service; below it, the whole body arrives. Raw chunked requests through http.client, against
the stack under real gunicorn."""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import servicekit

MAX_BODY_BYTES = 65536  # the services' default (common.config)
CHUNK = 4096


def chunks(body: bytes) -> Iterator[bytes]:
    for start in range(0, len(body), CHUNK):
        yield body[start : start + CHUNK]


def send_chunked(base_url: str, path: str, body: bytes) -> tuple[int, dict, dict]:
    """POST `body` chunked (no Content-Length); (status, headers, JSON answer)."""
    url = urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.request(
            "POST", path, body=chunks(body), headers={"Content-Type": "application/json"}, encode_chunked=True
        )
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), json.loads(response.read())
    finally:
        conn.close()


def valid_json_then_garbage(document: dict) -> bytes:
    """Valid JSON padded with whitespace to exactly MAX_BODY_BYTES, then garbage: a body cut at
    the limit would parse, so only a refusal shows that the limit was enforced."""
    head = json.dumps(document).encode()
    return head + b" " * (MAX_BODY_BYTES - len(head)) + b"garbage" * 1000


def movies_titled(stack, title: str) -> int:
    [(count,)] = servicekit.query(
        stack.inventory_db, "SELECT count(*) FROM movies WHERE title = %s", (title,)
    )
    return count


def orders_of(stack, user_id: int) -> int:
    [(count,)] = servicekit.query(
        stack.billing_db, "SELECT count(*) FROM orders WHERE user_id = %s", (user_id,)
    )
    return count


def unique_user() -> int:
    return uuid.uuid4().int % 2_000_000_000 + 1


TARGETS = {
    # name: (which process, path, kind of row the POST creates)
    "gateway movie": ("gateway", "/api/movies", "movie"),
    "inventory movie": ("inventory", "/movies", "movie"),
    "gateway order": ("gateway", "/api/orders", "order"),
    "billing order": ("billing", "/orders", "order"),
}


def document_and_counter(stack, kind: str):
    if kind == "movie":
        title = f"chunked {uuid.uuid4()}"
        return {"title": title, "director": "Chunk Ed"}, lambda: movies_titled(stack, title)
    user_id = unique_user()
    return {"user_id": user_id, "movie_id": 1, "price": "1.00"}, lambda: orders_of(stack, user_id)


@pytest.mark.parametrize("target", TARGETS.values(), ids=TARGETS.keys())
def test_oversized_chunked_body_is_413_json_and_creates_nothing(stack, target) -> None:
    process, path, kind = target
    document, count = document_and_counter(stack, kind)
    body = valid_json_then_garbage(document)
    status, headers, answer = send_chunked(getattr(stack, process).url, path, body)
    assert status == 413, answer
    assert headers["Content-Type"] == "application/json"
    assert answer["message"] == "request body too large" and answer["request_id"]
    assert count() == 0


@pytest.mark.parametrize("target", TARGETS.values(), ids=TARGETS.keys())
def test_chunked_body_within_the_limit_arrives_whole(stack, target) -> None:
    process, path, kind = target
    document, count = document_and_counter(stack, kind)
    if kind == "movie":  # a title near the end shows the body was not cut
        head = json.dumps({"director": document["director"], "title": document["title"]}).encode()
        body = b" " * (MAX_BODY_BYTES - len(head)) + head  # exactly the limit: still accepted
    else:
        body = json.dumps(document).encode()
    status, _, answer = send_chunked(getattr(stack, process).url, path, body)
    assert status == (201 if kind == "movie" else 202), answer
    assert count() == 1


def test_malformed_chunk_framing_is_400_json(stack) -> None:
    url = urlsplit(stack.inventory.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    try:
        conn.putrequest("POST", "/movies")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        conn.send(b"zz\r\n{}\r\n0\r\n\r\n")  # "zz" is not a hexadecimal chunk size
        response = conn.getresponse()
        answer = json.loads(response.read())
    finally:
        conn.close()
    assert response.status == 400, answer
    assert answer["message"] == "request body is not valid chunked encoding"
