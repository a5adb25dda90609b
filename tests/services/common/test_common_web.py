"""common.web and common.jsonlog on an in-process Flask app: the behaviour every service shares."""

from __future__ import annotations

import json
import logging

import pytest
from common import jsonlog, validation
from common.errors import ApiError, DatabaseUnavailable
from common.web import create_base_app
from flask import jsonify


def failing_dependency() -> None:
    raise ConnectionError("refused")


@pytest.fixture
def app():
    app = create_base_app(
        "svc", {"MAX_BODY_BYTES": 200_000}, {"database": lambda: None, "broker": failing_dependency}
    )

    @app.post("/echo")
    def echo():
        return jsonify(validation.json_object())

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    @app.get("/db")
    def db():
        raise DatabaseUnavailable()

    @app.get("/teapot")
    def teapot():
        raise ApiError(418, "short and stout", field="pot")

    return app


@pytest.fixture
def client(app):
    return app.test_client()


def test_unhandled_error_is_generic_500_json_and_logged_with_traceback(client, caplog) -> None:
    with caplog.at_level(logging.ERROR):
        response = client.get("/boom")
    assert response.status_code == 500
    body = response.get_json()
    assert body["message"] == "internal error"
    assert "hunter2" not in response.get_data(as_text=True)
    record = next(r for r in caplog.records if r.message == "unhandled error")
    assert record.exc_info is not None and "hunter2" in str(record.exc_info[1])


def test_api_errors_carry_details_and_request_id(client) -> None:
    response = client.get("/teapot", headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 418
    assert response.get_json() == {
        "error": "I'm a Teapot",
        "message": "short and stout",
        "field": "pot",
        "request_id": "abc-123",
    }
    assert response.headers["X-Request-ID"] == "abc-123"


def test_database_unavailable_is_503_json(client) -> None:
    response = client.get("/db")
    assert response.status_code == 503
    assert response.get_json()["message"] == "database unavailable, retry later"


@pytest.mark.parametrize(
    ("path", "method", "status", "message"),
    [
        ("/nowhere", "GET", 404, "no such route"),
        ("/health", "DELETE", 405, "method DELETE not allowed on this route"),
    ],
)
def test_routing_errors_are_json(client, path, method, status, message) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    assert response.get_json()["message"] == message


def test_405_names_the_allowed_methods(client) -> None:
    assert "GET" in client.delete("/health").headers["Allow"]


@pytest.mark.parametrize(
    ("data", "content_type", "status", "message"),
    [
        (b'{"a": 1}', "text/plain", 415, "Content-Type must be application/json"),
        (b'{"a": 1', "application/json", 400, "request body is not valid JSON"),
        (b"[1, 2]", "application/json", 400, "request body must be a JSON object"),
        (b'{"a": "\xff"}', "application/json", 400, "request body is not valid UTF-8"),
        (b'{"a": NaN}', "application/json", 400, "request body is not valid JSON"),
        (b'{"a":' * 30_000, "application/json", 400, "request body is not valid JSON"),  # too deep
        (b"x" * 200_001, "application/json", 413, "request body too large"),
    ],
)
def test_json_body_errors(client, data, content_type, status, message) -> None:
    response = client.post("/echo", data=data, content_type=content_type)
    assert response.status_code == status
    assert response.get_json()["message"] == message


def test_ready_names_the_failing_dependency(client) -> None:
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.get_json()["failing"] == ["broker"]
    assert response.get_json()["message"] == "not ready: broker unavailable"


def test_request_ids_are_generated_and_sanitised(client) -> None:
    generated = client.get("/health").headers["X-Request-ID"]
    assert len(generated) == 32
    assert client.get("/health", headers={"X-Request-ID": "ok.id:1"}).headers["X-Request-ID"] == "ok.id:1"
    replaced = client.get("/health", headers={"X-Request-ID": "x" * 200}).headers["X-Request-ID"]
    assert replaced != "x" * 200 and len(replaced) == 32


def test_metrics_are_labelled_by_route_template(client) -> None:
    client.get("/nowhere/42")
    client.get("/teapot")
    client.open("/teapot", method="BREW")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{method="GET",route="<unmatched>",status="404"}' in text
    assert 'http_requests_total{method="GET",route="/teapot",status="418"}' in text
    assert "/nowhere/42" not in text
    assert 'http_requests_total{method="other",route="<unmatched>",status="405"}' in text
    assert "BREW" not in text


def test_json_log_lines_carry_service_request_id_and_extras(capsys) -> None:
    jsonlog.configure("svc", "INFO")
    token = jsonlog.request_id_var.set("rid-1")
    try:
        logging.getLogger("test").info("hello %s", "world", extra={"order_id": 7})
    finally:
        jsonlog.request_id_var.reset(token)
        logging.getLogger().handlers = []  # it writes to capsys's stdout, gone after this test
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert line["service"] == "svc" and line["message"] == "hello world"
    assert line["request_id"] == "rid-1" and line["order_id"] == 7 and line["level"] == "INFO"
    assert line["logger"] == "test" and line["ts"].endswith("+00:00")
